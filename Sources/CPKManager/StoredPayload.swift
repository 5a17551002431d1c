import CPKCore
import CPKCrypto

/// The payload of an installed application, decrypted from its at-rest form and checked
/// against the tag and the SHA-256 its record holds before any byte is released.
struct StoredPayload {
    let opened: ApplicationFile.Opened
    let storageKey: [UInt8]

    static let pieceSize = 1 << 20

    /// Decrypts everything and checks it, releasing nothing: the state's consistency check.
    func check() throws {
        try pass { _ in }
    }

    /// Writes the plaintext to `output`. A file is written invisibly and appears once checked;
    /// standard output receives bytes only after a first, checking pass.
    func release(to output: OutputFile) throws -> UInt64 {
        if output.isStandardOutput {
            try check()
        }
        try pass { try output.descriptor.write($0) }
        try output.commit()
        return opened.record.application.size
    }

    /// One decrypting pass over the payload, `body` seeing each piece of plaintext; throws when
    /// the tag or the digest does not match the record.
    private func pass(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let record = opened.record
        let id = record.application.id
        let decryptor = try AESGCM(.decrypt, key: storageKey, nonce: record.nonce)
        let hasher = try SHA256Hasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.pieceSize, alignment: 16)
        defer { buffer.deallocate() }
        try opened.file.forEachPiece(
            at: opened.payloadOffset, count: record.application.size, pieceSize: Self.pieceSize, what: "the stored \"\(id)\""
        ) { piece in
            let plaintext = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<piece.count])
            try decryptor.update(piece, into: plaintext)
            hasher.update(UnsafeRawBufferPointer(plaintext))
            try body(UnsafeRawBufferPointer(plaintext))
        }
        guard try decryptor.finishDecryption(tag: record.tag), try hasher.finalize() == record.application.sha256 else {
            throw CPKError.io("the stored application \"\(id)\" is damaged: it does not authenticate under the storage key")
        }
    }
}
