import ArgumentParser
import CPKCLI

/// The second half of offline signing.
struct Stitch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Offline signing, step 2: check a detached signature and put it in.",
        discussion: """
            The signature must verify against the pending digest with the signer's key: the \
            certificate or public key the package embeds, or the one given here (which must \
            then be the same). A signature that does not verify is refused with the scheme and \
            padding expected, and a guess at the mistake. ECDSA signatures may be DER, as \
            openssl makes them, or raw r||s. A private key is never needed, nor accepted.
            """)

    @Option(help: ArgumentHelp("The detached signature; - is standard input.", valueName: "file"), completion: .file())
    var signature: String

    @Option(name: .customLong("format"), help: ArgumentHelp("The encoding of --signature: raw, hex or base64.", valueName: "format"))
    var signatureFormat: DigestFormat = .raw

    @Option(name: .customLong("cert"), help: ArgumentHelp(
        "The signer's certificate, when the package does not embed it.", valueName: "file"), completion: .file())
    var certificate: String?

    @Option(help: ArgumentHelp("The signer's public key, when the package does not embed it.", valueName: "file"), completion: .file())
    var publicKey: String?

    @Flag(help: "Print what was stitched as JSON (the schema of cpk-sign --json); the package then goes to -o FILE or --oci.")
    var json = false

    @OptionGroup var input: PackageInputArgument
    @OptionGroup var output: PackageOutputOptions

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        guard certificate == nil || publicKey == nil else { throw ValidationError("give --cert or --public-key, not both") }
        try output.requireDestination(besideJSON: json)
    }

    func run() throws {
        var options = SignFrontend.Stitching(
            signature: signature, signatureFormat: signatureFormat, signerKey: certificate ?? publicKey,
            input: input.input, output: output)
        options.messages = messages
        options.json = json
        try SignFrontend.stitch(options)
    }
}
