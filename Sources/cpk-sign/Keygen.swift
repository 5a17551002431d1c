import ArgumentParser
import CPKCLI
import CPKCrypto

/// A development signing identity, so that signing can be tried without openssl commands.
struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make a development signing key and a self-signed code-signing certificate for it.",
        discussion: """
            The key is made for --scheme (RSA for rsa-pkcs1v15 and rsa-pss, of --bits; the \
            curve for ECDSA; Ed25519) and written as PEM PKCS#8 to -o, created with mode 0600 \
            (standard output only when it is not a terminal). The certificate (PEM) names \
            CN=--common-name as subject and issuer, allows digital signatures (key usage) and \
            code signing (extended key usage), is not a CA, and is valid for --days from now. \
            For development: a verifier trusts it only when given it (cpk-verify --ca).

            Example:
              cpk-sign keygen --scheme ecdsa-p256 -o signer.pem --cert-out signer.crt
              cpk-sign --key signer.pem --cert signer.crt --cpk -o app.cpk app.env
              cpk-verify --ca signer.crt app.cpk
            """)

    @Option(help: ArgumentHelp("rsa-pkcs1v15, rsa-pss, ecdsa-p256, ecdsa-p384 or ed25519.", valueName: "scheme"))
    var scheme = SignatureScheme.rsaPKCS1v15

    @Option(help: ArgumentHelp("RSA modulus size: 2048, 3072 or 4096.", valueName: "bits"))
    var bits = DevelopmentSigner.defaultRSABits

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Write the private key to FILE (mode 0600); - is standard output when it is not a terminal.", valueName: "file"), completion: .file())
    var output: String

    @Option(help: ArgumentHelp("Write the self-signed certificate (PEM) to FILE.", valueName: "file"), completion: .file())
    var certOut: String

    @Option(help: ArgumentHelp("The certificate's subject common name.", valueName: "name"))
    var commonName = "cpk development signer"

    @Option(help: ArgumentHelp("Days the certificate is valid, from now (1 to 3650).", valueName: "days"))
    var days = 365

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        guard DevelopmentSigner.rsaSizes.contains(bits) else { throw ValidationError("--bits must be 2048, 3072 or 4096") }
        guard (1...3650).contains(days) else { throw ValidationError("--days must be between 1 and 3650") }
        guard certOut != output else { throw ValidationError("--cert-out must differ from --output") }
    }

    func run() throws {
        try SignFrontend.keygen(
            scheme: scheme, rsaBits: bits, commonName: commonName, days: days, output: output, certificateOutput: certOut)
    }
}
