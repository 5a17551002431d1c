import ArgumentParser
import CPKCLI

/// Online signing with a private key.
struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign with a private key (the default subcommand).",
        discussion: """
            The private key is PEM (PKCS#8, or traditional RSA/EC; encrypted ones need \
            --passphrase-file or --passphrase-env: a passphrase is never read from the command \
            line or a terminal) or PKCS#8 DER, or a key in a PKCS#11 token named by a pkcs11: \
            URI (PIN from --pin-file, --pin-fd, $CPK_PKCS11_PIN or the URI's pin-source). A \
            certificate or public key to embed must be the signing key's.
            """)

    @Option(help: ArgumentHelp("The private key (PEM or DER, or a pkcs11: URI); - is standard input.", valueName: "file"), completion: .file())
    var key: String

    @OptionGroup var token: TokenOptions

    @Option(help: ArgumentHelp("Read the key's passphrase from the first line of FILE.", valueName: "file"), completion: .file())
    var passphraseFile: String?

    @Option(help: ArgumentHelp("Read the key's passphrase from the environment variable NAME.", valueName: "name"))
    var passphraseEnv: String?

    @Flag(help: "Print what was signed (schemes, digests, the signer) as JSON on standard output; the package then needs -o or --oci.")
    var json = false

    @OptionGroup var what: TargetOptions
    @OptionGroup var certificate: CertificateOptions
    @OptionGroup var input: PackageInputArgument
    @OptionGroup var output: PackageOutputOptions

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        if TokenOptions.isToken(key) && (passphraseFile != nil || passphraseEnv != nil) {
            throw ValidationError("a pkcs11: key takes a PIN (--pin-file, --pin-fd), not a passphrase")
        }
        try output.requireDestination(besideJSON: json)
    }

    func run() throws {
        var options = SignFrontend.Online(
                key: key, passphraseFile: passphraseFile, passphraseEnvironment: passphraseEnv, targets: what.targets,
                scheme: what.scheme, naming: certificate.naming, replacing: what.replace, input: input.input, output: output)
        options.json = json
        options.token = token
        options.messages = messages
        try SignFrontend.sign(options)
    }
}
