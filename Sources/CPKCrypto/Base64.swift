/// Standard base64 (RFC 4648 §4, with padding), strict: a key store value or a wrapped key
/// that is not exactly base64 is an error, never something to guess at.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, symbol) in alphabet.enumerated() { table[Int(symbol)] = UInt8(index) }
        return table
    }()

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            let b0 = bytes[index]
            let b1 = count > 1 ? bytes[index + 1] : 0
            let b2 = count > 2 ? bytes[index + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(count > 1 ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(count > 2 ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes padded base64; nil when the text is not exactly that.
    /// - Parameter ignoringWhitespace: skip spaces and line breaks (text read from a file).
    public static func decode(_ text: String, ignoringWhitespace: Bool = false) -> [UInt8]? {
        decode(Array(text.utf8), ignoringWhitespace: ignoringWhitespace)
    }

    public static func decode(_ input: [UInt8], ignoringWhitespace: Bool = false) -> [UInt8]? {
        let symbols = ignoringWhitespace ? input.filter { !isWhitespace($0) } : input
        guard symbols.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(symbols.count / 4 * 3)
        var index = 0
        while index < symbols.count {
            let isLast = index + 4 == symbols.count
            guard let group = decodeGroup(symbols[index..<index + 4], isLast: isLast) else { return nil }
            out += group
            index += 4
        }
        return out
    }

    /// One group of four symbols; `=` padding is allowed only at the very end.
    private static func decodeGroup(_ group: ArraySlice<UInt8>, isLast: Bool) -> [UInt8]? {
        let symbols = Array(group)
        let padding = symbols.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2, padding == 0 || isLast else { return nil }
        var bits: UInt32 = 0
        for symbol in symbols[..<(4 - padding)] {
            let value = values[Int(symbol)]
            guard value != 0xFF else { return nil }
            bits = bits << 6 | UInt32(value)
        }
        bits <<= UInt32(6 * padding)
        let bytes = [UInt8(bits >> 16 & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)]
        // Unused low bits must be zero, so each byte string has exactly one encoding.
        let kept = 3 - padding
        guard bytes[kept...].allSatisfy({ $0 == 0 }) else { return nil }
        return Array(bytes[..<kept])
    }

    /// True when every byte is a base64 symbol, padding or whitespace.
    public static func looksLikeBase64(_ input: [UInt8]) -> Bool {
        !input.isEmpty && input.allSatisfy { values[Int($0)] != 0xFF || $0 == UInt8(ascii: "=") || isWhitespace($0) }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}

/// Lowercase hexadecimal, for fingerprints.
public enum Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of hexadecimal text (either case; whitespace ignored unless told otherwise),
    /// or nil when it is not an even number of hex digits.
    public static func decode(_ text: [UInt8], ignoringWhitespace: Bool = true) -> [UInt8]? {
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case 0x30...0x39: return digit - 0x30
            case 0x61...0x66: return digit - 0x61 + 10
            case 0x41...0x46: return digit - 0x41 + 10
            default: return nil
            }
        }
        let digits = ignoringWhitespace ? text.filter { ![0x20, 0x0A, 0x0D, 0x09].contains($0) } : text
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index + 1 < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
