import ArgumentParser
import CPKCLI
import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKKeys
import CPKPackage

#if canImport(Glibc)
import Glibc
#endif

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
        subcommands: [Sign.self, Prepare.self, Stitch.self, DigestToSign.self],
        defaultSubcommand: Sign.self)
}

extension SignatureScheme: ExpressibleByArgument {}
extension CertificateEmbedding.Form: ExpressibleByArgument {}

/// What to sign, and with which scheme.
struct TargetOptions: ParsableArguments {
    @Flag(help: "Sign the payload digest. Alone, it gives the reference layout, whose manifest no signature covers.")
    var payload = false

    @Flag(help: "Sign the package: every stream but the package digest and signature (the manifest among them), in order.")
    var package = false

    @Option(help: ArgumentHelp(
        "rsa-pkcs1v15, rsa-pss, ecdsa-p256, ecdsa-p384 or ed25519 (default: the key's: rsa-pkcs1v15 for RSA).",
        valueName: "scheme"))
    var scheme: SignatureScheme?

    /// Both by default: the payload signature for the Package Manager, the package signature
    /// so that the manifest (id, version, name, target) is authenticated too.
    var targets: [SignatureTarget] {
        switch (payload, package) {
        case (true, false): return [.payload]
        case (false, true): return [.package]
        default: return [.payload, .package]
        }
    }

    /// Warns when the payload signature's scheme is one the reference Package Manager cannot verify.
    func warnAboutDevices(_ scheme: SignatureScheme) {
        guard targets.contains(.payload), let note = Signer.deviceNote(for: scheme) else { return }
        Console.error("cpk-sign: warning: \(note)")
    }

    func scheme(for key: VerifyingKey) throws -> SignatureScheme {
        if let scheme {
            try key.requireFit(scheme)
            return scheme
        }
        guard let scheme = key.type.defaultScheme else {
            throw CPKError.invalid("a \(key.type) key cannot sign packages; use RSA, EC P-256, EC P-384 or Ed25519")
        }
        return scheme
    }
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

    @Option(help: ArgumentHelp("The form of an embedded certificate or key: pem (default) or der.", valueName: "form"))
    var embedForm: CertificateEmbedding.Form = .pem

    func validate() throws {
        let given = [cert != nil, embedPublicKey, certURL != nil, certDomain != nil].filter { $0 }.count
        guard given <= 1 else {
            throw ValidationError("give at most one of --cert, --embed-public-key, --cert-url and --cert-domain")
        }
    }

    /// The certificate chain of --cert, read (never a private key).
    func chain() throws -> [X509Certificate]? {
        guard let cert else { return nil }
        let bytes = try SmallInput.read(cert, limit: 1 << 20, what: "the certificate")
        do {
            return try X509Certificate.chain(loading: bytes)
        } catch {
            throw error.located(in: cert)
        }
    }

