import CPKCore
import CPKFormat
import CPKPackage

/// A package opened for installing: every stream but the payload in hand, and the payload to
/// read in chunks.
///
/// The contract wants the AES-GCM tag before the first byte of data, but an envelope carries
/// the tag after the payload. So an envelope's payload (ciphertext, nothing secret) is first
/// spooled to an anonymous temporary file, in bounded memory; a `.cpk` is read in place.
final class PackageContents {
    let input: PackageInput
    let payloadSize: UInt64
    private let spool: FileDescriptor?
    private let deferred: [Int: [UInt8]]

    init(_ input: PackageInput) throws {
        self.input = input
        if input is PackageFileInput, let size = input.head.payloadSize {
            payloadSize = size
            spool = nil
            deferred = [:]
            return
        }
        let spool = try TemporaryFile.anonymous(purpose: "payload of \(input.name)")
        var size: UInt64 = 0
        while let chunk = try input.nextPayloadChunk() {
            try spool.write(chunk)
            size += UInt64(chunk.count)
        }
        self.spool = spool
        payloadSize = size
        deferred = try input.deferredStreams()
    }

    var head: PackageHead { input.head }
    var name: String { input.name }

    /// The bytes of a stream other than the payload.
    func stream(_ index: Int) -> [UInt8] {
        switch head.streams[index] {
        case .bytes(let bytes): return bytes
        case .manifest: return head.manifestBytes
        case .deferred: return deferred[index] ?? []
        case .payload: return []
        }
    }

    /// The deferred streams of the head, by index (empty for a `.cpk`).
    var deferredStreams: [Int: [UInt8]] { deferred }

    /// Passes the payload in chunks, once, to `body` on this core and to `job` on the second
    /// (both only read the chunk). A `.cpk` read in place keeps its previous chunk, so there
    /// the second core also reads the next chunk once `job` is done with this one.
    func forEachPayloadChunk(
        overlapping overlap: Overlap, _ job: (UnsafeRawBufferPointer) throws -> Void,
        alongside body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        if let spool {
            try spool.forEachPiece(at: 0, count: payloadSize, pieceSize: Chunks.size, what: "the spooled payload") { chunk in
                try overlap.run({ try job(chunk) }, alongside: { try body(chunk) })
            }
            return
        }
        let readsBeside = input.keepsPreviousChunk
        var next = try input.nextPayloadChunk()
        while let chunk = next {
            try overlap.run(
                {
                    try job(chunk)
                    if readsBeside { next = try input.nextPayloadChunk() }
                }, alongside: { try body(chunk) })
            if !readsBeside { next = try input.nextPayloadChunk() }
        }
    }
}
