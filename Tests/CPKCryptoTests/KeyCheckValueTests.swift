import CPKCrypto
import XCTest

/// docs/format.md §4.1 rule 1, with the key of Tests/vectors/format/key-check.cpk.
final class KeyCheckValueTests: XCTestCase {
    func testTheVectorsValue() throws {
        let key = (0..<32).map { UInt8($0) }
        XCTAssertEqual(try KeyCheckValue.of(key), [0x61, 0xa9, 0xbe, 0x25, 0xbd, 0x72, 0x79, 0x11])
        XCTAssertTrue(try KeyCheckValue.matches([0x61, 0xa9, 0xbe, 0x25, 0xbd, 0x72, 0x79, 0x11], key: key))
        XCTAssertFalse(try KeyCheckValue.matches([0x61, 0xa9, 0xbe, 0x25, 0xbd, 0x72, 0x79, 0x10], key: key))
        XCTAssertFalse(try KeyCheckValue.matches([0x61, 0xa9], key: key))
    }
}
