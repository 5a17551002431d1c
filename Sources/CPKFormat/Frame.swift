import CPKCore

/// The binary frame of a `.cpk` file: a 16-byte header, a stream table, then the streams.
/// All integers little-endian (docs/format.md).
public enum Frame {
    public static let magic: UInt32 = 0x0ECC_F00D
    /// The first bytes of every package, for telling a `.cpk` from an envelope.
    public static let magicBytes: [UInt8] = [0x0D, 0xF0, 0xCC, 0x0E]
    public static let version: UInt16 = 1
    public static let headerSize = 16
    public static let tableEntrySize = 16
    public static let manifestTypeJSON: UInt16 = 1
    public static let manifestVersion: UInt16 = 1

    /// Where stream offsets count from: the first byte after the stream table.
    public static func origin(streamCount: Int) -> UInt64 {
        UInt64(headerSize + tableEntrySize * streamCount)
    }
}

/// The fields of the header that vary between packages.
public struct FrameHeader: Sendable, Equatable {
    public var streamCount: Int
    public var manifestIndex: Int

    public init(streamCount: Int, manifestIndex: Int) {
        self.streamCount = streamCount
        self.manifestIndex = manifestIndex
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Frame.headerSize)
        out.appendLittleEndian(Frame.magic)
        out.appendLittleEndian(Frame.version)
        out.appendLittleEndian(UInt16(0))  // flags
        out.appendLittleEndian(UInt16(streamCount))
        out.appendLittleEndian(UInt16(manifestIndex))
        out.appendLittleEndian(Frame.manifestTypeJSON)
        out.appendLittleEndian(Frame.manifestVersion)
        return out
    }

    /// Decodes and checks the 16 header bytes.
    public init(decoding bytes: [UInt8]) throws {
        guard bytes.count >= Frame.headerSize else {
            throw CPKError.invalid("too short for a package header (\(bytes.count) bytes; a header has 16)")
        }
        let magic = bytes.littleEndian(UInt32.self, at: 0)
        guard magic == Frame.magic else {
            let shown = bytes[0..<4].map { hex($0) }.joined(separator: " ")
            throw CPKError.invalid("not a confidential package: starts \(shown), expected 0D F0 CC 0E")
        }
        let version = bytes.littleEndian(UInt16.self, at: 4)
        guard version == Frame.version else {
            throw CPKError.invalid("unsupported frame version \(version) (this tool reads version 1)")
        }
        let flags = bytes.littleEndian(UInt16.self, at: 6)
        guard flags == 0 else { throw CPKError.invalid("unsupported frame flags 0x\(String(flags, radix: 16)) (expected 0)") }
        let count = Int(bytes.littleEndian(UInt16.self, at: 8))
        let manifestIndex = Int(bytes.littleEndian(UInt16.self, at: 10))
        guard count >= 2 else {
            throw CPKError.invalid("package has \(count) stream(s); a valid package has at least 2 (manifest and payload)")
        }
        guard manifestIndex < count else {
            throw CPKError.invalid("manifest stream index \(manifestIndex) is out of range (package has \(count) streams)")
        }
        let manifestType = bytes.littleEndian(UInt16.self, at: 12)
        guard manifestType == Frame.manifestTypeJSON else {
            throw CPKError.invalid("unsupported manifest type \(manifestType) (this tool reads type 1, JSON)")
        }
        let manifestVersion = bytes.littleEndian(UInt16.self, at: 14)
        guard manifestVersion == Frame.manifestVersion else {
            throw CPKError.invalid("unsupported manifest version \(manifestVersion) (this tool reads version 1)")
        }
        self.init(streamCount: count, manifestIndex: manifestIndex)
    }
}

/// One stream table entry: where a stream's bytes are, relative to the origin.
public struct StreamEntry: Sendable, Equatable {
    public var offset: UInt64
    public var size: UInt64

    public init(offset: UInt64, size: UInt64) {
        self.offset = offset
        self.size = size
    }
}

extension StreamEntry {
    public static func encodeTable(_ entries: [StreamEntry]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * Frame.tableEntrySize)
        for entry in entries {
            out.appendLittleEndian(entry.offset)
            out.appendLittleEndian(entry.size)
        }
        return out
    }

    /// Decodes a stream table and checks that every stream lies inside `dataSize` bytes after
    /// the origin and that no two non-empty streams overlap.
    public static func decodeTable(_ bytes: [UInt8], count: Int, dataSize: UInt64) throws -> [StreamEntry] {
        var entries: [StreamEntry] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            let entry = StreamEntry(
                offset: bytes.littleEndian(UInt64.self, at: index * 16),
                size: bytes.littleEndian(UInt64.self, at: index * 16 + 8))
            let (end, overflow) = entry.offset.addingReportingOverflow(entry.size)
            guard !overflow else {
                throw CPKError.invalid("stream \(index): offset \(entry.offset) + size \(entry.size) overflows")
            }
            guard end <= dataSize else {
                throw CPKError.invalid(
                    "stream \(index) (offset \(entry.offset), size \(entry.size)) extends beyond the end of the file (\(dataSize) bytes of stream data)")
            }
            entries.append(entry)
        }
        try checkNoOverlap(entries)
        return entries
    }

    /// Empty streams may share an offset with anything (the reference writer makes one for an
    /// empty payload); streams with bytes may not share any byte.
    static func checkNoOverlap(_ entries: [StreamEntry]) throws {
        let occupied = entries.indices.filter { entries[$0].size > 0 }.sorted { entries[$0].offset < entries[$1].offset }
        for (previous, next) in zip(occupied, occupied.dropFirst())
        where entries[previous].offset + entries[previous].size > entries[next].offset {
            throw CPKError.invalid("streams \(previous) and \(next) overlap")
        }
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return digits.count == 1 ? "0" + digits : digits
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    func littleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        var value = T.zero
        for i in (0..<MemoryLayout<T>.size).reversed() {
            value = value << 8 | T(self[offset + i])
        }
        return value
    }
}
