import CPKCBOR
import CPKCore
import CPKTestSupport
import XCTest

/// The one reader of a CBOR map's fields (the envelope's parts, the wrapped-key documents):
/// every fault refused, in each format's words.
final class CBORMapReaderTests: XCTestCase {
    private let both: [CBORMapReader.KeyFaults] = [.refusedFirst, .refusedLast]

    func testFieldsAreReadByTypeAndAFullyReadMapFinishes() throws {
        for faults in both {
            var reader = try CBORMapReader(
                .textMap([("n", .unsigned(7)), ("t", .text("x")), ("b", .bytes([1, 2]))]), what: "thing", keyFaults: faults)
            XCTAssertEqual(try reader.count("n", limit: 7) as Int, 7)
            XCTAssertEqual(try reader.text("t"), "x")
            XCTAssertEqual(try reader.bytes("b", sizes: 1...2), [1, 2])
            XCTAssertTrue(reader.contains("t"))
            XCTAssertFalse(reader.contains("absent"))
            XCTAssertNoThrow(try reader.finish())
        }
    }

    func testWrongTypesSizesAndLimitsAreRefused() throws {
        for faults in both {
            var reader = try CBORMapReader(
                .textMap([("n", .unsigned(8)), ("t", .unsigned(1)), ("b", .bytes([1, 2, 3])), ("c", .text("no"))]),
                what: "thing", keyFaults: faults)
            XCTAssertCPKError(.invalidInput, containing: "thing: n must be a whole number up to 7", try reader.count("n", limit: 7) as Int)
            XCTAssertCPKError(.invalidInput, containing: "thing: t must be text", try reader.text("t"))
            XCTAssertCPKError(.invalidInput, containing: "thing: b is 3 bytes, expected 32", try reader.bytes("b", sizes: 32...32))
            XCTAssertCPKError(.invalidInput, containing: "thing: b is 3 bytes, expected 1 to 2", try reader.bytes("b", sizes: 1...2))
            XCTAssertCPKError(.invalidInput, containing: "thing: c must be a byte string", try reader.bytes("c", sizes: 1...2))
            XCTAssertCPKError(.invalidInput, containing: "thing has no \"m\"", try reader.value("m"))
            XCTAssertCPKError(.invalidInput, containing: "thing must be a map, not an array",
                try CBORMapReader(.array([]), what: "thing", keyFaults: faults))
        }
    }

    func testAnUnreadKeyFailsFinish() throws {
        var first = try CBORMapReader(.textMap([("a", .null), ("z", .null), ("y", .null)]), what: "doc", keyFaults: .refusedFirst)
        _ = try first.value("a")
        XCTAssertCPKError(.invalidInput, containing: "doc has an unknown key \"y\"", try first.finish())  // sorted: named the same each time
        var last = try CBORMapReader(.textMap([("a", .null), ("z", .null)]), what: "envelope trailer", keyFaults: .refusedLast)
        _ = try last.value("a")
        XCTAssertCPKError(.invalidInput, containing: "envelope trailer has an unknown or repeated key", try last.finish())
    }

    func testRefusedFirstNamesARepeatedOrNonTextKeyAtOnce() {
        let repeated = CBORValue.map([.init(.text("a"), .null), .init(.text("a"), .unsigned(1))])
        XCTAssertCPKError(.invalidInput, containing: "doc has the key \"a\" twice",
            try CBORMapReader(repeated, what: "doc", keyFaults: .refusedFirst))
        let integerKey = CBORValue.map([.init(.unsigned(1), .null)])
        XCTAssertCPKError(.invalidInput, containing: "doc has a key that is not text",
            try CBORMapReader(integerKey, what: "doc", keyFaults: .refusedFirst))
    }

    func testRefusedLastReportsAMissingFieldBeforeTheMapsFaults() throws {
        // a repeated key that is read: the first value counts, and finish refuses the repeat
        var read = try CBORMapReader(
            .map([.init(.text("a"), .unsigned(1)), .init(.text("a"), .unsigned(2))]), what: "header", keyFaults: .refusedLast)
        XCTAssertEqual(try read.value("a"), .unsigned(1))
        XCTAssertCPKError(.invalidInput, containing: "header has a repeated key", try read.finish())
        // a repeated key nobody reads, and a key that is not text: unknown or repeated
        var unread = try CBORMapReader(
            .map([.init(.text("a"), .null), .init(.text("b"), .null), .init(.text("b"), .null)]), what: "header",
            keyFaults: .refusedLast)
        _ = try unread.value("a")
        XCTAssertCPKError(.invalidInput, containing: "header has an unknown or repeated key", try unread.finish())
        var integerKey = try CBORMapReader(.map([.init(.text("a"), .null), .init(.unsigned(1), .null)]), what: "header", keyFaults: .refusedLast)
        XCTAssertCPKError(.invalidInput, containing: "header has no \"b\"", try integerKey.value("b"))
        _ = try integerKey.value("a")
        XCTAssertCPKError(.invalidInput, containing: "header has an unknown or repeated key", try integerKey.finish())
    }
}
