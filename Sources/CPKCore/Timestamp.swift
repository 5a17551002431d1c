#if canImport(Glibc)
import Glibc
#endif

/// RFC 3339 UTC timestamps, e.g. `2026-11-26T08:23:15Z`, for build dates and logs.
public enum Timestamp {
    /// Now, or `SOURCE_DATE_EPOCH` when set, so builds can be reproduced byte for byte.
    public static func buildTime() throws -> String {
        if let raw = getenv("SOURCE_DATE_EPOCH") {
            let text = String(cString: raw)
            guard let seconds = Int(text), seconds >= 0 else {
                throw CPKError.usage("SOURCE_DATE_EPOCH must be a number of seconds since 1970, not \"\(text)\"")
            }
            return format(secondsSinceEpoch: seconds)
        }
        return format(secondsSinceEpoch: Int(time(nil)))
    }

    public static func format(secondsSinceEpoch seconds: Int) -> String {
        var clock = time_t(seconds)
        var parts = tm()
        gmtime_r(&clock, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// True for RFC 3339 date-time text: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    public static func isRFC3339(_ text: String) -> Bool {
        let chars = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Bool {
            range.upperBound <= chars.count && chars[range].allSatisfy { (48...57).contains($0) }
        }
        func char(_ i: Int, _ c: Character) -> Bool { i < chars.count && chars[i] == c.asciiValue! }
        guard digits(0..<4), char(4, "-"), digits(5..<7), char(7, "-"), digits(8..<10),
            char(10, "T") || char(10, "t"), digits(11..<13), char(13, ":"), digits(14..<16), char(16, ":"),
            digits(17..<19)
        else { return false }
        var i = 19
        if char(i, ".") {
            i += 1
            let start = i
            while digits(i..<(i + 1)) { i += 1 }
            guard i > start else { return false }
        }
        if char(i, "Z") || char(i, "z") { return i + 1 == chars.count }
        return (char(i, "+") || char(i, "-")) && digits((i + 1)..<(i + 3)) && char(i + 3, ":")
            && digits((i + 4)..<(i + 6)) && i + 6 == chars.count
    }
}
