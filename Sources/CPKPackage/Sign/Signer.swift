import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat

/// What a signature covers: the payload (its plaintext digest) or the whole package (the
/// digest of the streams in `package.map`).
public enum SignatureTarget: String, Sendable, CaseIterable {
    case payload
    case package
}

/// How a package tells the verifier where the signer's key is (docs/format.md, `cert`).
public enum CertificateEmbedding: Sendable {
    public enum Form: String, Sendable, CaseIterable {
        case pem
        case der
    }

    case none
    /// An X.509 certificate, then any chain certificates after it (PEM only).
    case x509(chain: [X509Certificate], form: Form)
    case publicKey(VerifyingKey, form: Form)
    case url(String)
    case domain(String)

    /// The key this embedding vouches for, when it carries one.
    public var key: VerifyingKey? {
        get throws {
            switch self {
            case .x509(let chain, _): return try chain.first?.publicKey
            case .publicKey(let key, _): return key
            case .none, .url, .domain: return nil
            }
        }
    }

    /// Refuses an embedded certificate or key that is not the signer's: a package carrying it
    /// could never verify.
    public func requireKey(_ signer: VerifyingKey) throws {
        if case .x509(let chain, _) = self, let leaf = chain.first {
            // The verifier's rules (TrustPolicy.certificateProblem): a package signed with such a
            // certificate could never be trusted.
            guard leaf.allowsDigitalSignature else {
                throw CPKError.invalid("the certificate's key usage does not allow digital signatures")
            }
            if let broken = TrustPolicy.brokenLink(in: chain) {
                throw CPKError.invalid("the certificate chain is broken: \(broken)")
            }
            guard leaf.allowsCodeSigning else {
                throw CPKError.invalid("the certificate's extended key usage does not allow code signing (\(leaf.subject))")
            }
        }
        guard let key = try key, !key.isSameKey(as: signer) else { return }
        if case .x509(let chain, _) = self, let leaf = chain.first {
            throw CPKError.invalid("the certificate (\(leaf.subject)) is for another key than the signing key")
        }
        throw CPKError.invalid("the public key to embed is not the signing key's")
    }

    /// The certificate stream's bytes, or nil for a reference or none.
    func streamBytes() throws -> [UInt8]? {
        switch self {
        case .none, .url, .domain: return nil
        case .x509(let chain, .pem): return Array(try chain.map { try $0.pem() }.joined().utf8)
        case .x509(let chain, .der):
            guard chain.count == 1, let leaf = chain.first else {
                throw CPKError.usage("a DER certificate stream holds one certificate; embed a chain as PEM")
            }
            return leaf.der
        case .publicKey(let key, .pem): return Array(try key.pem().utf8)
        case .publicKey(let key, .der): return key.subjectPublicKeyInfoDER
        }
    }

    /// The manifest scheme, given the index of the stream (when there is one).
    func manifestScheme(stream: Int?) -> Certificate {
        switch (self, stream) {
        case (.url(let url), _): return .url(url)
        case (.domain(let domain), _): return .targetDomain(domain)
        case (.x509(_, .pem), let index?): return .x509PEM(data: index)
        case (.x509(_, .der), let index?): return .x509DER(data: index)
        case (.publicKey(_, .pem), let index?): return .publicKeyPEM(data: index)
        case (.publicKey(_, .der), let index?): return .publicKeyDER(data: index)
        default: return .none
        }
    }
}

extension Signature {
    /// The manifest variant for `scheme` with a key of `bits`, its bytes in stream `data`.
    public init(scheme: SignatureScheme, keyBits bits: Int, data: Int) {
        switch scheme {
        case .rsaPKCS1v15: self = .rsaPKCS1v15(keyStrength: bits, data: data)
        case .rsaPSS: self = .rsaPSS(keyStrength: bits, data: data)
        case .ecdsaP256: self = .ecdsaP256(data: data)
        case .ecdsaP384: self = .ecdsaP384(data: data)
        case .ed25519: self = .ed25519(data: data)
        }
    }

    /// The crypto scheme of a manifest variant; nil for none.
    public var scheme: SignatureScheme? { SignatureScheme(rawValue: schemeName) }
}

/// Adds signatures to a package as it streams from an input to an output (`cpk-sign`).
///
/// The new streams go just before the manifest: for a sealed package from `cpk-pack` and
/// `cpk-seal` a payload signature with a certificate gives the reference layout (payload,
/// nonce, tag, digest, signature, certificate, manifest). A package signature adds its digest,
/// signature and certificate streams the same way, and `package.map` becomes every stream but
/// the package digest and signature (which are computed from the others).
public enum Signer {
    /// What one `cpk-sign` run does. With an offline signer, `key` is nil: the signature stream
    /// gets a placeholder, and `digestOutput` receives the bytes to sign.
    public struct Request {
        public var targets: [SignatureTarget]
        public var scheme: SignatureScheme
        public var signerKey: VerifyingKey
        public var key: SigningKey?
        public var certificate: CertificateEmbedding
        /// Re-signing: the signatures of `targets` the input already has are dropped (with their
        /// digest and certificate streams) and made anew. Refused where it would leave a
        /// signature that covers a replaced one broken.
        public var replacing: Bool

