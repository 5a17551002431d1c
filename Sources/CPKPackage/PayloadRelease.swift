import CPKCore
import CPKCrypto
import CPKFormat

/// Releases the plaintext payload of an unencrypted package only once its SHA-256 matches the
/// package's digest stream: no byte reaches the destination before that check.
public enum PayloadRelease {
    /// Writes the payload to `output` (a temporary file until committed, or standard output).
    /// - Returns: the number of payload bytes released.
    @discardableResult
    public static func release(from input: PackageInput, to output: OutputFile) throws -> UInt64 {
        let manifest = input.head.manifest
        guard manifest.payload.encryption == .none else {
            throw CPKError.usage(
                "the payload of \(input.name) is encrypted; decryption needs a key source, which cpk-unpack does not have yet")
        }
        guard case .sha256(let digestIndex) = manifest.payload.digest else {
            throw CPKError.check("\(input.name) has no payload digest, so its payload cannot be checked; nothing was written")
        }
        // A named file is invisible until committed; standard output must wait for the check.
        let staging = output.isStandardOutput ? try TemporaryFile.anonymous(purpose: "payload being checked") : output.descriptor
        let hasher = try SHA256Hasher()
        var size: UInt64 = 0
        while let chunk = try input.nextPayloadChunk() {
            hasher.update(chunk)
            try staging.write(chunk)
            size += UInt64(chunk.count)
        }
        let actual = try hasher.finalize()
        let expected = try digestStream(digestIndex, of: input)
        guard actual == expected else {
            throw CPKError.check(
                "payload digest mismatch in \(input.name): the payload hashes to \(hex(actual)), the package says \(hex(expected)); nothing was written")
        }
        if output.isStandardOutput {
            try staging.forEachPiece(at: 0, count: size, pieceSize: Chunks.size, what: "the checked payload") {
                try output.descriptor.write($0)
            }
        }
        try output.commit()
        return size
    }

    /// The contents of a stream that is either in the head or deferred after the payload.
    static func digestStream(_ index: Int, of input: PackageInput) throws -> [UInt8] {
        switch input.head.streams[index] {
        case .bytes(let bytes): return bytes
        default: return try input.deferredStreams()[index] ?? []
        }
    }
}

public func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
