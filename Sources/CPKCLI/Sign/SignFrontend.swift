import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKKeys
import CPKPackage

/// `cpk-sign`'s subcommands, one entry point each: the tool declares the options and
/// validates their combinations; reading the files they name, asking `Signer` and `Stitcher`
/// (which hold the rules) and wording the warnings happen here.
public enum SignFrontend {
    static let tool = "cpk-sign"

    /// How the package names its signer, as the options give it (at most one is set).
    public struct Naming: Sendable {
        public var certificate: String?
        public var embedPublicKey: Bool
        public var url: String?
        public var domain: String?
        public var form: CertificateEmbedding.Form

        public init(certificate: String?, embedPublicKey: Bool, url: String?, domain: String?, form: CertificateEmbedding.Form) {
            (self.certificate, self.embedPublicKey, self.url, self.domain, self.form) =
                (certificate, embedPublicKey, url, domain, form)
        }

        /// The certificate chain of the certificate file, read (never a private key).
        func chain() throws -> [X509Certificate]? {
            guard let certificate else { return nil }
            let bytes = try SmallInput.read(certificate, limit: 1 << 20, what: "the certificate")
            do {
                return try X509Certificate.chain(loading: bytes)
            } catch {
                throw error.located(in: certificate)
            }
        }

        func choice(chain: [X509Certificate]?) -> CertificateEmbedding.Choice {
            if let chain { return .certificate(chain) }
            if embedPublicKey { return .publicKey }
            if let url { return .url(url) }
            if let domain { return .domain(domain) }
            return .none
        }
    }

    /// `cpk-sign` (sign): a private key signs now.
    public struct Online {
        public var key: String
        public var passphraseFile: String?
        public var passphraseEnvironment: String?
        public var targets: [SignatureTarget]
        public var scheme: SignatureScheme?
        public var naming: Naming
        public var replacing: Bool
        /// Print a SigningReport as JSON on standard output (the package goes elsewhere).
        public var json = false
        /// How to reach a token when `key` is a pkcs11: URI.
        public var token = TokenOptions()
        public var messages = MessageOptions()
        public var input: String
        public var output: PackageOutputOptions

        public init(
            key: String, passphraseFile: String?, passphraseEnvironment: String?, targets: [SignatureTarget],
            scheme: SignatureScheme?, naming: Naming, replacing: Bool = false, input: String, output: PackageOutputOptions
        ) {
            self.replacing = replacing
            (self.key, self.passphraseFile, self.passphraseEnvironment) = (key, passphraseFile, passphraseEnvironment)
            (self.targets, self.scheme, self.naming, self.input, self.output) = (targets, scheme, naming, input, output)
        }
    }

    public static func sign(_ options: Online) throws {
        try JSONErrors.reporting(json: options.json, tool: tool) { try signReporting(options) }
    }

    private static func signReporting(_ options: Online) throws {
        try SmallInput.requireOneStandardInput(
            [(options.input, "input"), (options.key, "--key"), (options.passphraseFile ?? "", "--passphrase-file"),
             (options.naming.certificate ?? "", "--cert")])
        let signingKey = try loadSigningKey(options)
        let signer = try signingKey.verifyingKey
        let request = Signer.Request(
            targets: options.targets, scheme: try SignatureScheme.chosen(options.scheme, for: signer), signerKey: signer,
            key: signingKey,
            certificate: CertificateEmbedding(options.naming.choice(chain: try options.naming.chain()), signer: signer, form: options.naming.form),
            replacing: options.replacing)
        let package = try openPackage(options.input)
        try Signer.checkRequest(request, head: package.head, name: package.name)
        warn(Signer.warnings(for: request), options.messages)
        let entry = try LogEntry.now(tool: tool, action: Signer.logAction(for: request))
        var report: SigningReport?
        let progress = options.messages.watch(package, tool: tool, verb: "signing")
        try options.output.write { report = try Signer.sign(package, request, log: entry, to: $0) }
        progress?.finish()
        options.messages.step(tool, entry.action)
        if options.json, let report { try Console.output(report.json.compactText) }
    }

    private static func loadSigningKey(_ options: Online) throws -> SigningKey {
        try SigningKeyReference(
            reference: options.key, passphraseFile: options.passphraseFile, passphraseEnvironment: options.passphraseEnvironment,
            token: options.token, option: "--key"
        ).load()
    }

    /// `cpk-sign prepare`: the package with a placeholder, and the bytes to sign elsewhere.
    public struct Offline {
        public var publicKey: String?
        public var digestOutput: String
        public var digestFormat: DigestFormat
        public var target: SignatureTarget
        public var scheme: SignatureScheme?
        public var naming: Naming
        public var replacing: Bool
        public var json = false
        public var messages = MessageOptions()
        public var input: String
        public var output: PackageOutputOptions

        public init(
            publicKey: String?, digestOutput: String, digestFormat: DigestFormat, target: SignatureTarget,
            scheme: SignatureScheme?, naming: Naming, replacing: Bool = false, input: String, output: PackageOutputOptions
        ) {
            self.replacing = replacing
            (self.publicKey, self.digestOutput, self.digestFormat, self.target) = (publicKey, digestOutput, digestFormat, target)
            (self.scheme, self.naming, self.input, self.output) = (scheme, naming, input, output)
        }
    }

    public static func prepare(_ options: Offline) throws {
        try JSONErrors.reporting(json: options.json, tool: tool) { try prepareReporting(options) }
    }

