import CPKFormat
import XCTest

/// docs/format.md §4.1: which stream a reader takes as the key check stream.
final class KeyCheckStreamTests: XCTestCase {
    let value: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]

    func referenceHead() -> PackageHead {
        PackageHead(
            manifest: referenceManifest(), manifestIndex: 6,
            streams: [.payload, .bytes(Array(repeating: 0, count: 12)), .deferred(size: 16), .deferred(size: 32),
                      .deferred(size: 256), .bytes([1]), .manifest],
            payloadSize: nil)
    }

    func testAppendedAfterTheManifestKeepsTheReferenceIndexesAndIsCoveredByTheMap() throws {
        var head = referenceHead()
        head.appendKeyCheck(value)
        XCTAssertEqual(head.streams.count, 8)
        XCTAssertEqual(head.manifestIndex, 6)
        XCTAssertEqual(head.manifest.package.map, Array(0..<8))
        XCTAssertEqual(head.keyCheckIndex, 7)
        XCTAssertEqual(head.keyCheckValue, value)
        XCTAssertNoThrow(try head.validate())
    }

    func testTwoKeyCheckStreamsGiveNone() {
        var head = referenceHead()
        head.appendKeyCheck(value)
        head.appendKeyCheck(value)
        XCTAssertNil(head.keyCheckValue)
    }

    func testOnlyTheExactFormIsOne() {
        XCTAssertEqual(KeyCheckStream.value(in: Array("cpk-kcv1".utf8) + value), value)
        XCTAssertNil(KeyCheckStream.value(in: Array("cpk-kcv1".utf8) + value + [0]))
        XCTAssertNil(KeyCheckStream.value(in: Array("cpk-kcv2".utf8) + value))
    }

    func testAStreamTheManifestNamesIsNeverOne() {
        var head = referenceHead()
        head.streams[5] = .bytes(KeyCheckStream.encode(value))  // the certificate stream
        XCTAssertNil(head.keyCheckValue)
    }
}
