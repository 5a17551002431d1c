#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKFormat

/// Releases the plaintext payload of a package only once it is authenticated: the AES-GCM tag
/// (when encrypted), the plaintext SHA-256 against the digest stream, the package digest, and the
/// payload and package signatures (`SignatureGate`). No byte reaches the destination before all pass.
///
/// A named file is written as an invisible temporary file and appears only once checked. For
/// standard output, the payload as read (ciphertext, or plaintext when not encrypted) is kept
/// in a private anonymous file during the check, and decrypted again from there afterwards.
public enum PayloadRelease {
    /// How signatures are judged before a payload is released.
    public struct SignatureChecks: Sendable {
        /// The trust decision; without a trust input, signatures must still verify.
        public var trust: TrustPolicy
        /// False skips the payload signature (a debugging aid); the tag, the digest and the
        /// package signature are always checked.
        public var payloadSignature = true

        public init(trust: TrustPolicy, payloadSignature: Bool = true) {
            self.trust = trust
            self.payloadSignature = payloadSignature
        }

        /// Every signature must verify; no signer is judged (no trust input).
        public static var integrity: SignatureChecks { SignatureChecks(trust: TrustPolicy(time: Int(time(nil)))) }
    }

    /// - Parameters:
    ///   - key: the AES-256 class key, required when the payload is encrypted.
    ///   - signatures: how signatures are judged.
    /// - Returns: the number of plaintext bytes released.
    @discardableResult
    public static func release(
        from input: PackageInput, to output: OutputFile, key: [UInt8]? = nil, signatures: SignatureChecks = .integrity
    ) throws -> UInt64 {
        let plan = try Plan(input: input, key: key)
        let spool = output.isStandardOutput ? try TemporaryFile.anonymous(purpose: "payload being checked") : nil
        let buffer = ChunkBuffer()
        let hasher = try SHA256Hasher()
        let decryptor = try plan.makeDecryptor()
        let gate = try SignatureGate(head: input.head, trust: signatures.trust, checkPayloadSignature: signatures.payloadSignature)
        var size: UInt64 = 0
        let overlap = Overlap()
        // A named file (invisible until committed) is written behind, past the page cache once large.
        let file = spool == nil ? WriteBehind(output.descriptor) : nil
        // The second core hashes the plaintext while this one digests the package, decrypts,
        // writes and reads the next chunk. Decrypted plaintext is in buffers of this loop's own,
        // two in turn, and is hashed a round later; plaintext as read is hashed in its round,
        // and the next chunk is read beside it only where the input keeps its previous chunk.
        let plaintexts = [ChunkBuffer(), ChunkBuffer()]
        let decrypts = decryptor != nil
        let readsBeside = decrypts || input.keepsPreviousChunk
        var turn = 0
        var decrypted: UnsafeRawBufferPointer?
        var next = try input.nextPayloadChunk()
        while let chunk = next {
            let toHash = decrypts ? decrypted : chunk
            try overlap.run({ if let toHash { hasher.update(toHash) } }, alongside: {
                try gate.addPayload(chunk)
                let plaintext = try plan.decrypt(chunk, with: decryptor, into: plaintexts[turn])
                try spool?.write(chunk)
                try file?.write(plaintext)
                if decrypts { (decrypted, turn) = (plaintext, 1 - turn) }
                if readsBeside { next = try input.nextPayloadChunk() }
            })
            if !readsBeside { next = try input.nextPayloadChunk() }
            size += UInt64(chunk.count)
        }
        // The last plaintext is in one of `plaintexts`, which must outlive its hashing.
        withExtendedLifetime(plaintexts) { if let decrypted { hasher.update(decrypted) } }
        let deferred = try input.deferredStreams()
        try plan.checkTag(decryptor, deferred: deferred, name: input.name)
        try plan.checkDigest(try hasher.finalize(), deferred: deferred, name: input.name)
        do {
            try gate.check(deferred: deferred, name: input.name)
        } catch let error as CPKError {
            throw error.appending("; nothing was written").located(in: input.name)
        }
        try file?.finish()
        if let spool {
            let again = try plan.makeDecryptor()
            try spool.forEachPiece(at: 0, count: size, pieceSize: Chunks.size, what: "the checked payload") {
                try output.descriptor.write(try plan.decrypt($0, with: again, into: buffer))
            }
        }
        try output.commit()
        return size
    }

    /// What the manifest says about checking the payload, resolved against the streams.
    struct Plan {
        let head: PackageHead
        let key: [UInt8]?
        let nonce: [UInt8]?
        let tagIndex: Int?
        let digestIndex: Int

        init(input: PackageInput, key: [UInt8]?) throws {
            try self.init(head: input.head, key: key, name: input.name)
        }

        /// The same from a package head (cpk-verify checks the payload this way too).
        init(head: PackageHead, key: [UInt8]?, name: String) throws {
            self.head = head
            guard case .sha256(let digestIndex) = head.manifest.payload.digest else {
                throw CPKError.check("\(name) has no payload digest, so its payload cannot be checked; nothing was written")
            }
            self.digestIndex = digestIndex
            switch head.manifest.payload.encryption {
            case .none:
                (self.key, nonce, tagIndex) = (nil, nil, nil)
            case .aesGCM(let keyName, _, let nonceIndex, let tagIndex):
                guard let key else {
                    throw CPKError(
                        .usage, "the payload of \(name) is encrypted with the key \"\(keyName)\"; give a key source",
                        reason: .keySourceNeeded)
                }
                guard case .bytes(let nonce) = head.streams[nonceIndex] else {
                    throw CPKError.invalid("\(name): the nonce must come before the payload")
                }
                (self.key, self.nonce, self.tagIndex) = (key, nonce, tagIndex)
            }
        }

        func makeDecryptor() throws -> AESGCM? {
            guard let key, let nonce else { return nil }
            return try AESGCM(.decrypt, key: key, nonce: nonce)
        }

        func decrypt(_ chunk: UnsafeRawBufferPointer, with decryptor: AESGCM?, into buffer: ChunkBuffer) throws
            -> UnsafeRawBufferPointer
        {
            guard let decryptor else { return chunk }
            let plaintext = buffer.space(for: chunk.count)
            try decryptor.update(chunk, into: plaintext)
            return UnsafeRawBufferPointer(plaintext)
        }

        func checkTag(_ decryptor: AESGCM?, deferred: [Int: [UInt8]], name: String) throws {
            guard let decryptor, let tagIndex else { return }
            guard try decryptor.finishDecryption(tag: stream(tagIndex, deferred: deferred)) else {
                // The key check value only words the refusal (docs/format.md §4.1).
                if let value = head.keyCheckValue, let key, try !KeyCheckValue.matches(value, key: key) {
                    throw CPKError(
                        .checkFailed,
                        "\(name) was sealed with another class key than the one given (its key check value differs); nothing was written",
                        reason: .classKeyMismatch)
                }
                throw CPKError.check(
                    "\(name): AES-GCM authentication failed: the ciphertext, nonce or tag was altered, or the key is wrong; nothing was written")
            }
        }

        func checkDigest(_ actual: [UInt8], deferred: [Int: [UInt8]], name: String) throws {
            let expected = stream(digestIndex, deferred: deferred)
            guard actual == expected else {
                throw CPKError.check(
                    "payload digest mismatch in \(name): the payload hashes to \(hex(actual)), the package says \(hex(expected)); nothing was written")
            }
        }

        func stream(_ index: Int, deferred: [Int: [UInt8]]) -> [UInt8] {
            if case .bytes(let bytes) = head.streams[index] { return bytes }
            return deferred[index] ?? []
        }
    }
}

public func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
