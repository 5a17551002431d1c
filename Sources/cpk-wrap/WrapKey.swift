import ArgumentParser
import CPKCLI
import CPKCrypto
import CPKKeys

struct WrapKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wrap",
        abstract: "Wrap a symmetric key (from a file or standard input) to an RSA public key.")

    @Argument(help: ArgumentHelp("The raw symmetric key; - is standard input.", valueName: "key-file"), completion: .file())
    var input = "-"

    @Option(help: ArgumentHelp("The public key or certificate to wrap to, in any form; - is standard input.", valueName: "public-key"), completion: .file())
    var to: String

    @Option(name: .customLong("key-name"), help: ArgumentHelp("The key's name, recorded in the document (the application id).", valueName: "name"))
    var name: String?

    @Option(help: ArgumentHelp("oaep-sha256 or pkcs1v15 (the reference contract's).", valueName: "padding"))
    var padding = KeyWrapPadding.oaepSHA256

    @Option(help: ArgumentHelp("document (CBOR), raw (the RSA block) or base64.", valueName: "format"))
    var format = WrappedKeyFormat.document

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        if format == .document && name == nil {
            throw ValidationError("--key-name is required: the document records the key's name (e.g. --key-name test)")
        }
    }

    func run() throws {
        try WrapFrontend.wrap(input: input, to: to, name: name, padding: padding, format: format, output: output)
    }
}
