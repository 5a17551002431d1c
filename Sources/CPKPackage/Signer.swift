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

/// A package head being changed by inserting streams, remembering where each original stream
/// went so that the input's deferred streams can be renumbered to match.
struct HeadEditor {
    private(set) var head: PackageHead
    /// For each stream of `head`, its index in the input, or nil for an inserted one.
    private var origins: [Int?]

    init(_ head: PackageHead) {
        self.head = head
        origins = head.streams.indices.map { $0 }
    }

    /// Inserts a stream just before the manifest, the way sealing and signing keep the
    /// reference order, and returns its index.
    mutating func insertBeforeManifest(_ content: StreamContent) -> Int {
        let index = head.manifestIndex
        head.insertStream(content, at: index)
        origins.insert(nil, at: index)
        return index
    }

    mutating func edit(_ change: (inout PackageHead) throws -> Void) rethrows { try change(&head) }

    /// The input's deferred streams under their new indexes.
    func renumbered(_ deferred: [Int: [UInt8]]) -> [Int: [UInt8]] {
        var result: [Int: [UInt8]] = [:]
        for (index, origin) in origins.enumerated() {
            if let origin, let bytes = deferred[origin] { result[index] = bytes }
        }
        return result
    }
}

/// The bytes of stream `index` once the payload has flowed: known in the head, or deferred.
func streamBytes(_ head: PackageHead, _ index: Int, deferred: [Int: [UInt8]]) -> [UInt8]? {
    switch head.streams[index] {
    case .bytes(let bytes): return bytes
    case .manifest: return head.manifestBytes
    case .deferred: return deferred[index]
    case .payload: return nil
    }
}

/// SHA-256 over the streams of `package.map`, concatenated in map order, computed while the
/// payload flows. When a stream before the payload in the map is only known after it (a
/// deferred stream), the payload is kept in an anonymous temporary file and hashed at the end,
/// so memory stays bounded either way.
final class PackageMapDigest {
    private let head: PackageHead
    private let map: [Int]
    private let payloadPosition: Int?
    private let hasher: SHA256Hasher
    private var spool: FileDescriptor?
    private var spooled: UInt64 = 0

    init(head: PackageHead) throws {
        self.head = head
        map = head.manifest.package.map
        payloadPosition = map.firstIndex(of: head.manifest.payload.data)
        hasher = try SHA256Hasher()
        let before = map[..<(payloadPosition ?? 0)]
        if before.allSatisfy({ streamBytes(head, $0, deferred: [:]) != nil }) {
            for index in before { hasher.update(streamBytes(head, index, deferred: [:]) ?? []) }
        } else {
            spool = try TemporaryFile.anonymous(purpose: "payload kept for the package digest")
        }
    }

    func addPayload(_ chunk: UnsafeRawBufferPointer) throws {
        guard payloadPosition != nil else { return }
        if let spool {
            try spool.write(chunk)
            spooled += UInt64(chunk.count)
        } else {
            hasher.update(chunk)
        }
    }

    func finish(deferred: [Int: [UInt8]]) throws -> [UInt8] {
        let after = map[(payloadPosition.map { $0 + 1 } ?? 0)...]
        if let spool, let payloadPosition {
            for index in map[..<payloadPosition] { hasher.update(try bytes(index, deferred)) }
            try spool.forEachPiece(at: 0, count: spooled, pieceSize: Chunks.size, what: "the kept payload") {
                hasher.update($0)
            }
        }
        for index in after { hasher.update(try bytes(index, deferred)) }
        return try hasher.finalize()
    }

    private func bytes(_ index: Int, _ deferred: [Int: [UInt8]]) throws -> [UInt8] {
        guard let bytes = streamBytes(head, index, deferred: deferred) else {
            throw CPKError.invalid("package.map names stream \(index), whose bytes are missing")
        }
        return bytes
    }
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