    func embedding(signer: VerifyingKey, chain: [X509Certificate]?) throws -> CertificateEmbedding {
        if let chain { return .x509(chain: chain, form: embedForm) }
        if embedPublicKey { return .publicKey(signer, form: embedForm) }
        if let certURL { return .url(certURL) }
        if let certDomain { return .domain(certDomain) }
        return .none
    }
}

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

    @Option(help: ArgumentHelp("The private key (PEM or DER); - is standard input.", valueName: "file"), completion: .file())
    var key: String

    @Option(help: ArgumentHelp("Read the key's passphrase from the first line of FILE.", valueName: "file"), completion: .file())
    var passphraseFile: String?

    @Option(help: ArgumentHelp("Read the key's passphrase from the environment variable NAME.", valueName: "name"))
    var passphraseEnv: String?

    @OptionGroup var what: TargetOptions
    @OptionGroup var certificate: CertificateOptions
    @OptionGroup var input: PackageInputArgument
    @OptionGroup var output: PackageOutputOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try SmallInput.requireOneStandardInput(
            [(input.input, "input"), (key, "--key"), (passphraseFile ?? "", "--passphrase-file"),
             (certificate.cert ?? "", "--cert")])
        let signingKey = try loadSigningKey()
        let signer = try signingKey.verifyingKey
        let request = Signer.Request(
            targets: what.targets, scheme: try what.scheme(for: signer), signerKey: signer, key: signingKey,
            certificate: try certificate.embedding(signer: signer, chain: try certificate.chain()))
        let package = try input.open()
        try Signer.checkRequest(request, head: package.head, name: package.name)
        if !messages.quiet { what.warnAboutDevices(request.scheme) }
        if case .none = request.certificate, !messages.quiet {
            Console.error(
                "cpk-sign: warning: the package names no certificate or key of its signer (--cert, --embed-public-key, "
                    + "--cert-url, --cert-domain): a verifier must be given the signer's key to check it")
        }
        let entry = try LogEntry.now(tool: "cpk-sign", action: "added an " + describe(request))
        let progress = messages.watch(package, tool: "cpk-sign", verb: "signing")
        try output.write { try Signer.sign(package, request, log: entry, to: $0) }
        progress?.finish()
        messages.step("cpk-sign", entry.action)
    }

    private func loadSigningKey() throws -> SigningKey {
        var bytes = try SmallInput.read(key, limit: SmallInput.keyLimit, what: "the signing key")
        defer { wipe(&bytes) }
        var passphrase = try Passphrase.read(file: passphraseFile, environment: passphraseEnv)
        defer { if passphrase != nil { wipe(&passphrase!) } }
        do {
            return try SigningKey(loading: bytes, passphrase: passphrase)
        } catch let error as CPKError where error.reason == .passphraseNeeded {
            throw CPKError.usage("\(key): \(error.message): --passphrase-file FILE or --passphrase-env NAME")
        }
    }
}

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

    @Option(name: .customLong("format"), help: ArgumentHelp("The encoding of --digest-out: raw (default), hex or base64.", valueName: "format"))
    var digestFormat: DigestFormat = .raw

    @OptionGroup var what: TargetOptions
    @OptionGroup var certificate: CertificateOptions
    @OptionGroup var input: PackageInputArgument
    @OptionGroup var output: PackageOutputOptions

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        guard !(digestOut == "-" && output.output == "-") else {
            throw ValidationError("--digest-out and the package cannot both go to standard output; give -o FILE")
        }
        guard !(what.payload && what.package) else {
            throw ValidationError("prepare one signature at a time: --payload (the default) or --package")
        }
    }

    func run() throws {
        try SmallInput.requireOneStandardInput(
            [(input.input, "input"), (publicKey ?? "", "--public-key"), (certificate.cert ?? "", "--cert")])
        let chain = try certificate.chain()
        let signer = try signerKey(chain: chain)
        let targets: [SignatureTarget] = what.package ? [.package] : [.payload]
        let request = Signer.Request(
            targets: targets, scheme: try what.scheme(for: signer), signerKey: signer, key: nil,
            certificate: try certificate.embedding(signer: signer, chain: chain))
        let package = try input.open()
        try Signer.checkRequest(request, head: package.head, name: package.name)
        if targets == [.payload] && !messages.quiet {
            if let note = Signer.deviceNote(for: request.scheme) { Console.error("cpk-sign: warning: \(note)") }
            Console.error(
                "cpk-sign: note: the manifest is covered only once a package signature is added too: "
                    + "after stitching, run cpk-sign prepare --package")
        }
        let entry = try LogEntry.now(tool: "cpk-sign", action: "prepared an offline " + describe(request))
        let digestFile = try OutputFile(path: digestOut, binary: digestFormat == .raw)
        let progress = messages.watch(package, tool: "cpk-sign", verb: "preparing")
        defer { progress?.finish() }
        try output.write { destination in
            try Signer.sign(package, request, log: entry, to: destination) { digest in
                try digestFile.descriptor.write(digestFormat.encode(digest))
            }
        }
        try digestFile.commit()
    }

    private func signerKey(chain: [X509Certificate]?) throws -> VerifyingKey {
        if let publicKey {
            let key = try VerifyingKey(loading: try SmallInput.read(publicKey, limit: 1 << 20, what: "the public key"))
            return key
        }
        guard let leaf = chain?.first else {
            throw CPKError.usage("give the signer's --public-key or --cert: it fixes the scheme and the signature's size")
        }
        return try leaf.publicKey
    }
}

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

    @Option(name: .customLong("format"), help: ArgumentHelp("The encoding of --signature: raw (default), hex or base64.", valueName: "format"))
    var signatureFormat: DigestFormat = .raw

    @Option(name: .customLong("cert"), help: ArgumentHelp(
        "The signer's certificate, when the package does not embed it.", valueName: "file"), completion: .file())
    var certificate: String?

    @Option(help: ArgumentHelp("The signer's public key, when the package does not embed it.", valueName: "file"), completion: .file())
    var publicKey: String?

    @OptionGroup var input: PackageInputArgument
    @OptionGroup var output: PackageOutputOptions

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        guard certificate == nil || publicKey == nil else { throw ValidationError("give --cert or --public-key, not both") }
    }

    func run() throws {
        try SmallInput.requireOneStandardInput(
            [(input.input, "input"), (signature, "--signature"), (certificate ?? publicKey ?? "", "--cert/--public-key")])
        let bytes = try signatureFormat.decode(
            try SmallInput.read(signature, limit: 1 << 16, what: "the signature"), what: "the signature")
        let key = try (certificate ?? publicKey).map {
            try VerifyingKey(loading: try SmallInput.read($0, limit: 1 << 20, what: "the signer's key"))
        }
        let package = try input.open()
        let pending = try Stitcher.Pending(head: package.head, name: package.name)
        let progress = messages.watch(package, tool: "cpk-sign", verb: "stitching")
        defer { progress?.finish() }
        let entry = try LogEntry.now(
            tool: "cpk-sign", action: "stitched in an offline \(pending.scheme.rawValue) \(pending.target.rawValue) signature")
        try output.write { destination in
            try Stitcher.stitch(package, signature: bytes, key: key, log: entry, to: { destination })
        }
    }
}

/// The bytes to sign of a pending signature, again.
struct DigestToSign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest", abstract: "Print the bytes an offline signer must sign for a pending signature.")

    @Option(help: ArgumentHelp("raw (default), hex or base64.", valueName: "format"))
    var format: DigestFormat = .raw

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @OptionGroup var input: PackageInputArgument

    @OptionGroup var messages: MessageOptions

    func run() throws {
        let digest = try Stitcher.digestToSign(try input.open())
        let file = try OutputFile(path: output, binary: format == .raw)
        try file.descriptor.write(format.encode(digest))
        try file.commit()
    }
}

/// The log entry's words for a signing request.
func describe(_ request: Signer.Request) -> String {
    let what = request.targets.map(\.rawValue).joined(separator: " and ")
    return "\(request.scheme.rawValue) \(what) signature (\(request.signerKey.type) key)"
}

SignTool.runTool()
