import ArgumentParser
import CPKCLI
import CPKCrypto
import CPKKeyfetchCLI
import CPKKeys

struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Write the named key, wrapped to a public key, as a wrapped-key document.")

    @Option(
        name: .customLong("key-name"), help: ArgumentHelp("The key's name: the application id, or a KBS resource URI.", valueName: "name"),
        completion: .custom(KeyNameCompletion.fromFileStore))
    var name: String

    @Option(help: ArgumentHelp("The public key or certificate to wrap to, in any form; - is standard input.", valueName: "public-key"), completion: .file())
    var to = "-"

    @OptionGroup var store: KeyStoreOptions

    @Option(help: ArgumentHelp("A base64 wrapped key you already hold (a file; - is standard input).", valueName: "file"), completion: .file())
    var inline: String?

    @Option(help: ArgumentHelp("A device-twin JSON document with confidential_package_keys (- is standard input).", valueName: "file"), completion: .file())
    var twin: String?

    @Option(help: ArgumentHelp(
        "oaep-sha256, or pkcs1v15: what the Package Manager (add-key), the reference key-store contract and "
            + "device twins use; for --inline and --twin, the padding the bytes were wrapped with.", valueName: "padding"))
    var padding = KeyWrapPadding.oaepSHA256

    @Option(help: ArgumentHelp("document (CBOR), raw (the RSA block) or base64.", valueName: "format"))
    var format = WrappedKeyFormat.document

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @Flag(help: "Print what was fetched (key name, padding, the recipient's fingerprint; never the key) as JSON; the wrapped key then needs -o.")
    var json = false

    func validate() throws {
        if json && output == "-" {
            throw ValidationError("--json prints the report on standard output: write the wrapped key with -o FILE")
        }
    }

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try KeyfetchFrontend.fetch(
            .init(
                keyName: name, recipient: to, store: store, inline: inline, twin: twin, padding: padding, format: format,
                output: output, json: json, messages: messages))
    }
}
