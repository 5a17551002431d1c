import CPKCore
import Foundation
import XCTest

final class ByteMoverTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "cpk-mover-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func file(_ name: String, _ bytes: [UInt8]) throws -> FileDescriptor {
        try Data(bytes).write(to: URL(fileURLWithPath: "\(directory!)/\(name)"))
        return try FileDescriptor.open(forReading: "\(directory!)/\(name)")
    }

    func contents(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory!)/\(name)")))
    }

    let source: [UInt8] = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }

    func testMovesARangeOfAFileToAFileAndToAPipe() throws {
        let input = try file("in", source)
        let output = try OutputFile(path: "\(directory!)/out", binary: true)
        let mover = ByteMover(to: output.descriptor)
        try ([9, 8] as [UInt8]).withUnsafeBytes { head in
            try mover.move(PassedBytes(buffered: head, source: input, offset: 1000, count: 2_500_000, truncation: .invalid("short")))
        }
        try output.commit()
        XCTAssertTrue(try contents("out") == [9, 8] + Array(source[1000..<2_501_000]))
        XCTAssertEqual(mover.movedInKernel + mover.copied, 2_500_000)

        // To a pipe, read by another thread: splice moves the bytes in the kernel.
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        let readEnd = FileDescriptor(fd: ends[0], name: "pipe", owned: true)
        nonisolated(unsafe) var received: [UInt8] = []
        let drained = expectation(description: "drained")
        let drain = Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while let n = try? buffer.withUnsafeMutableBytes({ try readEnd.read(into: $0) }), n > 0 {
                received += buffer[0..<n]
            }
            drained.fulfill()
        }
        drain.start()
        do {
            let pipeMover = ByteMover(to: FileDescriptor(fd: ends[1], name: "pipe", owned: true))
            try pipeMover.move(PassedBytes(
                buffered: UnsafeRawBufferPointer(start: nil, count: 0), source: input, offset: 0, count: source.count,
                truncation: .invalid("short")))
            XCTAssertEqual(pipeMover.movedInKernel, UInt64(source.count))
        }  // the write end closes here
        wait(for: [drained], timeout: 30)
        XCTAssertTrue(received == source)
    }

    func testASourceThatEndsEarlyGivesItsTruncationError() throws {
        let input = try file("short", Array(source[0..<1000]))
        let output = try OutputFile(path: "\(directory!)/out", binary: true)
        let mover = ByteMover(to: output.descriptor)
        XCTAssertThrowsError(try mover.move(PassedBytes(
            buffered: UnsafeRawBufferPointer(start: nil, count: 0), source: input, offset: 0, count: 5000,
            truncation: .invalid("the input ends early")))) { error in
            XCTAssertEqual(error as? CPKError, .invalid("the input ends early"))
        }
    }

    func testForEachPieceSeesEveryByteInOrder() throws {
        let input = try file("in", source)
        var seen: [UInt8] = []
        try ([1, 2, 3] as [UInt8]).withUnsafeBytes { head in
            try ByteMover(to: .standardOutput).forEachPiece(
                of: PassedBytes(buffered: head, source: input, offset: 10, count: 2_000_000, truncation: .invalid("short"))
            ) { seen += $0 }
        }
        XCTAssertTrue(seen == [1, 2, 3] + Array(source[10..<2_000_010]))
    }
}

final class OverlapTests: XCTestCase {
    func testBothSidesRunAndTheJobsEffectsAreSeen() throws {
        let overlap = Overlap()
        var total = 0
        for round in 1...100 {
            var side = 0
            let value = try overlap.run({ side = round * 2 }, alongside: { round })
            total += value + side
        }
        XCTAssertEqual(total, (1...100).reduce(0) { $0 + $1 * 3 })
    }

    func testErrorsOfEitherSideArePassedOn() {
        let overlap = Overlap()
        XCTAssertThrowsError(try overlap.run({ throw CPKError.check("job") }, alongside: { 1 })) {
            XCTAssertEqual($0 as? CPKError, .check("job"))
        }
        XCTAssertThrowsError(try overlap.run({}, alongside: { throw CPKError.io("body") })) {
            XCTAssertEqual($0 as? CPKError, .io("body"))
        }
        XCTAssertEqual(try overlap.run({}, alongside: { 5 }), 5)  // usable again after errors
    }
}
