import CPKCore
import Foundation
import XCTest

final class OutputFileTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "cpk-core-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func testNothingIsVisibleUntilCommitted() throws {
        let path = directory + "/out.cpk"
        let output = try OutputFile(path: path, binary: true)
        try output.descriptor.write(Array("hello".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
        try output.commit()
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "hello")
    }

    func testAnAbandonedOutputLeavesNoFile() throws {
        let path = directory + "/out.cpk"
        do {
            let output = try OutputFile(path: path, binary: true)
            try output.descriptor.write(Array("partial".utf8))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
    }

    func testCommitReplacesAnExistingFileWhole() throws {
        let path = directory + "/out.cpk"
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        let output = try OutputFile(path: path, binary: true)
        try output.descriptor.write(Array("new".utf8))
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
        try output.commit()
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new")
    }

    func testSecretFilesAreCreatedPrivate() throws {
        let path = directory + "/key.pem"
        let output = try OutputFile(path: path, binary: false, mode: 0o600)
        try output.commit()
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
    }

    func testAMissingDirectoryIsAnIOError() {
        XCTAssertThrowsError(try OutputFile(path: directory + "/no/such/out.cpk", binary: true)) { error in
            XCTAssertEqual((error as? CPKError)?.kind, .io)
            XCTAssertEqual((error as? CPKError)?.exitCode, 2)
        }
    }
}

final class TimestampTests: XCTestCase {
    func testFormatsUTC() {
        XCTAssertEqual(Timestamp.format(secondsSinceEpoch: 0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(Timestamp.format(secondsSinceEpoch: 1_795_681_395), "2026-11-26T08:23:15Z")
    }

    func testRecognisesRFC3339() {
        XCTAssertTrue(Timestamp.isRFC3339("2026-11-26T08:23:15Z"))
        XCTAssertTrue(Timestamp.isRFC3339("2026-11-26T08:23:15.309608734+01:00"))
        XCTAssertFalse(Timestamp.isRFC3339("2026-11-26 08:23:15.309608734 UTC"))
        XCTAssertFalse(Timestamp.isRFC3339("yesterday"))
        XCTAssertFalse(Timestamp.isRFC3339("2026-11-26T08:23:15"))
    }
}
