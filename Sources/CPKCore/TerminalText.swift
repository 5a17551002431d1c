/// Text from a package, a server or a file name, made safe to print on a terminal line.
///
/// A manifest's name or vendor, a key service's error message or a certificate's subject is
/// chosen by whoever made it. Printed raw, a newline forges a line of its own ("Signer check
/// PASSED"), ESC and C1 controls retitle or blank the terminal, BEL rings, and Unicode format
/// characters (right-to-left overrides, zero-width spaces and joiners, isolates) make the text
/// read differently from what it is. Every human-readable line that carries such text goes
/// through `escaped(_:)`; JSON output is exact instead (JSON escapes those characters itself).
public enum TerminalText {
    /// `text` with every control character (C0, DEL, C1), format character (general category
    /// Cf: U+200B..U+200F, U+202A..U+202E, U+2066..U+2069, U+FEFF, ...) and line or paragraph
    /// separator shown as `\u{hex}`; newline, carriage return and tab as `\n`, `\r`, `\t`.
    /// Everything else, other scripts included, is kept as it is.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var shown = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": shown += "\\n"
            case "\r": shown += "\\r"
            case "\t": shown += "\\t"
            case _ where needsEscape(scalar): shown += "\\u{\(String(scalar.value, radix: 16))}"
            default: shown.unicodeScalars.append(scalar)
            }
        }
        return shown
    }

    /// True for the scalars `escaped(_:)` does not show as themselves.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }
}
