import ArgumentParser
import CPKCLI

/// The forms `cpk-wrap public` prints.
struct Public: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "public",
        abstract: "Print a public key (read from a private key, a public key or a certificate) in another form.",
        discussion: """
            Formats: pem and der (SubjectPublicKeyInfo), pkcs1 and pkcs1-pem (RSAPublicKey), \
            base64 (of the DER SubjectPublicKeyInfo, for cloud contracts), fingerprint (hex \
            SHA-256 of the DER SubjectPublicKeyInfo, as recorded in wrapped-key documents).
            """)

    @Argument(help: ArgumentHelp("A private key, public key or certificate; - is standard input.", valueName: "key"), completion: .file())
    var input = "-"

    @Option(help: ArgumentHelp("pem, der, pkcs1, pkcs1-pem, base64 or fingerprint.", valueName: "format"))
    var format = PublicKeyFormat.pem

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try WrapFrontend.publicKey(input: input, format: format, output: output)
    }
}
