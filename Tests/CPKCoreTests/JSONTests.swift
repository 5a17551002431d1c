import CPKCore
import XCTest

final class JSONTests: XCTestCase {
    func testRoundTripKeepsKeyOrderAndEscapes() throws {
        let text = #"{"b":1,"a":[true,false,null,-2.5e3],"c":"q\"\\\n\u0001é"}"#
        let value = try JSONValue(parsing: Array(text.utf8))
        XCTAssertEqual(value.compactText, #"{"b":1,"a":[true,false,null,-2.5e3],"c":"q\"\\\n\u0001é"}"#)
    }

    func testDecodesSurrogatePairs() throws {
        let value = try JSONValue(parsing: Array(#""\ud83d\ude00""#.utf8))
        XCTAssertEqual(value, .string("😀"))
    }

    func testRejectsMalformedDocuments() {
        for bad in ["", "{", "\"\\u+123\"", "{\"a\":1,}", "[1 2]", "{\"a\":1,\"a\":2}", "01", "\"\\ud800\"", "tru", "{} x", "\"a\u{01}\""] {
            XCTAssertThrowsError(try JSONValue(parsing: Array(bad.utf8)), "accepted \(bad)")
        }
    }

    func testRejectsDeepNesting() {
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        XCTAssertThrowsError(try JSONValue(parsing: Array(deep.utf8)))
    }

    func testPrettyTextParsesBackToTheSameValue() throws {
        let value = JSONValue.object([("x", .array([.integer(1), .object([])])), ("y", .string("z"))])
        XCTAssertEqual(try JSONValue(parsing: Array(value.prettyText.utf8)), value)
    }
}
