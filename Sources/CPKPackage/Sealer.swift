import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat

/// Encrypts the payload of a package with AES-256-GCM, streaming.
///
/// The nonce and tag streams go right after the payload; for a package from `cpk-pack` that
/// gives the reference order (payload, nonce, tag, digest, ..., manifest). The plaintext
/// digest stays: it is what the payload signature covers and what the device checks.
public enum Sealer {
    /// - Parameter keyCheck: record the key's check value in a key check stream after every
    ///   other stream (docs/format.md §4.1); false writes the reference layout exactly.
    public static func seal(
        _ input: PackageInput, key: [UInt8], keyName: String, keyCheck: Bool = true, log entry: LogEntry,
        to output: PackageOutput
    ) throws {
        var head = input.head
        try checkSealable(head, name: input.name)
        let nonce = try SecureRandom.bytes(AESGCM.nonceSize)
        let payloadIndex = head.manifest.payload.data
        let (nonceIndex, tagIndex) = (payloadIndex + 1, payloadIndex + 2)
        head.insertStream(.bytes(nonce), at: nonceIndex)
        head.insertStream(.deferred(size: AESGCM.tagSize), at: tagIndex)
        head.manifest.payload.encryption = .aesGCM(
            keyName: keyName, keyStrength: 256, nonce: nonceIndex, tag: tagIndex)
        if keyCheck { head.appendKeyCheck(try KeyCheckValue.of(key)) }

        try output.begin(head: head, log: input.log + [entry])
        let cipher = try AESGCM(.encrypt, key: key, nonce: nonce)
        let buffer = ChunkBuffer()
        while let chunk = try input.nextPayloadChunk() {
            let ciphertext = buffer.space(for: chunk.count)
            try cipher.update(chunk, into: ciphertext)
            try output.writePayload(UnsafeRawBufferPointer(ciphertext))
        }
        var deferred: [Int: [UInt8]] = [:]
        for (index, bytes) in try input.deferredStreams() {
            deferred[index >= nonceIndex ? index + 2 : index] = bytes  // as insertStream renumbered
        }
        deferred[tagIndex] = try cipher.finishEncryption()
        try output.finish(deferredStreams: deferred)
    }

    /// Refuses what sealing cannot do right: a payload already encrypted, or one a package
    /// signature already covers.
    public static func checkSealable(_ head: PackageHead, name: String) throws {
        if case .aesGCM(let keyName, _, _, _) = head.manifest.payload.encryption {
            throw CPKError.invalid(
                "the payload of \(name) is already encrypted (AES-GCM, key \"\(keyName)\"); sealing it again would encrypt it twice")
        }
        if let size = head.payloadSize, size > AESGCM.maximumMessageSize {
            throw CPKError.invalid(
                "the payload of \(name) is \(size) bytes, beyond AES-GCM's single-message limit of \(AESGCM.maximumMessageSize) bytes")
        }
        guard head.manifest.package.signature == .none else {
            throw CPKError.invalid(
                "\(name) has a package signature, which covers the payload bytes; seal first, then sign the package")
        }
    }
}

/// A reusable output buffer for transformed chunks, grown only when a chunk is larger.
final class ChunkBuffer {
    private var storage = UnsafeMutableRawBufferPointer.allocate(byteCount: Chunks.size, alignment: 16)

    deinit { storage.deallocate() }

    func space(for count: Int) -> UnsafeMutableRawBufferPointer {
        if count > storage.count {
            storage.deallocate()
            storage = .allocate(byteCount: count, alignment: 16)
        }
        return UnsafeMutableRawBufferPointer(rebasing: storage[0..<count])
    }
}