        public init(
            targets: [SignatureTarget], scheme: SignatureScheme, signerKey: VerifyingKey, key: SigningKey?,
            certificate: CertificateEmbedding
        ) {
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
    public static func sign(
        _ input: PackageInput, _ request: Request, log entry: LogEntry, to output: PackageOutput,
        emitDigest: (([UInt8]) throws -> Void)? = nil
    ) throws {
        try checkRequest(request, head: input.head, name: input.name)
        var editor = HeadEditor(input.head)
        let layout = try lay(out: &editor, request)
        let head = editor.head
        try output.begin(head: head, log: input.log + [entry])
        let mapDigest = layout.packageDigest == nil ? nil : try PackageMapDigest(head: head)
        while let chunk = try input.nextPayloadChunk() {
            try mapDigest?.addPayload(chunk)
            try output.writePayload(chunk)
        }
        var deferred = editor.renumbered(try input.deferredStreams())
        if let index = layout.payloadSignature, case .deferred = head.streams[index] {
            deferred[index] = try signature(of: payloadDigest(head, deferred), request)
        }
        if let digestIndex = layout.packageDigest, let signatureIndex = layout.packageSignature, let mapDigest {
            // The payload signature is in the map, so it is computed first.
            let digest = try mapDigest.finish(deferred: deferred)
            deferred[digestIndex] = digest
            if request.key == nil {
                try emitDigest?(digest)
            } else {
                deferred[signatureIndex] = try signature(of: digest, request)
            }
        } else if request.key == nil {
            try emitDigest?(try payloadDigest(head, deferred))
        }
        try output.finish(deferredStreams: deferred)
    }

    /// What a device may not be able to do with a payload signature of `scheme`: the reference
    /// Package Manager verifies RSA PKCS#1 v1.5 only. Nil when every Package Manager can.
    public static func deviceNote(for scheme: SignatureScheme) -> String? {
        guard scheme != .rsaPKCS1v15 else { return nil }
        return "the reference Package Manager verifies only rsa-pkcs1v15 payload signatures; a device without "
            + "the \(scheme.rawValue) verification call cannot install this package"
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
        if manifest.package.signature != .none {
            throw CPKError.invalid(
                "\(name) already has a package signature, which covers every stream; signing again would break it")
        }
        if request.key == nil && request.targets.count > 1 {
            throw CPKError.usage(
                "offline signing prepares one signature at a time: the package signature covers the payload signature, so stitch that first")
        }
        if request.targets.contains(.payload) {
            guard manifest.payload.digest != .none else {
                throw CPKError.invalid("\(name) has no payload digest to sign")
            }
            guard manifest.payload.signature == .none else {
                throw CPKError.invalid("\(name) already has a payload signature (\(manifest.payload.signature.schemeName))")
            }
        }
        if request.targets.contains(.package), manifest.package.digest != .none {
            throw CPKError.invalid("\(name) already has a package digest")
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

/// The second half of offline signing (`cpk-sign stitch`): a detached signature made
/// elsewhere replaces the placeholder of a pending signature, once it verifies.
public enum Stitcher {
    /// What is pending in a package, resolved against its manifest.
    public struct Pending {
        public let signatureIndex: Int
        public let target: SignatureTarget
        public let scheme: SignatureScheme
        /// The RSA key size the manifest records (nil for the fixed-size schemes).
        public let keyStrength: Int?
        public let digestIndex: Int
        public let certificate: Certificate

        public init(head: PackageHead, name: String) throws {
            guard let index = head.pendingSignatures.first else {
                throw CPKError.invalid("\(name) has no pending signature (cpk-sign prepare makes one)")
            }
            guard head.pendingSignatures.count == 1 else {
                throw CPKError.invalid("\(name) has \(head.pendingSignatures.count) pending signatures; one is stitched at a time")
            }
            let manifest = head.manifest
            let section: (Signature, Digest, Certificate, SignatureTarget) =
                index == manifest.payload.signature.stream
                ? (manifest.payload.signature, manifest.payload.digest, manifest.payload.certificate, .payload)
                : (manifest.package.signature, manifest.package.digest, manifest.package.certificate, .package)
            guard let scheme = section.0.scheme, let digestIndex = section.1.stream else {
                throw CPKError.invalid("\(name): the pending signature has no scheme or no digest")
            }
            (signatureIndex, target, self.scheme, keyStrength) = (index, section.3, scheme, section.0.keyStrength)
            (self.digestIndex, certificate) = (digestIndex, section.2)
        }
    }

    /// Checks `signature` against the pending signature's digest and writes the package with it.
    /// Nothing reaches `output` unless it verifies.
    /// - Parameter key: the signer's public key or certificate; may be omitted when the package
    ///   embeds one, and must match it when it does.
    public static func stitch(
        _ input: PackageInput, signature: [UInt8], key: VerifyingKey?, log entry: LogEntry,
        to output: () throws -> PackageOutput
    ) throws {
        var head = input.head
        let pending = try Pending(head: head, name: input.name)
        let signer = try signerKey(given: key, pending: pending, head: head)
        let signature = try normalized(signature, pending: pending, signer: signer)
        let replay = try PayloadReplay(input: input, keepingPayload: !isKnown(head, pending.digestIndex))
        guard let digest = streamBytes(head, pending.digestIndex, deferred: replay.deferred) else {
            throw CPKError.invalid("\(input.name): the digest to sign is missing")
        }
        try check(signature, digest: digest, pending: pending, signer: signer)
        head.streams[pending.signatureIndex] = .bytes(signature)
        head.pendingSignatures.removeAll()
        let destination = try output()
        try destination.begin(head: head, log: input.log + [entry])
        try replay.forEachChunk { try destination.writePayload($0) }
        try destination.finish(deferredStreams: try replay.remainingDeferred())
    }

    /// The bytes an offline signer signs for the pending signature (read to the end of input).
    public static func digestToSign(_ input: PackageInput) throws -> [UInt8] {
        let pending = try Pending(head: input.head, name: input.name)
        while try input.nextPayloadChunk() != nil {}
        guard let digest = streamBytes(input.head, pending.digestIndex, deferred: try input.deferredStreams()) else {
            throw CPKError.invalid("\(input.name): the digest to sign is missing")
        }
        return digest
    }

    private static func isKnown(_ head: PackageHead, _ index: Int) -> Bool {
        if case .deferred = head.streams[index] { return false }
        return true
    }

    /// The key that must verify: the one given, the one the package embeds, and the same if both.
    static func signerKey(given: VerifyingKey?, pending: Pending, head: PackageHead) throws -> VerifyingKey {
        let embedded = try embeddedKey(pending.certificate, head: head)
        switch (given, embedded) {
        case (let given?, let embedded?):
            guard given.isSameKey(as: embedded) else {
                throw CPKError.invalid("the given key is not the signer's key that the package embeds (\(pending.target.rawValue).cert)")
            }
            return given
        case (let key?, nil), (nil, let key?):
            return key
        case (nil, nil):
            throw CPKError.usage(
                "the package does not embed the signer's certificate or key: give it (--cert or --public-key) to check the signature")
        }
    }

    static func embeddedKey(_ certificate: Certificate, head: PackageHead) throws -> VerifyingKey? {
        guard let index = certificate.stream, case .bytes(let bytes) = head.streams[index] else { return nil }
        return try VerifyingKey(loading: bytes)
    }

    /// ECDSA signatures from OpenSSL are DER; the package stores raw r‖s. Sizes must match.
    static func normalized(_ signature: [UInt8], pending: Pending, signer: VerifyingKey) throws -> [UInt8] {
        try signer.requireFit(pending.scheme)
        if let bits = pending.keyStrength, bits != signer.type.bits {
            throw CPKError.invalid(
                "the package expects a \(bits)-bit key for its \(pending.scheme.rawValue) signature, but the given key is \(signer.type)")
        }
        var signature = signature
        let size = signer.signatureSize(for: pending.scheme)
        if [.ecdsaP256, .ecdsaP384].contains(pending.scheme), signature.count != size, ECDSASignature.looksLikeDER(signature) {
            guard let raw = ECDSASignature.raw(fromDER: signature, scheme: pending.scheme) else {
                throw CPKError.invalid("the signature is not a DER ECDSA signature for \(pending.scheme.rawValue)")
            }
            signature = raw
        }
        guard signature.count == size else {
            throw CPKError.invalid(
                "the signature is \(signature.count) bytes, but a \(pending.scheme.rawValue) signature by this key is \(size) bytes")
        }
        return signature
    }

    static func check(_ signature: [UInt8], digest: [UInt8], pending: Pending, signer: VerifyingKey) throws {
        guard try !signer.verify(signature: signature, digest: digest, scheme: pending.scheme) else { return }
        let guess = signer.diagnose(signature: signature, digest: digest, expected: pending.scheme)
            ?? "was it made with another key, or over other bytes?"
        throw CPKError.check(
            "the signature does not verify, so it was not stitched in; expected: \(pending.scheme.summary), "
                + "by the \(signer.type) key; \(guess); sign with e.g.: \(pending.scheme.opensslCommand)")
    }
}

/// Reads a package's payload either straight through later, or (when something must be known
/// from the trailer first) now, into an anonymous temporary file to replay afterwards.
final class PayloadReplay {
    private let input: PackageInput
    private var spool: FileDescriptor?
    private var spooled: UInt64 = 0
    private(set) var deferred: [Int: [UInt8]] = [:]

    init(input: PackageInput, keepingPayload: Bool) throws {
        self.input = input
        guard keepingPayload else { return }
        let spool = try TemporaryFile.anonymous(purpose: "payload kept until the signature is checked")
        while let chunk = try input.nextPayloadChunk() {
            try spool.write(chunk)
            spooled += UInt64(chunk.count)
        }
        deferred = try input.deferredStreams()
        self.spool = spool
    }

    func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        if let spool {
            try spool.forEachPiece(at: 0, count: spooled, pieceSize: Chunks.size, what: "the kept payload", body)
        } else {
            while let chunk = try input.nextPayloadChunk() { try body(chunk) }
        }
    }

    func remainingDeferred() throws -> [Int: [UInt8]] {
        spool == nil ? try input.deferredStreams() : deferred
    }
}