        public init(
            targets: [SignatureTarget], scheme: SignatureScheme, signerKey: VerifyingKey, key: SigningKey?,
            certificate: CertificateEmbedding, replacing: Bool = false
        ) {
            self.replacing = replacing
            self.targets = targets
            self.scheme = scheme
            self.signerKey = signerKey
            self.key = key
            self.certificate = certificate
        }
    }

    /// Where the new streams are, once the head is laid out.
    struct Layout {
        var payloadSignature: Int?
        var packageDigest: Int?
        var packageSignature: Int?
    }

    /// Signs online (with `request.key`) or prepares an offline signature (without): then
    /// `emitDigest` is called with the bytes to sign before the output is finished.
    @discardableResult
    public static func sign(
        _ input: PackageInput, _ request: Request, log entry: LogEntry, to output: PackageOutput,
        emitDigest: (([UInt8]) throws -> Void)? = nil
    ) throws -> SigningReport {
        try checkRequest(request, head: input.head, name: input.name)
        var editor = HeadEditor(input.head)
        if request.replacing { strip(&editor, request.targets) }
        let layout = try lay(out: &editor, request)
        let head = editor.head
        try output.begin(head: head, log: input.log + [entry])
        let mapDigest = layout.packageDigest == nil ? nil : try PackageMapDigest(head: head)
        if let mapDigest {
            while let chunk = try input.nextPayloadChunk() {
                try mapDigest.addPayload(chunk)
                try output.writePayload(chunk)
            }
        } else {
            // A payload signature signs the digest already in the package: the payload itself
            // passes through untouched.
            try passPayload(from: input, to: output)
        }
        var deferred = editor.renumbered(try input.deferredStreams())
        if let index = layout.payloadSignature, case .deferred = head.streams[index] {
            deferred[index] = try signature(of: payloadDigest(head, deferred), request)
        }
        var report = try SigningReport(request: request, payloadDigest: layout.payloadSignature == nil ? nil : try payloadDigest(head, deferred))
        if let digestIndex = layout.packageDigest, let signatureIndex = layout.packageSignature, let mapDigest {
            // The payload signature is in the map, so it is computed first.
            let digest = try mapDigest.finish(deferred: deferred)
            deferred[digestIndex] = digest
            report.packageDigest = digest
            if request.key == nil {
                try emitDigest?(digest)
            } else {
                deferred[signatureIndex] = try signature(of: digest, request)
            }
        } else if request.key == nil {
            try emitDigest?(try payloadDigest(head, deferred))
        }
        try output.finish(deferredStreams: deferred)
        return report
    }

    /// Refuses what signing cannot do right, before anything is written.
    public static func checkRequest(_ request: Request, head: PackageHead, name: String) throws {
        try request.signerKey.requireFit(request.scheme)
        try request.certificate.requireKey(request.signerKey)
        if let key = request.key, !(try key.verifyingKey.isSameKey(as: request.signerKey)) {
            throw CPKError.usage("the signing key does not belong to the given public key")
        }
        if let pending = head.pendingSignatures.first {
            throw CPKError.invalid("\(name): stream \(pending) awaits an offline signature; stitch it in first (cpk-sign stitch)")
        }
        let manifest = head.manifest
        let packageSigned = manifest.package.signature != .none || manifest.package.digest != .none
        let replacingPackage = request.replacing && request.targets.contains(.package)
        if packageSigned && !replacingPackage {
            if request.replacing { throw coverageError(name) }
            let what = manifest.package.signature != .none ? "package signature" : "package digest"
            throw CPKError(
                .invalidInput, "\(name) already has a \(what), which covers every stream; signing again would break it",
                reason: .alreadySigned)
        }
        if request.key == nil && request.targets.count > 1 {
            throw CPKError.usage(
                "offline signing prepares one signature at a time: the package signature covers the payload signature, so stitch that first")
        }
        if request.targets.contains(.payload) {
            guard manifest.payload.digest != .none else {
                throw CPKError.invalid("\(name) has no payload digest to sign")
            }
            guard manifest.payload.signature == .none || request.replacing else {
                throw CPKError(
                    .invalidInput, "\(name) already has a payload signature (\(manifest.payload.signature.schemeName))",
                    reason: .alreadySigned)
            }
        }
    }

