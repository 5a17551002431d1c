import XCTest

@testable import CPKCrypto

final class HexTests: XCTestCase {
    func testHexRoundTripsAndIgnoresWhitespaceAndCase() {
        let bytes: [UInt8] = [0x00, 0x7f, 0x80, 0xff, 0x12]
        XCTAssertEqual(Hex.encode(bytes), "007f80ff12")
        XCTAssertEqual(Hex.decode(Array("007f80ff12".utf8)), bytes)
        XCTAssertEqual(Hex.decode(Array("00 7F\n80FF\r\n12\t".utf8)), bytes)
        XCTAssertEqual(Hex.decode([]), [])
    }

    func testWhatIsNotHexIsRefused() {
        XCTAssertNil(Hex.decode(Array("abc".utf8)), "an odd number of digits")
        XCTAssertNil(Hex.decode(Array("zz".utf8)))
        XCTAssertNil(Hex.decode(Array("0x12".utf8)))
        XCTAssertNil(Hex.decode(Array("00 7f".utf8), ignoringWhitespace: false), "strict where the text is ours")
    }
}
