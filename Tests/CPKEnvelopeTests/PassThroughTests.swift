import CPKCore
import CPKEnvelope
import CPKFormat
import Foundation
import XCTest

/// Chunks passed on without reading their bodies (`passNextChunk` and `writeChunk(passing:)`)
/// give the same envelope, byte for byte, as the ordinary way, with every check kept.
extension EnvelopeTests {
    /// Reads `bytes` from a pipe (or a file) passing every chunk to a writer on a file, and
    /// returns what the writer wrote.
    func passThrough(_ bytes: [UInt8], throughPipe: Bool) throws -> [UInt8] {
        let input: FileDescriptor
        var feeder: Thread?
        if throughPipe {
            var ends: [Int32] = [0, 0]
            XCTAssertEqual(pipe(&ends), 0)
            input = FileDescriptor(fd: ends[0], name: "the pipe", owned: true)
            let writeEnd = ends[1]
            let data = bytes
            feeder = Thread {
                // Unowned, and closed here: the reader sees the end of input once all is written.
                try? FileDescriptor(fd: writeEnd, name: "the pipe's write end", owned: false).write(data)
                close(writeEnd)
            }
            feeder?.start()
        } else {
            try Data(bytes).write(to: URL(fileURLWithPath: path + ".in"))
            input = try FileDescriptor.open(forReading: path + ".in")
        }
        let reader = try EnvelopeReader(input: input)
        let output = try OutputFile(path: path + ".out", binary: true)
        let writer = try EnvelopeWriter(output: output.descriptor, header: reader.header)
        while try reader.passNextChunk({ try writer.writeChunk(passing: $0) }) {}
        try writer.finish(deferredStreams: try reader.trailer().streams)
        try output.commit()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + ".out")))
    }

    func cleanUpPassThrough() {
        try? FileManager.default.removeItem(atPath: path + ".in")
        try? FileManager.default.removeItem(atPath: path + ".out")
    }

    func testPassedChunksGiveTheSameEnvelope() throws {
        defer { cleanUpPassThrough() }
        let chunks: [[UInt8]] = [
            Array(repeating: 1, count: 100), (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }, [3],
            Array(repeating: 4, count: 1 << 20),
        ]
        let bytes = try writeEnvelope(chunks: chunks, payloadSize: UInt64(chunks.map(\.count).reduce(0, +)))
        XCTAssertTrue(try passThrough(bytes, throughPipe: true) == bytes)
        cleanUpPassThrough()
        XCTAssertTrue(try passThrough(bytes, throughPipe: false) == bytes)
    }

    func testAPassedChunkCutShortIsATruncation() throws {
        defer { cleanUpPassThrough() }
        let bytes = try writeEnvelope(chunks: [Array(repeating: 7, count: 500_000)], payloadSize: nil)
        for cut in [bytes.count - 400_000, bytes.count - 60] {
            XCTAssertThrowsError(try passThrough(Array(bytes.prefix(cut)), throughPipe: cut % 2 == 0), "cut at \(cut)") { error in
                XCTAssertEqual((error as? CPKError)?.kind, .invalidInput, "\(error)")
                XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
            }
            cleanUpPassThrough()
        }
    }

    func testALongerChunkHeadIsReadTheOrdinaryWay() throws {
        defer { cleanUpPassThrough() }
        let body: [UInt8] = Array(repeating: 0xAB, count: 30_000)
        let bytes = try writeEnvelope(chunks: [body], payloadSize: 30_000)
        // The writer's head for 30 000 bytes is 59 75 30; another writer may use 5A 00 00 75 30.
        guard let at = (0..<(bytes.count - 3)).first(where: { Array(bytes[$0..<($0 + 3)]) == [0x59, 0x75, 0x30] }) else {
            return XCTFail("no chunk head found")
        }
        let longer = Array(bytes[..<at]) + [0x5A, 0, 0, 0x75, 0x30] + Array(bytes[(at + 3)...])
        let (_, payload, _) = try read(longer)
        XCTAssertTrue(payload == body)
        // Passed on, the chunk is written with the writer's own head: the payload is the same.
        XCTAssertTrue(try passThrough(longer, throughPipe: true) == bytes)
    }
}
