import CPKCore

/// The key check value of a class key (docs/format.md §4.1): the first 8 bytes of
/// HMAC-SHA-256 under the key of a fixed label. A package records it so that a device whose
/// installed key is another one (not yet synced after a rotation) can say so, instead of
/// blaming tampering when the tag check fails. It identifies a key without revealing it: it is
/// a PRF output under a 256-bit key, and the GCM tag of any package already lets a guessed key
/// be tested.
public enum KeyCheckValue {
    public static let size = 8
    static let label = Array("cpk class key check value v1".utf8)

    /// The check value of `key`.
    public static func of(_ key: [UInt8]) throws -> [UInt8] {
        Array(try HMACSHA256.mac(key: key, data: label).prefix(size))
    }

    /// True when `value` is the check value of `key`, compared in constant time.
    public static func matches(_ value: [UInt8], key: [UInt8]) throws -> Bool {
        try ConstantTime.equal(value, of(key))
    }
}
