/// A decoded CBOR data item (RFC 8949), for the small items of an envelope.
/// Payload chunks never become values: they are handed over as buffer views.
public indirect enum CBORValue: Sendable, Equatable {
    case unsigned(UInt64)
    /// A negative integer, stored as CBOR does: the value is -1 - n.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBORValue])
    case map([MapEntry])
    case tagged(UInt64, CBORValue)
    case bool(Bool)
    case null
    case float(Double)

    public struct MapEntry: Sendable, Equatable {
        public var key: CBORValue
        public var value: CBORValue
        public init(_ key: CBORValue, _ value: CBORValue) {
            self.key = key
            self.value = value
        }
    }

    /// A map with text keys, in the given order.
    public static func textMap(_ entries: [(String, CBORValue)]) -> CBORValue {
        .map(entries.map { MapEntry(.text($0.0), $0.1) })
    }

    /// The value under a text key, when this is a map.
    public subscript(key: String) -> CBORValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == .text(key) }?.value
    }

    /// How a message names this item's type.
    public var typeName: String {
        switch self {
        case .unsigned, .negative: return "an integer"
        case .bytes: return "a byte string"
        case .text: return "a text string"
        case .array: return "an array"
        case .map: return "a map"
        case .tagged(let tag, _): return "a tag \(tag) item"
        case .bool: return "a boolean"
        case .null: return "null"
        case .float: return "a float"
        }
    }
}

extension CBORValue {
    /// The self-described CBOR tag (RFC 8949 section 3.4.6) every document of the suite starts with.
    public static let selfDescribeTag: UInt64 = 55799
    /// Its encoding, the first three bytes of an envelope or a wrapped-key document.
    public static let selfDescribePrefix: [UInt8] = [0xD9, 0xD9, 0xF7]
}
