import CPKCore
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Outputs named on the command line that are not files to replace (found by the crash-safety
/// tests): `-o /dev/null` as root used to rename a regular file over the device node, and
/// `-o >(...)` (a pipe under /dev/fd) could not be created at all.
final class OutputStreamTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "cpk-stream-\(UUID().uuidString)"
        XCTAssertNoThrow(try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true))
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func testAFIFOIsWrittenInPlaceAndStaysAFIFO() throws {
        let path = directory + "/fifo"
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        let reader = Glibc.open(path, O_RDONLY | O_NONBLOCK)  // so that opening for writing does not block
        XCTAssertGreaterThanOrEqual(reader, 0)
        defer { close(reader) }

        let output = try OutputFile(path: path, binary: true)
        XCTAssertTrue(output.isStandardOutput, "a pipe shows bytes at once, so nothing may rely on commit")
        try output.descriptor.write(Array("streamed".utf8))
        var received = [UInt8](repeating: 0, count: 16)
        let count = read(reader, &received, received.count)
        XCTAssertEqual(String(decoding: received.prefix(max(0, count)), as: UTF8.self), "streamed")
        try output.commit()

        var info = stat()
        XCTAssertEqual(lstat(path, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFIFO, "the FIFO was replaced by a file")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["fifo"])
    }

    func testANewFileAppearsCompleteAndAloneOnCommit() throws {
        let path = directory + "/new.cpk"
        let output = try OutputFile(path: path, binary: true)
        XCTAssertFalse(output.isStandardOutput)
        try output.descriptor.write(Array("complete".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
        try output.commit()
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "complete")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["new.cpk"])
    }
}
