import COpenSSL

/// Comparisons of secrets, or of values derived from them, whose time does not depend on
/// where they differ (OpenSSL's CRYPTO_memcmp).
public enum ConstantTime {
    /// True when `a` and `b` are the same bytes; the lengths are not secret.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }
}