    private static func prepareReporting(_ options: Offline) throws {
        try SmallInput.requireOneStandardInput(
            [(options.input, "input"), (options.publicKey ?? "", "--public-key"), (options.naming.certificate ?? "", "--cert")])
        let chain = try options.naming.chain()
        let signer: VerifyingKey
        if let publicKey = options.publicKey {
            signer = try VerifyingKey(loading: try SmallInput.read(publicKey, limit: 1 << 20, what: "the public key"))
        } else if let leaf = chain?.first {
            signer = try leaf.publicKey
        } else {
            throw CPKError.usage("give the signer's --public-key or --cert: it fixes the scheme and the signature's size")
        }
        let request = Signer.Request(
            targets: [options.target], scheme: try SignatureScheme.chosen(options.scheme, for: signer), signerKey: signer,
            key: nil, certificate: CertificateEmbedding(options.naming.choice(chain: chain), signer: signer, form: options.naming.form),
            replacing: options.replacing)
        let package = try openPackage(options.input)
        try Signer.checkRequest(request, head: package.head, name: package.name)
        warn(Signer.warnings(for: request), options.messages)
        let entry = try LogEntry.now(tool: tool, action: Signer.logAction(for: request))
        let progress = options.messages.watch(package, tool: tool, verb: "preparing")
        defer { progress?.finish() }
        let digestFile = try OutputFile(path: options.digestOutput, binary: options.digestFormat == .raw)
        var report: SigningReport?
        try options.output.write { destination in
            report = try Signer.sign(package, request, log: entry, to: destination) { digest in
                try digestFile.descriptor.write(options.digestFormat.encode(digest))
            }
        }
        try digestFile.commit()
        if options.json, let report { try Console.output(report.json.compactText) }
    }

    /// `cpk-sign stitch`: a detached signature, checked, put in.
    public struct Stitching {
        public var signature: String
        public var signatureFormat: DigestFormat
        /// The signer's certificate or public key file, when the package does not embed it.
        public var signerKey: String?
        /// Print a SigningReport as JSON on standard output (the package goes elsewhere).
        public var json = false
        public var messages = MessageOptions()
        public var input: String
        public var output: PackageOutputOptions

        public init(signature: String, signatureFormat: DigestFormat, signerKey: String?, input: String, output: PackageOutputOptions) {
            (self.signature, self.signatureFormat, self.signerKey, self.input, self.output) =
                (signature, signatureFormat, signerKey, input, output)
        }
    }

    public static func stitch(_ options: Stitching) throws {
        try JSONErrors.reporting(json: options.json, tool: tool) { try stitchReporting(options) }
    }

    private static func stitchReporting(_ options: Stitching) throws {
        try SmallInput.requireOneStandardInput(
            [(options.input, "input"), (options.signature, "--signature"), (options.signerKey ?? "", "--cert/--public-key")])
        let bytes = try options.signatureFormat.decode(
            try SmallInput.read(options.signature, limit: 1 << 16, what: "the signature"), what: "the signature")
        let key = try options.signerKey.map {
            try VerifyingKey(loading: try SmallInput.read($0, limit: 1 << 20, what: "the signer's key"))
        }
        let package = try openPackage(options.input)
        let pending = try Stitcher.Pending(head: package.head, name: package.name)
        let entry = try LogEntry.now(tool: tool, action: pending.logAction)
        let progress = options.messages.watch(package, tool: tool, verb: "stitching")
        defer { progress?.finish() }
        var report: SigningReport?
        try options.output.write { destination in
            report = try Stitcher.stitch(package, signature: bytes, key: key, log: entry, to: { destination })
        }
        if options.json, let report { try Console.output(report.json.compactText) }
    }

    /// `cpk-sign strip`: the package without the signatures of `targets`, e.g. before re-signing offline.
    public static func strip(targets: [SignatureTarget], input: String, output: PackageOutputOptions) throws {
        let package = try openPackage(input)
        let what = targets.map(\.rawValue).joined(separator: " and ")
        let entry = try LogEntry.now(tool: tool, action: "stripped the \(what) signature")
        try output.write { try Signer.strip(package, targets: targets, log: entry, to: $0) }
    }

    /// `cpk-sign digest`: the bytes to sign of a pending signature, again.
    public static func digest(input: String, format: DigestFormat, output: String) throws {
        let digest = try Stitcher.digestToSign(try openPackage(input))
        let file = try OutputFile(path: output, binary: format == .raw)
        try file.descriptor.write(format.encode(digest))
        try file.commit()
    }

    /// `cpk-sign keygen`: a development signing key (private key PEM PKCS#8, mode 0600) and its
    /// self-signed code-signing certificate. The private key's output is opened first, so a
    /// refused one leaves no certificate behind.
    public static func keygen(
        scheme: SignatureScheme, rsaBits: Int, commonName: String, days: Int, output: String, certificateOutput: String
    ) throws {
        let signer = try DevelopmentSigner.make(scheme: scheme, rsaBits: rsaBits, commonName: commonName, days: days)
        var pem = try signer.key.pem()
        defer { wipe(&pem) }
        let privateOutput = try openSecretOutput(output, what: "a private key")
        try writeResult(Array(try signer.certificate.pem().utf8), to: certificateOutput, binary: false)
        try privateOutput.descriptor.write(pem)
        try privateOutput.commit()
    }

    /// The line a warning is shown as, with the options that would help.
    public static func line(_ warning: SigningWarning) -> String {
        switch warning {
        case .deviceCannotVerify, .certificateNotValid: return "\(tool): warning: \(warning.text)"
        case .noSignerCredential:
            return "\(tool): warning: the package names no certificate or key of its signer (--cert, --embed-public-key, "
                + "--cert-url, --cert-domain): a verifier must be given the signer's key to check it"
        case .manifestNotYetCovered:
            return "\(tool): note: \(warning.text): after stitching, run cpk-sign prepare --package"
        }
    }

    static func warn(_ warnings: [SigningWarning], _ messages: MessageOptions) {
        guard !messages.quiet else { return }
        for warning in warnings { Console.error(line(warning)) }
    }
}