    /// Inserts the signature and certificate streams and sets the manifest's schemes.
    static func lay(out editor: inout HeadEditor, _ request: Request) throws -> Layout {
        var layout = Layout()
        let size = request.signerKey.signatureSize(for: request.scheme)
        let bits = request.signerKey.type.bits
        if request.targets.contains(.payload) {
            let content: StreamContent
            if request.key == nil {  // offline: zeros until stitched
                content = .bytes([UInt8](repeating: 0, count: size))  // the placeholder
            } else if case .sha256(let digestIndex) = editor.head.manifest.payload.digest,
                case .bytes(let digest) = editor.head.streams[digestIndex]
            {
                content = .bytes(try signature(of: digest, request))  // the digest is known: sign now
            } else {
                content = .deferred(size: size)
            }
            let index = editor.insertBeforeManifest(content)
            let certificate = try request.certificate.streamBytes().map { editor.insertBeforeManifest(.bytes($0)) }
            editor.edit {
                $0.manifest.payload.signature = Signature(scheme: request.scheme, keyBits: bits, data: index)
                $0.manifest.payload.certificate = request.certificate.manifestScheme(stream: certificate)
                if request.key == nil { $0.pendingSignatures.append(index) }
            }
            layout.payloadSignature = index
        }
        if request.targets.contains(.package) {
            let digest = editor.insertBeforeManifest(.deferred(size: Digest.sha256Size))
            let signature = editor.insertBeforeManifest(
                request.key == nil ? .bytes([UInt8](repeating: 0, count: size)) : .deferred(size: size))
            let certificate = try request.certificate.streamBytes().map { editor.insertBeforeManifest(.bytes($0)) }
            editor.edit {
                $0.manifest.package.digest = .sha256(data: digest)
                $0.manifest.package.signature = Signature(scheme: request.scheme, keyBits: bits, data: signature)
                $0.manifest.package.certificate = request.certificate.manifestScheme(stream: certificate)
                $0.manifest.package.map = $0.streams.indices.filter { $0 != digest && $0 != signature }
                if request.key == nil { $0.pendingSignatures.append(signature) }
            }
            (layout.packageDigest, layout.packageSignature) = (digest, signature)
        }
        try editor.head.validate()
        return layout
    }

    /// The signature of `digest` by the online signing key.
    private static func signature(of digest: [UInt8], _ request: Request) throws -> [UInt8] {
        guard let key = request.key else { throw CPKError.usage("an offline signature is made elsewhere") }
        return try key.sign(digest: digest, scheme: request.scheme)
    }

    private static func payloadDigest(_ head: PackageHead, _ deferred: [Int: [UInt8]]) throws -> [UInt8] {
        guard let index = head.manifest.payload.digest.stream, let digest = streamBytes(head, index, deferred: deferred)
        else { throw CPKError.invalid("the payload digest is missing") }
        return digest
    }
}

// MARK: - Re-signing

extension Signer {
    /// Writes `input` without the signatures of `targets` (`cpk-sign strip`): each signature
    /// stream goes with its certificate stream, a package signature with its digest, and the
    /// package map then covers every stream again, as after `cpk-pack`. A pending (offline)
    /// signature may be stripped too. Refused where it would silently drop coverage: the
    /// payload signature alone while a package signature covers it.
    public static func strip(_ input: PackageInput, targets: [SignatureTarget], log entry: LogEntry, to output: PackageOutput)
        throws
    {
        let head = input.head
        let manifest = head.manifest
        if !targets.contains(.package), manifest.package.signature != .none || manifest.package.digest != .none {
            throw coverageError(input.name)
        }
        let present = targets.filter {
            $0 == .payload ? manifest.payload.signature != .none : manifest.package.signature != .none || manifest.package.digest != .none
        }
        guard !present.isEmpty else {
            throw CPKError.invalid("\(input.name) has no \(targets.map(\.rawValue).joined(separator: " or ")) signature to strip")
        }
        var editor = HeadEditor(head)
        strip(&editor, targets)
        try editor.head.validate()
        try output.begin(head: editor.head, log: input.log + [entry])
        try passPayload(from: input, to: output)
        try output.finish(deferredStreams: editor.renumbered(try input.deferredStreams()))
    }

    static func coverageError(_ name: String) -> CPKError {
        CPKError(
            .invalidInput,
            "\(name) has a package signature, which covers its payload signature: replacing or stripping only the payload "
                + "signature would break it; do both (the default), or the package signature first",
            reason: .coverageWouldDrop)
    }

    /// Drops the signatures of `targets` from the head: their streams (signature, certificate,
    /// and the package digest), unless the other section still names one.
    static func strip(_ editor: inout HeadEditor, _ targets: [SignatureTarget]) {
        let manifest = editor.head.manifest
        var candidates: [Int] = []
        editor.edit { head in
            if targets.contains(.payload), head.manifest.payload.signature != .none {
                candidates += [manifest.payload.signature.stream, manifest.payload.certificate.stream].compactMap { $0 }
                head.manifest.payload.signature = .none
                head.manifest.payload.certificate = .none
            }
            if targets.contains(.package), head.manifest.package.signature != .none || head.manifest.package.digest != .none {
                candidates += [manifest.package.digest.stream, manifest.package.signature.stream, manifest.package.certificate.stream]
                    .compactMap { $0 }
                head.manifest.package.digest = .none
                head.manifest.package.signature = .none
                head.manifest.package.certificate = .none
            }
        }
        // What the manifest still names (the map aside) stays.
        var still = editor.head.manifest
        still.package.map = []
        var named = Set<Int>()
        still.renumberStreams { named.insert($0); return $0 }
        editor.remove(candidates.filter { !named.contains($0) })
        if targets.contains(.package) { editor.edit { $0.manifest.package.map = Array($0.streams.indices) } }
    }
}
