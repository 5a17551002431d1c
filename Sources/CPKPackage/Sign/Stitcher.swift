import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat

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
    @discardableResult
    public static func stitch(
        _ input: PackageInput, signature: [UInt8], key: VerifyingKey?, log entry: LogEntry,
        to output: () throws -> PackageOutput
    ) throws -> SigningReport {
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
        return try SigningReport(stitched: pending, signer: signer, digest: digest, head: head)
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
            throw CPKError(
                .usage, "the package does not embed the signer's certificate or key: give it to check the signature",
                reason: .signerKeyNeeded)
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
