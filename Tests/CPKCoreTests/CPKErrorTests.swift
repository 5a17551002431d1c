import CPKCore
import XCTest

/// Messages quote hostile input; found by fuzzing (Tests/Fuzz): a scheme name or a CBOR map key
/// holding a newline made a two-line message, and an escape character could drive a terminal.
final class CPKErrorTests: XCTestCase {
    func testControlCharactersInAMessageAreShownEscaped() {
        let error = CPKError.invalid("unknown scheme \"n\ne\" and \u{1B}[31mred\u{1B}[0m, tab\there, nul \u{0}, c1 \u{9B}")
        XCTAssertEqual(
            error.message, #"unknown scheme "n\ne" and \u{1b}[31mred\u{1b}[0m, tab\there, nul \u{0}, c1 \u{9b}"#)
        XCTAssertEqual(error.kind, .invalidInput)
    }

    func testTheLocationIsEscapedToo() {
        let error = CPKError.io("cannot read").located(in: "evil\rname")
        XCTAssertEqual(error.message, #"evil\rname: cannot read"#)
        XCTAssertEqual(error.exitCode, 2)
    }

    func testPrintableTextIsUnchanged() {
        let text = "stream 3 (offset 7, size 9) is beyond the end: «ünïcödé» ✓ \\n stays"
        XCTAssertEqual(CPKError.check(text).message, text)
    }

    func testALocationIsNotRepeated() {
        let once = CPKError.invalid("the payload is not signed").located(in: "app.cpk")
        XCTAssertEqual(once.located(in: "app.cpk").message, "app.cpk: the payload is not signed")
        XCTAssertEqual(once.located(in: "oci:dir").message, "oci:dir: app.cpk: the payload is not signed")
        let strange = CPKError.io("cannot read").located(in: "evil\rname")
        XCTAssertEqual(strange.located(in: "evil\rname").message, #"evil\rname: cannot read"#)
    }
}
