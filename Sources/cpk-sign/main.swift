import ArgumentParser
import CPKCLI
import CPKCrypto
import CPKPackage

struct SignTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-sign",
        abstract: "Sign the payload digest and/or the package, online or offline.",
        discussion: """
            Online (the default subcommand, sign), a private key signs the payload's SHA-256 \
            digest (--payload) and the package (--package: the streams of package.map, which \
            cpk-sign sets to every stream but the package digest and signature, the manifest \
            among them); both by default, so that what the manifest says (id, version, name, \
            target) is covered by a signature too. The signature, then the certificate or key \
            it names, are inserted before the manifest. --payload alone gives the reference \
            7-stream layout (with an RSA-2048 key and its certificate, after cpk-pack and \
            cpk-seal), which the reference Package Manager installs but whose manifest no \
            signature covers: a device with a trust policy refuses it unless told otherwise.

            Offline, "prepare" (one signature at a time: --payload, the default, then \
            --package) writes the package with a placeholder and the digest to sign \
            (--digest-out); the signer signs those bytes elsewhere, e.g. with openssl pkeyutl \
            on an air-gapped machine; "stitch" checks the detached signature against the \
            signer's certificate or public key and only then puts it in.

            Examples:
              cpk-pack --id app app.bin | cpk-seal --file-store keys.json --quiet \\
                | cpk-sign --key signer.pem --cert signer.crt --cpk -o app.cpk
              cpk-sign --payload --key signer.pem --cert signer.crt \\
                --cpk -o ref.cpk app.env
              cpk-sign --key ed.pem --embed-public-key --package app.env > signed.env
              cpk-sign prepare --cert signer.crt --digest-out app.dig app.env > pending.env
              \(SignatureScheme.rsaPKCS1v15.opensslCommand(key: "signer.pem", digest: "app.dig")) \\
                -out app.sig
              cpk-sign stitch --signature app.sig --cpk -o app.cpk pending.env

            Exit status: 0 success; 1 invalid input (not a package, already signed, a \
            certificate for another key, an offline signature that does not verify); 2 usage \
            or I/O error.
            """,
        version: ToolVersion.line("cpk-sign"),
        subcommands: [Sign.self, Prepare.self, Stitch.self, DigestToSign.self, Strip.self, Keygen.self],
        defaultSubcommand: Sign.self)
}

extension CertificateEmbedding.Form: ExpressibleByArgument {}

/// What to sign, and with which scheme.
struct TargetOptions: ParsableArguments {
    @Flag(help: "Sign the payload digest. Alone, it gives the reference layout, whose manifest no signature covers.")
    var payload = false

    @Flag(help: "Sign the package: every stream but the package digest and signature (the manifest among them), in order.")
    var package = false

    @Flag(help: "Re-sign: replace the signatures asked for that the input already has (both by default).")
    var replace = false

    @Option(help: ArgumentHelp(
        "rsa-pkcs1v15, rsa-pss, ecdsa-p256, ecdsa-p384 or ed25519 (default: the key's: rsa-pkcs1v15 for RSA).",
        valueName: "scheme"))
    var scheme: SignatureScheme?

    /// Both by default (SignatureTarget.selected).
    var targets: [SignatureTarget] { SignatureTarget.selected(payload: payload, package: package) }
}

/// How the package names the signer's key: embedded certificate or key, or a reference.
struct CertificateOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Embed this X.509 certificate (PEM or DER; a PEM may carry the chain after the leaf).", valueName: "file"), completion: .file())
    var cert: String?

    @Flag(help: "Embed the signer's public key instead of a certificate.")
    var embedPublicKey = false

    @Option(name: .customLong("cert-url"), help: ArgumentHelp("Name where the certificate is, by URL.", valueName: "url"))
    var certURL: String?

    @Option(help: ArgumentHelp("Name the certificate by the target domain it is issued for.", valueName: "domain"))
    var certDomain: String?

    @Option(help: ArgumentHelp("The form of an embedded certificate or key: pem or der.", valueName: "form"))
    var embedForm: CertificateEmbedding.Form = .pem

    func validate() throws {
        let given = [cert != nil, embedPublicKey, certURL != nil, certDomain != nil].filter { $0 }.count
        guard given <= 1 else {
            throw ValidationError("give at most one of --cert, --embed-public-key, --cert-url and --cert-domain")
        }
    }

    var naming: SignFrontend.Naming {
        SignFrontend.Naming(certificate: cert, embedPublicKey: embedPublicKey, url: certURL, domain: certDomain, form: embedForm)
    }
}

SignTool.runTool()
