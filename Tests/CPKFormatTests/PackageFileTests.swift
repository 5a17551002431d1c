import CPKCore
import CPKFormat
import Foundation
import XCTest

final class PackageFileTests: XCTestCase {
    var path: String!

    override func setUp() { path = NSTemporaryDirectory() + "cpk-format-\(UUID().uuidString).cpk" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

    /// Writes the reference 7-stream layout with `PackageWriter` and returns the streams written.
    func writeReferencePackage(payload: [UInt8]) throws -> [[UInt8]] {
        let manifest = referenceManifest()
        let streams: [[UInt8]] = [
            payload, Array(repeating: 1, count: 12), Array(repeating: 2, count: 16), Array(repeating: 3, count: 32),
            Array(repeating: 4, count: 256), Array("-----BEGIN CERTIFICATE-----\n".utf8), manifest.encoded,
        ]
        let output = try OutputFile(path: path, binary: true)
        let writer = try PackageWriter(
            output: output.descriptor, streamSizes: streams.map { UInt64($0.count) }, manifestIndex: 6, payloadIndex: 0)
        try payload.withUnsafeBytes { try writer.writePayload($0) }
        try writer.finish(streams: streams)
        try output.commit()
        return streams
    }

    func testWritesTheReferenceLayout() throws {
        let streams = try writeReferencePackage(payload: Array(repeating: 7, count: 1000))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes[0..<16]), [0x0D, 0xF0, 0xCC, 0x0E, 1, 0, 0, 0, 7, 0, 6, 0, 1, 0, 1, 0])
        let package = try PackageFile(file: try FileDescriptor.open(forReading: path))
        var offset: UInt64 = 0
        for (index, stream) in streams.enumerated() {
            XCTAssertEqual(package.entries[index], StreamEntry(offset: offset, size: UInt64(stream.count)))
            offset += UInt64(stream.count)
            if index != 0 { XCTAssertEqual(try package.readStream(index), stream) }
        }
        XCTAssertEqual(UInt64(bytes.count), 16 + 7 * 16 + offset)
        XCTAssertEqual(package.manifest, referenceManifest())
    }

    /// Written behind (a second thread, past the page cache) the file is the same byte for
    /// byte, whether the payload comes through memory, passed from a file (read through memory)
    /// or passed from a pipe (spliced: the write-behind is drained first).
    func testWriteBehindGivesTheSameBytesByEveryRoute() throws {
        let payload = (0..<(3 << 20) + 4321).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 12)) }
        _ = try writeReferencePackage(payload: payload)
        let reference = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let streams: [[UInt8]] = [
            payload, Array(repeating: 1, count: 12), Array(repeating: 2, count: 16), Array(repeating: 3, count: 32),
            Array(repeating: 4, count: 256), Array("-----BEGIN CERTIFICATE-----\n".utf8), referenceManifest().encoded,
        ]
        let source = path + ".payload"
        defer { unlink(source) }
        try Data(payload).write(to: URL(fileURLWithPath: source))
        for route in ["memory", "file", "pipe"] {
            let output = try OutputFile(path: path + ".\(route)", binary: true)
            defer { unlink(path + ".\(route)") }
            let writer = try PackageWriter(
                output: output.descriptor, streamSizes: streams.map { UInt64($0.count) }, manifestIndex: 6, payloadIndex: 0,
                writeBehind: true)
            let half = payload.count / 2
            try payload[..<half].withUnsafeBytes { try writer.writePayload($0) }
            let rest = payload.count - half
            switch route {
            case "memory":
                try payload[half...].withUnsafeBytes { try writer.writePayload($0) }
            case "file":
                try writer.writePayload(passing: PassedBytes(
                    buffered: UnsafeRawBufferPointer(start: nil, count: 0), source: try FileDescriptor.open(forReading: source),
                    offset: UInt64(half), count: rest, truncation: .invalid("short")))
            default:
                var ends: [Int32] = [0, 0]
                XCTAssertEqual(pipe(&ends), 0)
                let readEnd = FileDescriptor(fd: ends[0], name: "pipe", owned: true)
                let writeEnd = FileDescriptor(fd: ends[1], name: "pipe", owned: true)
                let feeder = Thread { [payload] in
                    try? payload[half...].withUnsafeBytes { try writeEnd.write($0) }
                }
                feeder.start()
                try writer.writePayload(passing: PassedBytes(
                    buffered: UnsafeRawBufferPointer(start: nil, count: 0), source: readEnd, offset: nil, count: rest,
                    truncation: .invalid("short")))
            }
            try writer.finish(streams: streams)
            try output.commit()
            XCTAssertTrue([UInt8](try Data(contentsOf: URL(fileURLWithPath: path + ".\(route)"))) == reference, route)
        }
    }

    func testStreamsAreReadInChunks() throws {
        let payload = (0..<10_000).map { UInt8($0 % 251) }
        _ = try writeReferencePackage(payload: payload)
        let package = try PackageFile(file: try FileDescriptor.open(forReading: path))
        var read: [UInt8] = []
        var pieces = 0
        try package.forEachChunk(ofStream: 0, chunkSize: 4096) { read += $0; pieces += 1 }
        XCTAssertEqual(read, payload)
        XCTAssertEqual(pieces, 3)
    }

    func testHeaderErrorsNameTheProblem() {
        var header = FrameHeader(streamCount: 7, manifestIndex: 6).encoded
        XCTAssertEqual(try FrameHeader(decoding: header), FrameHeader(streamCount: 7, manifestIndex: 6))
        let cases: [(Int, UInt8, String)] = [
            (0, 0x00, "not a confidential package"), (4, 2, "frame version 2"), (6, 1, "flags"),
            (8, 1, "at least 2"), (10, 9, "out of range"), (12, 2, "manifest type 2"), (14, 3, "manifest version 3"),
        ]
        for (offset, value, expected) in cases {
            var bad = header
            bad[offset] = value
            if offset == 8 { bad[9] = 0 }
            XCTAssertThrowsError(try FrameHeader(decoding: bad)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
        header.removeLast()
        XCTAssertThrowsError(try FrameHeader(decoding: header))
    }

    func testTableRejectsOverflowBoundsAndOverlap() {
        func table(_ entries: [(UInt64, UInt64)]) -> [UInt8] {
            StreamEntry.encodeTable(entries.map { StreamEntry(offset: $0.0, size: $0.1) })
        }
        XCTAssertThrowsError(try StreamEntry.decodeTable(table([(UInt64.max, 2), (0, 1)]), count: 2, dataSize: 10))
        XCTAssertThrowsError(try StreamEntry.decodeTable(table([(0, 5), (5, 6)]), count: 2, dataSize: 10))
        XCTAssertThrowsError(try StreamEntry.decodeTable(table([(0, 6), (5, 2)]), count: 2, dataSize: 10)) { error in
            XCTAssertTrue("\(error)".contains("overlap"))
        }
        // An empty stream may share an offset: the reference writer makes one for an empty payload.
        XCTAssertNoThrow(try StreamEntry.decodeTable(table([(0, 0), (0, 4), (4, 6)]), count: 3, dataSize: 10))
        // Other writers may pad between streams and order them freely.
        XCTAssertNoThrow(try StreamEntry.decodeTable(table([(8, 2), (0, 4)]), count: 2, dataSize: 10))
    }

    func testWriterLaysThePayloadFirstWhateverItsIndex() throws {
        let entries = try PackageWriter.layout(sizes: [10, 20, 30], payloadIndex: 1)
        XCTAssertEqual(entries, [StreamEntry(offset: 20, size: 10), StreamEntry(offset: 0, size: 20), StreamEntry(offset: 30, size: 30)])
        XCTAssertThrowsError(try PackageWriter.layout(sizes: [UInt64.max - 10, 20], payloadIndex: 0))
    }
}
