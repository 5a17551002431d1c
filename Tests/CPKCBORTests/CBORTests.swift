import CPKCBOR
import CPKCore
import CPKTestSupport
import XCTest

/// The CBOR codec over libcbor, on its own (the envelope and wrapped-key tests use it through
/// their formats).
final class CBORTests: XCTestCase {
    func testSmallItemsRoundTripInCanonicalBytes() throws {
        let value = CBORValue.textMap([("a", .unsigned(1)), ("b", .array([.bytes([1, 2, 3]), .negative(0)]))])
        let bytes = CBOREncoding.encode(value)
        // RFC 8949 appendix A style: a2 61 61 01 61 62 82 43 010203 20
        XCTAssertEqual(bytes, [0xa2, 0x61, 0x61, 0x01, 0x61, 0x62, 0x82, 0x43, 0x01, 0x02, 0x03, 0x20])
        XCTAssertEqual(try CBORValue(decoding: bytes), value)
    }

    func testTruncatedAndTrailingBytesAreRefused() {
        let bytes = CBOREncoding.encode(.array([.text("hello"), .unsigned(500)]))
        for cut in 0..<bytes.count {
            XCTAssertThrowsError(try CBORValue(decoding: Array(bytes[..<cut])), "cut at \(cut)")
        }
        XCTAssertCPKError(.invalidInput, containing: "unexpected bytes", try CBORValue(decoding: bytes + [0]))
    }

    func testAHugeDeclaredLengthIsNotAllocated() {
        // a byte string claiming 2^32 bytes, with 3 present: more is needed, nothing is reserved
        let head: [UInt8] = [0x5a, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]
        let outcome = head.withUnsafeBytes { try? CBORDecoding.decodeItem($0) }
        guard case .needMore(let needed)? = outcome else { return XCTFail("\(String(describing: outcome))") }
        XCTAssertGreaterThan(needed, head.count)
    }

    func testDepthIsBounded() {
        let deep = [UInt8](repeating: 0x81, count: CBORDecoding.maximumDepth + 4) + [0x00]
        XCTAssertThrowsError(try CBORValue(decoding: deep))
    }

    func testTheVersionNamesLibcbor() {
        XCTAssertTrue(LibCBORLibrary.version.hasPrefix("libcbor "))
    }
}
