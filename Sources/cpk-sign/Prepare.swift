import ArgumentParser
import CPKCLI
import CPKCrypto
import CPKPackage

/// The first half of offline signing.
struct Prepare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Offline signing, step 1: write the package with a pending signature, and the digest to sign.",
        discussion: """
            The signer's public key or certificate fixes the scheme and the signature's size. \
            --digest-out receives exactly the bytes to sign: the 32-byte SHA-256 payload digest \
            (or, with --package, the package digest), raw (the default, for openssl pkeyutl \
            -in), hex or base64 (one line). The package records the pending signature; it \
            cannot be written as a .cpk until "cpk-sign stitch" puts the signature in.

            Sign the digest file D with the private key K, by scheme:

            """ + SignatureScheme.opensslTable().joined(separator: "\n") + "\n\n" + SignatureScheme.signatureSizeSentence)

    @Option(help: ArgumentHelp(
        "The signer's public key (PEM or DER, or a certificate); not needed with --cert.", valueName: "file"), completion: .file())
    var publicKey: String?

    @Option(help: ArgumentHelp("Write the bytes to sign to FILE; - is standard output.", valueName: "file"), completion: .file())
    var digestOut: String

    @Option(name: .customLong("format"), help: ArgumentHelp("The encoding of --digest-out: raw, hex or base64.", valueName: "format"))
    var digestFormat: DigestFormat = .raw

    @Flag(help: "Print what was signed (schemes, digests, the signer) as JSON on standard output; the package then needs -o FILE.")
    var json = false

    @OptionGroup var what: TargetOptions
    @OptionGroup var certificate: CertificateOptions
    @OptionGroup var input: PackageInputArgument

    // Not PackageOutputOptions: a pending signature fits only in an envelope, so there is no
    // --cpk or --oci here (cpk-sign stitch writes the .cpk).
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the envelope to FILE; - is standard output.", valueName: "file"),
        completion: .file())
    var output = "-"

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        guard !(digestOut == "-" && output == "-") else {
            throw ValidationError("--digest-out and the package cannot both go to standard output; give -o FILE")
        }
        if json && (output == "-" || digestOut == "-") {
            throw ValidationError("--json prints the report on standard output: write the package and the digest to files")
        }
        if PackageOutputOptions.namesPackage(output) {
            throw ValidationError(
                "\(output) is named like a finished .cpk, but prepare writes an envelope (a pending signature fits only there): "
                    + "name it e.g. app.env, and write the .cpk with cpk-sign stitch --cpk")
        }
        guard !(what.payload && what.package) else {
            throw ValidationError("prepare one signature at a time: --payload (the default) or --package")
        }
    }

    func run() throws {
        var options = SignFrontend.Offline(
                publicKey: publicKey, digestOutput: digestOut, digestFormat: digestFormat,
                target: what.package ? .package : .payload, scheme: what.scheme, naming: certificate.naming,
                replacing: what.replace, input: input.input, output: envelopeOutput)
        options.json = json
        options.messages = messages
        try SignFrontend.prepare(options)
    }

    private var envelopeOutput: PackageOutputOptions {
        var options = PackageOutputOptions()  // made here, not parsed: every value is set
        (options.output, options.cpk, options.oci) = (output, false, nil)
        return options
    }
}
