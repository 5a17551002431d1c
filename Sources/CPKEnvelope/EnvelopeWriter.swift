import CPKCBOR
import CPKCore
import CPKFormat

/// Writes an envelope: the header at once, then payload chunks, then the trailer.
public final class EnvelopeWriter {
    private let output: FileDescriptor
    private let header: EnvelopeHeader
    private var payloadWritten: UInt64 = 0

    public init(output: FileDescriptor, header: EnvelopeHeader) throws {
        try header.package.validate()
        self.output = output
        self.header = header
        try output.write(CBOREncoding.encode(header.cbor))
    }

    /// Writes payload bytes as one or more chunks (at most the reader's limit each).
    public func writeChunk(_ bytes: UnsafeRawBufferPointer) throws {
        var head = [UInt8](repeating: 0, count: CBOREncoding.maximumHeadSize)
        var offset = 0
        while offset < bytes.count {
            let piece = UnsafeRawBufferPointer(rebasing: bytes[offset..<min(bytes.count, offset + Envelope.maximumItemSize)])
            try head.withUnsafeMutableBytes { head in
                let headSize = CBOREncoding.byteStringHead(length: piece.count, into: head)
                try output.write(head: UnsafeRawBufferPointer(rebasing: head[0..<headSize]), body: piece)
            }
            offset += piece.count
        }
        payloadWritten += UInt64(bytes.count)
    }

    /// Writes bytes passed on unchanged as one chunk: its head and the part in memory, then
    /// the rest moved from its source without copying it through this process where the
    /// kernel can (`ByteMover`).
    public func writeChunk(passing bytes: PassedBytes) throws {
        guard bytes.total > 0 else { return }
        guard bytes.total <= Envelope.maximumItemSize else {
            // Larger than a chunk may be: only in memory can it be split.
            try mover.forEachPiece(of: bytes) { try writeChunk($0) }
            return
        }
        var head = [UInt8](repeating: 0, count: CBOREncoding.maximumHeadSize)
        try head.withUnsafeMutableBytes { head in
            let headSize = CBOREncoding.byteStringHead(length: bytes.total, into: head)
            try output.write(head: UnsafeRawBufferPointer(rebasing: head[0..<headSize]), body: bytes.buffered)
        }
        if bytes.count > 0 {
            try mover.move(PassedBytes(
                buffered: UnsafeRawBufferPointer(start: nil, count: 0), source: bytes.source, offset: bytes.offset,
                count: bytes.count, truncation: bytes.truncation))
        }
        payloadWritten += UInt64(bytes.total)
    }

    private lazy var mover = ByteMover(to: output)

    /// Ends the envelope with the deferred streams.
    public func finish(deferredStreams: [Int: [UInt8]]) throws {
        if let announced = header.package.payloadSize, announced != payloadWritten {
            throw CPKError.invalid("payload was \(payloadWritten) bytes, not the \(announced) announced")
        }
        for index in header.package.deferredStreams {
            guard case .deferred(let size) = header.package.streams[index], deferredStreams[index]?.count == size else {
                throw CPKError.invalid("deferred stream \(index) is missing or not its announced size")
            }
        }
        let trailer = EnvelopeTrailer(payloadSize: payloadWritten, streams: deferredStreams)
        try output.write(CBOREncoding.encode(trailer.cbor))
    }
}
