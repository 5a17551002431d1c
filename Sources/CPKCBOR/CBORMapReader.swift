import CPKCore

/// Reads the fields of a CBOR map with text keys, the one reader of the envelope's parts and
/// the wrapped-key documents: a missing key, a key that is not text, a repeated key and an
/// unknown key (one no read asked for, found by `finish`) are each refused, as invalid input
/// named after `what`.
///
/// The two formats have published their messages for a map's own faults (a key that is not
/// text, a repeated key) differently, and tests and people compare them; `KeyFaults` keeps
/// each, so moving to one reader changed no message.
public struct CBORMapReader {
    /// When, and in what words, a map's own faults are refused.
    public enum KeyFaults: Sendable {
        /// When the reader is made, naming the key (`has the key "k" twice`); `finish` names
        /// an unknown key too. The wrapped-key documents.
        case refusedFirst
        /// By `finish`, after the fields were read (so a missing field is reported first),
        /// without naming the key (`has an unknown or repeated key`). The envelope.
        case refusedLast
    }

    public let what: String
    private let faults: KeyFaults
    /// The first value of each text key, and the keys in map order.
    private var fields: [String: CBORValue] = [:]
    private var order: [String] = []
    private var used: Set<String> = []
    /// A key that is not text, or a text key seen before (refusedLast reports them in finish).
    private var nonTextKey = false
    private var repeatedKey = false

    public init(_ value: CBORValue, what: String, keyFaults: KeyFaults) throws {
        guard case .map(let entries) = value else { throw CPKError.invalid("\(what) must be a map, not \(value.typeName)") }
        (self.what, faults) = (what, keyFaults)
        for entry in entries {
            guard case .text(let key) = entry.key else {
                if faults == .refusedFirst { throw CPKError.invalid("\(what) has a key that is not text") }
                nonTextKey = true
                continue
            }
            guard fields[key] == nil else {
                if faults == .refusedFirst { throw CPKError.invalid("\(what) has the key \"\(key)\" twice") }
                repeatedKey = true
                continue
            }
            fields[key] = entry.value
            order.append(key)
        }
    }

    /// Whether the map has `key` (an optional field).
    public func contains(_ key: String) -> Bool { fields[key] != nil }

    /// The value of `key`, which must be there.
    public mutating func value(_ key: String) throws -> CBORValue {
        guard let value = fields[key] else { throw CPKError.invalid("\(what) has no \"\(key)\"") }
        used.insert(key)
        return value
    }

    public mutating func text(_ key: String) throws -> String {
        guard case .text(let text) = try value(key) else { throw CPKError.invalid("\(what): \(key) must be text") }
        return text
    }

    /// A byte string of one of `sizes` bytes.
    public mutating func bytes(_ key: String, sizes: ClosedRange<Int>) throws -> [UInt8] {
        guard case .bytes(let bytes) = try value(key) else { throw CPKError.invalid("\(what): \(key) must be a byte string") }
        guard sizes.contains(bytes.count) else {
            let expected = sizes.count == 1 ? "\(sizes.lowerBound)" : "\(sizes.lowerBound) to \(sizes.upperBound)"
            throw CPKError.invalid("\(what): \(key) is \(bytes.count) bytes, expected \(expected)")
        }
        return bytes
    }

    /// An unsigned integer up to `limit`.
    public mutating func count<T: BinaryInteger>(_ key: String, limit: UInt64) throws -> T {
        guard case .unsigned(let n) = try value(key), n <= limit else {
            throw CPKError.invalid("\(what): \(key) must be a whole number up to \(limit)")
        }
        return T(n)
    }

    /// Refuses a key no read asked for (and, refusedLast, the map's own faults).
    public func finish() throws {
        let unknown = order.filter { !used.contains($0) }
        switch faults {
        case .refusedFirst:
            if let first = unknown.sorted().first { throw CPKError.invalid("\(what) has an unknown key \"\(first)\"") }
        case .refusedLast:
            if nonTextKey || !unknown.isEmpty { throw CPKError.invalid("\(what) has an unknown or repeated key") }
            if repeatedKey { throw CPKError.invalid("\(what) has a repeated key") }
        }
    }
}
