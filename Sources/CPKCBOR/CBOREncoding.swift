import CLibCBOR

/// Writes CBOR with libcbor's encoders: libcbor writes every item head, this code appends the
/// content bytes of strings after it.
public enum CBOREncoding {
    /// The longest head libcbor writes (initial byte plus an 8-byte argument).
    public static let maximumHeadSize = 9

    public static func encode(_ value: CBORValue) -> [UInt8] {
        var out: [UInt8] = []
        append(value, to: &out)
        return out
    }

    static func append(_ value: CBORValue, to out: inout [UInt8]) {
        switch value {
        case .unsigned(let n): appendHead(to: &out) { cbor_encode_uint(n, $0, $1) }
        case .negative(let n): appendHead(to: &out) { cbor_encode_negint(n, $0, $1) }
        case .bytes(let bytes):
            appendHead(to: &out) { cbor_encode_bytestring_start(bytes.count, $0, $1) }
            out += bytes
        case .text(let text):
            let utf8 = Array(text.utf8)
            appendHead(to: &out) { cbor_encode_string_start(utf8.count, $0, $1) }
            out += utf8
        case .array(let items):
            appendHead(to: &out) { cbor_encode_array_start(items.count, $0, $1) }
            for item in items { append(item, to: &out) }
        case .map(let entries):
            appendHead(to: &out) { cbor_encode_map_start(entries.count, $0, $1) }
            for entry in entries {
                append(entry.key, to: &out)
                append(entry.value, to: &out)
            }
        case .tagged(let tag, let item):
            appendHead(to: &out) { cbor_encode_tag(tag, $0, $1) }
            append(item, to: &out)
        case .bool(let flag): appendHead(to: &out) { cbor_encode_bool(flag, $0, $1) }
        case .null: appendHead(to: &out) { cbor_encode_null($0, $1) }
        case .float(let number): appendHead(to: &out) { cbor_encode_double(number, $0, $1) }
        }
    }

    /// Writes the head of a byte string of `length` bytes into `buffer`; returns its size.
    public static func byteStringHead(length: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        cbor_encode_bytestring_start(length, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), buffer.count)
    }

    private static func appendHead(to out: inout [UInt8], _ encode: (UnsafeMutablePointer<UInt8>, Int) -> Int) {
        var head = [UInt8](repeating: 0, count: maximumHeadSize)
        let written = head.withUnsafeMutableBufferPointer { encode($0.baseAddress!, $0.count) }
        out += head[0..<written]
    }
}
