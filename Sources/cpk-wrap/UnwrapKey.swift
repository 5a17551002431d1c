import ArgumentParser
import CPKCLI
import CPKCrypto

struct UnwrapKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unwrap",
        abstract: "Unwrap a wrapped key with the private key; write the raw key to the named output.",
        discussion: """
            The input is a wrapped-key document, or the bare RSA block (raw or base64, e.g. from \
            openssl pkeyutl), whose padding --padding gives. A document names its key pair: a \
            different private key is refused before any decryption.
            """)

    @Argument(help: ArgumentHelp("The wrapped key; - is standard input.", valueName: "wrapped"), completion: .file())
    var input = "-"

    @Option(help: ArgumentHelp(
        "The private key (PEM or DER, or a pkcs11: URI); - is standard input, /dev/fd/N an open descriptor.", valueName: "file"), completion: .file())
    var key: String

    @OptionGroup var token: TokenOptions

    @Option(help: ArgumentHelp("Padding of a bare wrapped key (default oaep-sha256; a document records its own).", valueName: "padding"))
    var padding: KeyWrapPadding?

    @Option(name: .customLong("key-name"), help: ArgumentHelp("Refuse a document whose key name differs.", valueName: "name"))
    var name: String?

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Write the raw key to FILE (created 0600); - is standard output when it is not a terminal.", valueName: "file"), completion: .file())
    var output: String

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try WrapFrontend.unwrap(input: input, key: key, token: token, padding: padding, name: name, output: output)
    }
}
