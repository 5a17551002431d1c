import CPKCore

/// Writes a `.cpk` in one pass, so the output may be a pipe: header and table first, then the
/// payload as it arrives, then every other stream in index order.
///
/// This works because every stream's size is known before the payload is written. The payload
/// is placed first after the table whatever its index; with the payload at index 0 that is the
/// reference layout, streams in index order without padding.
public final class PackageWriter {
    private let output: FileDescriptor
    private let sizes: [UInt64]
    private let payloadIndex: Int
    private var payloadWritten: UInt64 = 0
    /// Sees every byte written, in order: lets a caller digest the package while it is written
    /// (the OCI layer digest) instead of reading it back.
    private let tap: ((UnsafeRawBufferPointer) -> Void)?
    /// For a new regular file: everything goes out through `WriteBehind` (a second thread, past
    /// the page cache), payload bytes passed from a file too, read through memory. Bytes passed
    /// from a pipe are spliced into the file instead (no copy through this process): then the
    /// write-behind is drained and dropped, and the rest goes through the page cache.
    private var behind: WriteBehind?

    /// Starts a package whose streams will have exactly `streamSizes`.
    /// - Parameter writeBehind: write a new regular file (one this process opened) through
    ///   `WriteBehind`; ignored for any other output.
    public init(
        output: FileDescriptor, streamSizes: [UInt64], manifestIndex: Int, payloadIndex: Int,
        tap: ((UnsafeRawBufferPointer) -> Void)? = nil, writeBehind: Bool = false
    ) throws {
        guard streamSizes.count >= 2, streamSizes.count <= Int(UInt16.max) else {
            throw CPKError.invalid("a package needs 2 to 65535 streams, not \(streamSizes.count)")
        }
        self.output = output
        self.sizes = streamSizes
        self.payloadIndex = payloadIndex
        self.tap = tap
        behind = writeBehind && output.owned && output.isSeekable ? WriteBehind(output) : nil
        let header = FrameHeader(streamCount: streamSizes.count, manifestIndex: manifestIndex)
        try write(header.encoded + StreamEntry.encodeTable(try Self.layout(sizes: streamSizes, payloadIndex: payloadIndex)))
    }

    private func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { (raw) throws in try write(raw) }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let behind { try behind.write(bytes) } else { try output.write(bytes) }
        tap?(bytes)
    }

    /// The stream table for streams of these sizes: payload first, then the rest in index order.
    public static func layout(sizes: [UInt64], payloadIndex: Int) throws -> [StreamEntry] {
        var entries = [StreamEntry](repeating: StreamEntry(offset: 0, size: 0), count: sizes.count)
        var offset: UInt64 = 0
        for index in [payloadIndex] + sizes.indices.filter({ $0 != payloadIndex }) {
            entries[index] = StreamEntry(offset: offset, size: sizes[index])
            let (next, overflow) = offset.addingReportingOverflow(sizes[index])
            guard !overflow else {
                throw CPKError.invalid("the streams' sizes add up to more than a package can hold (stream \(index) is \(sizes[index]) bytes)")
            }
            offset = next
        }
        return entries
    }

    public func writePayload(_ chunk: UnsafeRawBufferPointer) throws {
        payloadWritten += UInt64(chunk.count)
        guard payloadWritten <= sizes[payloadIndex] else {
            throw CPKError.invalid("payload is longer than the \(sizes[payloadIndex]) bytes announced")
        }
        try write(chunk)
    }

    /// Writes payload bytes passed on unchanged, moving the part still in their source
    /// without copying it through this process unless a tap must see it (`ByteMover`).
    public func writePayload(passing bytes: PassedBytes) throws {
        payloadWritten += UInt64(bytes.total)
        guard payloadWritten <= sizes[payloadIndex] else {
            throw CPKError.invalid("payload is longer than the \(sizes[payloadIndex]) bytes announced")
        }
        if let writer = behind, bytes.count > 0, bytes.offset == nil {
            try writer.finish()
            behind = nil
        }
        if tap == nil && behind == nil {
            try mover.move(bytes)
        } else {
            try mover.forEachPiece(of: bytes) { try write($0) }
        }
    }

    private lazy var mover = ByteMover(to: output)

    /// Writes the remaining streams; `streams[i]` is the content of stream `i` (the payload's
    /// entry is ignored).
    public func finish(streams: [[UInt8]]) throws {
        guard payloadWritten == sizes[payloadIndex] else {
            throw CPKError.invalid("payload ended after \(payloadWritten) of the \(sizes[payloadIndex]) bytes announced")
        }
        for index in sizes.indices where index != payloadIndex {
            guard UInt64(streams[index].count) == sizes[index] else {
                throw CPKError.invalid("stream \(index) is \(streams[index].count) bytes, not the \(sizes[index]) announced")
            }
            try write(streams[index])
        }
        try behind?.finish()
    }
}
