import CPKCore
import XCTest

final class TerminalTextTests: XCTestCase {
    func testPlainTextIsUnchanged() {
        XCTAssertEqual(TerminalText.escaped("Acme Corp — Zürich 東京 v1.2"), "Acme Corp — Zürich 東京 v1.2")
    }

    func testC0DelAndC1AreEscaped() {
        XCTAssertEqual(TerminalText.escaped("a\nb\rc\td"), #"a\nb\rc\td"#)
        XCTAssertEqual(TerminalText.escaped("\u{1B}]0;title\u{07}"), #"\u{1b}]0;title\u{7}"#)
        XCTAssertEqual(TerminalText.escaped("nul\u{0}del\u{7F}csi\u{9B}"), #"nul\u{0}del\u{7f}csi\u{9b}"#)
    }

    func testBidiAndOtherFormatControlsAreEscaped() {
        XCTAssertEqual(TerminalText.escaped("evil\u{202E}txt.exe"), #"evil\u{202e}txt.exe"#)
        XCTAssertEqual(
            TerminalText.escaped("\u{200B}\u{200C}\u{200D}\u{200E}\u{200F}"), #"\u{200b}\u{200c}\u{200d}\u{200e}\u{200f}"#)
        XCTAssertEqual(TerminalText.escaped("\u{2066}x\u{2067}y\u{2068}z\u{2069}"), #"\u{2066}x\u{2067}y\u{2068}z\u{2069}"#)
        XCTAssertEqual(TerminalText.escaped("\u{FEFF}bom"), #"\u{feff}bom"#)
        XCTAssertEqual(TerminalText.escaped("line\u{2028}para\u{2029}"), #"line\u{2028}para\u{2029}"#)
    }

    func testTheResultHoldsNoCharacterThatNeedsEscaping() {
        let hostile = "A\u{0}\u{7}\u{1B}[8m\n\u{85}\u{202E}\u{2067}\u{AD}Z"
        let shown = TerminalText.escaped(hostile)
        XCTAssertFalse(shown.unicodeScalars.contains(where: TerminalText.needsEscape), shown)
        XCTAssertTrue(shown.hasPrefix("A") && shown.hasSuffix("Z"))
    }

    func testErrorMessagesUseTheSameRule() {
        XCTAssertEqual(CPKError.invalid("name \u{202E}gpj.exe").message, #"name \u{202e}gpj.exe"#)
    }
}
