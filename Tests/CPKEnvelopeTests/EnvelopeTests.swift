import CPKCore
import CPKEnvelope
import CPKFormat
import Foundation
import XCTest

final class EnvelopeTests: XCTestCase {
    var path: String!

    override func setUp() { path = NSTemporaryDirectory() + "cpk-envelope-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

    func head(payloadSize: UInt64?) -> PackageHead {
        let manifest = Manifest(
            id: "app", name: "Unknown", vendor: "Unknown",
            payload: PayloadSection(
                data: 0, target: Target(arch: "aarch64", os: "OP-TEE"),
                version: Version(major: 1, minor: 0, revision: 0, date: "2026-11-26T00:00:00Z"),
                digest: .sha256(data: 1)),
            package: PackageSection(map: [0, 1, 2]))
        return PackageHead(
            manifest: manifest, manifestIndex: 2, streams: [.payload, .deferred(size: 32), .manifest],
            payloadSize: payloadSize)
    }

    func writeEnvelope(chunks: [[UInt8]], payloadSize: UInt64?) throws -> [UInt8] {
        let output = try OutputFile(path: path, binary: true)
        let log = [LogEntry(tool: "test", action: "made", time: "2026-11-26T00:00:00Z")]
        let writer = try EnvelopeWriter(output: output.descriptor, header: EnvelopeHeader(package: head(payloadSize: payloadSize), log: log))
        for chunk in chunks { try chunk.withUnsafeBytes { try writer.writeChunk($0) } }
        try writer.finish(deferredStreams: [1: Array(repeating: 9, count: 32)])
        try output.commit()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func read(_ bytes: [UInt8]) throws -> (EnvelopeHeader, [UInt8], EnvelopeTrailer) {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reader = try EnvelopeReader(input: try FileDescriptor.open(forReading: path))
        var payload: [UInt8] = []
        while let chunk = try reader.nextChunk() { payload += chunk }
        return (reader.header, payload, try reader.trailer())
    }

    func testRoundTrip() throws {
        let chunks: [[UInt8]] = [Array(repeating: 1, count: 100), Array(repeating: 2, count: 70_000), [3]]
        let bytes = try writeEnvelope(chunks: chunks, payloadSize: 70_101)
        XCTAssertEqual(Array(bytes.prefix(3)), Envelope.magicBytes)
        let (header, payload, trailer) = try read(bytes)
        XCTAssertEqual(header.package, head(payloadSize: 70_101))
        XCTAssertEqual(header.log.first?.tool, "test")
        XCTAssertEqual(payload, chunks.flatMap { $0 })
        XCTAssertEqual(trailer.streams[1], Array(repeating: 9, count: 32))
    }

    func testEveryTruncationIsAnError() throws {
        let bytes = try writeEnvelope(chunks: [Array(repeating: 5, count: 300)], payloadSize: nil)
        for cut in [0, 1, 3, 10, bytes.count / 2, bytes.count - 40, bytes.count - 1] {
            XCTAssertThrowsError(try read(Array(bytes.prefix(cut))), "cut at \(cut)") { error in
                XCTAssertEqual((error as? CPKError)?.kind, .invalidInput, "\(error)")
            }
        }
    }

    func testRejectsTrailingData() throws {
        let bytes = try writeEnvelope(chunks: [[1, 2, 3]], payloadSize: 3)
        XCTAssertThrowsError(try read(bytes + [0x01])) { error in
            XCTAssertTrue("\(error)".contains("after the trailer"), "\(error)")
        }
    }

    func testRejectsAHugeDeclaredChunkWithoutReadingIt() throws {
        // After the header, a byte string head declaring 2^40 bytes.
        let hostile = try headerBytes() + [0x5B, 0, 0, 1, 0, 0, 0, 0, 0] + [1, 2, 3]
        XCTAssertThrowsError(try read(hostile)) { error in
            XCTAssertTrue("\(error)".contains("limit"), "\(error)")
        }
    }

    func testRejectsIndefiniteLengthAndWrongTypes() throws {
        let header = try headerBytes()
        for item: [UInt8] in [[0x5F, 0x41, 0x00, 0xFF], [0x63, 0x61, 0x62, 0x63], [0x01]] {
            XCTAssertThrowsError(try read(header + item))
        }
        XCTAssertThrowsError(try read([0xA0])) { error in
            XCTAssertTrue("\(error)".contains("tagged 55799"), "\(error)")
        }
    }

    /// The bytes of a valid header alone: what a writer emits before any payload.
    func headerBytes() throws -> [UInt8] {
        let output = try OutputFile(path: path, binary: true)
        _ = try EnvelopeWriter(output: output.descriptor, header: EnvelopeHeader(package: head(payloadSize: nil)))
        try output.commit()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
