import ArgumentParser
import CPKCLI

/// Online signing with a private key.
struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign with a private key (the default subcommand).",
        discussion: """
            The private key is PEM (PKCS#8, or traditional RSA/EC; encrypted ones need \
            --passphrase-file or --passphrase-env: a passphrase is never read from the command \
            line or a terminal) or PKCS#8 DER. A certificate or public key to embed must be \
            the signing key's.
            """)

    @Option(help: ArgumentHelp("The private key (PEM or DER); - is standard input.", valueName: "file"))
    var key: String

    @Option(help: ArgumentHelp("Read the key's passphrase from the first line of FILE.", valueName: "file"))
    var passphraseFile: String?

    @Option(help: ArgumentHelp("Read the key's passphrase from the environment variable NAME.", valueName: "name"))
    var passphraseEnv: String?

    @Flag(help: "Print what was signed (schemes, digests, the signer) as JSON on standard output; the package then needs -o or --oci.")
    var json = false

    @OptionGroup var what: TargetOptions
    @OptionGroup var certificate: CertificateOptions
    @OptionGroup var input: PackageInputArgument
    @OptionGroup var output: PackageOutputOptions

    func validate() throws {
        if json && output.output == "-" && output.oci == nil {
            throw ValidationError("--json prints the report on standard output: write the package with -o FILE or --oci")
        }
    }

    func run() throws {
        var options = SignFrontend.Online(
                key: key, passphraseFile: passphraseFile, passphraseEnvironment: passphraseEnv, targets: what.targets,
                scheme: what.scheme, naming: certificate.naming, replacing: what.replace, input: input.input, output: output)
        options.json = json
        try SignFrontend.sign(options)
    }
}
