import CPKCore

/// A `.cpk` file opened for random access: header, stream table and manifest are read and
/// checked on opening; stream contents are read only when asked for.
public final class PackageFile: @unchecked Sendable {
    public let file: FileDescriptor
    public let header: FrameHeader
    public let entries: [StreamEntry]
    public let manifest: Manifest
    /// The manifest exactly as stored, which a package signature may cover.
    public let manifestBytes: [UInt8]
    private let origin: UInt64

    /// The largest stream other than the payload that is read into memory, and the largest manifest.
    public static let smallStreamLimit: UInt64 = 16 << 20
    public static let manifestLimit: UInt64 = 1 << 20

    /// Opens a package; `file` must be seekable (a regular file).
    public init(file: FileDescriptor) throws {
        self.file = file
        do {
            let fileSize = try file.status().size
            var headerBytes = [UInt8](repeating: 0, count: Frame.headerSize)
            guard fileSize >= UInt64(Frame.headerSize) else {
                throw CPKError.invalid("too short for a package header (\(fileSize) bytes; a header has 16)")
            }
            try Self.read(file, into: &headerBytes, at: 0, what: "the header")
            header = try FrameHeader(decoding: headerBytes)
            origin = Frame.origin(streamCount: header.streamCount)
            guard fileSize >= origin else {
                throw CPKError.invalid(
                    "stream table truncated: \(header.streamCount) streams need \(origin) bytes of header and table, the file has \(fileSize)")
            }
            var table = [UInt8](repeating: 0, count: header.streamCount * Frame.tableEntrySize)
            try Self.read(file, into: &table, at: UInt64(Frame.headerSize), what: "the stream table")
            entries = try StreamEntry.decodeTable(table, count: header.streamCount, dataSize: fileSize - origin)

            let manifestSize = entries[header.manifestIndex].size
            guard manifestSize <= Self.manifestLimit else {
                throw CPKError.invalid("manifest stream is \(manifestSize) bytes; the limit is \(Self.manifestLimit)")
            }
            var bytes = [UInt8](repeating: 0, count: Int(manifestSize))
            try Self.read(file, into: &bytes, at: origin + entries[header.manifestIndex].offset, what: "the manifest")
            manifestBytes = bytes
            manifest = try Manifest(encoded: manifestBytes)
            try manifest.checkConsistency(streamSizes: entries.map { $0.size }, manifestIndex: header.manifestIndex)
        } catch {
            throw error.located(in: file.name)
        }
    }

    public var streamCount: Int { entries.count }

    /// Where stream `index` starts, counted from the start of the file.
    public func absoluteOffset(of index: Int) -> UInt64 { origin + entries[index].offset }

    /// Reads a whole stream into memory; refuses streams above `limit` bytes.
    public func readStream(_ index: Int, limit: UInt64 = PackageFile.smallStreamLimit) throws -> [UInt8] {
        let size = entries[index].size
        guard size <= limit else {
            throw CPKError.invalid("stream \(index) is \(size) bytes, more than the \(limit) this tool reads into memory")
                .located(in: file.name)
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        try Self.read(file, into: &bytes, at: absoluteOffset(of: index), what: "stream \(index)")
        return bytes
    }

    /// Passes the bytes of stream `index` to `body` in pieces of at most `chunkSize` bytes.
    public func forEachChunk(
        ofStream index: Int, chunkSize: Int,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try file.forEachPiece(
            at: absoluteOffset(of: index), count: entries[index].size, pieceSize: chunkSize, what: "stream \(index)", body)
    }

    private static func read(_ file: FileDescriptor, into bytes: inout [UInt8], at offset: UInt64, what: String) throws {
        try bytes.withUnsafeMutableBytes { (raw) throws in
            try file.read(into: raw, at: offset, what: what)
        }
    }
}
