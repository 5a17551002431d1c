/// The key check stream (docs/format.md §4.1): an unreferenced stream that records the key
/// check value of the class key that sealed the payload. No manifest field names it (the
/// manifest has no optional fields, §6.4), so a reader recognises it by its content: exactly
/// 16 bytes, the 8 ASCII bytes `cpk-kcv1` then the 8-byte value. Readers that do not know it
/// skip it as any unreferenced stream (§4 rule 4).
public enum KeyCheckStream {
    public static let magic = Array("cpk-kcv1".utf8)
    public static let valueSize = 8
    public static let size = magic.count + valueSize

    /// The stream's bytes for a check value of `valueSize` bytes.
    public static func encode(_ value: [UInt8]) -> [UInt8] {
        precondition(value.count == valueSize, "a key check value is \(valueSize) bytes")
        return magic + value
    }

    /// The check value if `bytes` is a key check stream.
    public static func value(in bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count == size, Array(bytes.prefix(magic.count)) == magic else { return nil }
        return Array(bytes.suffix(valueSize))
    }
}

extension PackageHead {
    /// Where a key check stream goes: after every other stream, so the streams before it keep
    /// the indexes of the reference layout (§9.2).
    public mutating func appendKeyCheck(_ value: [UInt8]) {
        insertStream(.bytes(KeyCheckStream.encode(value)), at: streams.count)
    }

    /// The index of the package's key check stream: the one unreferenced stream that is a key
    /// check stream. Nil when there is none, or more than one (a reader does not guess).
    public var keyCheckIndex: Int? {
        let roles = manifest.roles(streamCount: streams.count, manifestIndex: manifestIndex)
        let found = streams.indices.filter { index in
            guard roles[index] == .unreferenced, case .bytes(let bytes) = streams[index] else { return false }
            return KeyCheckStream.value(in: bytes) != nil
        }
        return found.count == 1 ? found[0] : nil
    }

    /// The class key's check value the package records, if it records one.
    public var keyCheckValue: [UInt8]? {
        guard let index = keyCheckIndex, case .bytes(let bytes) = streams[index] else { return nil }
        return KeyCheckStream.value(in: bytes)
    }
}
