import CPKCore
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The rules of secret outputs: a secret only ever goes into a new file the tool creates (mode
/// 0600 whatever the umask) or into a descriptor the caller opened; a FIFO, device or symlink
/// at the name is refused before anything is written, and another user's is refused for any
/// output.
final class SecretOutputTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "cpk-secret-\(UUID().uuidString)"
        XCTAssertNoThrow(try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true))
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    private func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory).sorted() }

    private func assertRefused(_ path: String, secret: Bool, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try OutputFile(path: path, binary: true, secret: secret), file: file, line: line) { error in
            XCTAssertEqual((error as? CPKError)?.kind, .io, file: file, line: line)
            XCTAssertFalse((error as? CPKError)?.message.contains("\n") ?? true, file: file, line: line)
        }
    }

    func testASecretIsCreated0600WhateverTheUmask() throws {
        let previous = umask(0)
        defer { umask(previous) }
        let path = directory + "/class.key"
        let output = try OutputFile(path: path, binary: true, secret: true)
        try output.descriptor.write([1, 2, 3])
        try output.commit()
        var info = stat()
        XCTAssertEqual(lstat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o7777, 0o600)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFREG)
    }

    func testASecretReplacesAnExistingFileNeverWritesIntoIt() throws {
        let path = directory + "/class.key"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644]))
        var before = stat()
        XCTAssertEqual(lstat(path, &before), 0)
        let output = try OutputFile(path: path, binary: true, secret: true)
        try output.descriptor.write(Array("new".utf8))
        try output.commit()
        var after = stat()
        XCTAssertEqual(lstat(path, &after), 0)
        XCTAssertNotEqual(before.st_ino, after.st_ino, "the old inode (which others may hold open) must not get the secret")
        XCTAssertEqual(after.st_mode & 0o777, 0o600)
    }

    func testASecretIsNeverWrittenIntoAFIFO() throws {
        let path = directory + "/class.key"
        XCTAssertEqual(mkfifo(path, 0o666), 0)
        let reader = Glibc.open(path, O_RDONLY | O_NONBLOCK)
        defer { close(reader) }
        assertRefused(path, secret: true)
        var byte: UInt8 = 0
        XCTAssertLessThanOrEqual(read(reader, &byte, 1), 0, "no byte may reach the FIFO's reader")
        XCTAssertEqual(try names(), ["class.key"])
    }

    func testASecretIsNeverWrittenThroughASymlink() throws {
        let target = directory + "/elsewhere"
        XCTAssertTrue(FileManager.default.createFile(atPath: target, contents: Data("theirs".utf8)))
        let path = directory + "/class.key"
        XCTAssertEqual(symlink(target, path), 0)
        assertRefused(path, secret: true)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "theirs")
        let dangling = directory + "/dangling.key"
        XCTAssertEqual(symlink(directory + "/not-yet", dangling), 0)
        assertRefused(dangling, secret: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/not-yet"))
    }

    /// A secret may go to /dev/null (only root or the caller makes device nodes); a FIFO by
    /// name stays refused, since whoever reads it gets the secret.
    func testASecretGoesToDevNullButNotToAFIFOByName() throws {
        let output = try OutputFile(path: "/dev/null", binary: true, secret: true)
        try output.descriptor.write(Array("secret".utf8))
        try output.commit()
        let fifo = directory + "/secret-fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        assertRefused(fifo, secret: true)
    }

    func testAnOrdinaryOutputStillGoesToTheCallersOwnFIFOAndToDevNull() throws {
        let path = directory + "/fifo"
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        let reader = Glibc.open(path, O_RDONLY | O_NONBLOCK)
        defer { close(reader) }
        let output = try OutputFile(path: path, binary: true)
        try output.descriptor.write(Array("ok".utf8))
        var received = [UInt8](repeating: 0, count: 4)
        XCTAssertEqual(read(reader, &received, 4), 2)
        XCTAssertNoThrow(try OutputFile(path: "/dev/null", binary: true))
    }

    func testAnotherUsersFIFOOrSymlinkIsRefusedEvenForOrdinaryOutput() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root to give a file to another user") }
        let fifo = directory + "/fifo"
        XCTAssertEqual(mkfifo(fifo, 0o666), 0)
        XCTAssertEqual(chown(fifo, 65534, 65534), 0)
        let reader = Glibc.open(fifo, O_RDONLY | O_NONBLOCK)
        defer { close(reader) }
        assertRefused(fifo, secret: false)
        let link = directory + "/link"
        XCTAssertEqual(symlink(fifo, link), 0)
        XCTAssertEqual(lchown(link, 65534, 65534), 0)
        assertRefused(link, secret: false)
        var byte: UInt8 = 0
        XCTAssertLessThanOrEqual(read(reader, &byte, 1), 0)
    }

    func testAnInheritedDescriptorIsUsedAsItIsEvenForASecret() throws {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        defer { ends.forEach { close($0) } }
        let output = try OutputFile(path: "/dev/fd/\(ends[1])", binary: true, secret: true)
        XCTAssertTrue(output.isStandardOutput)
        XCTAssertEqual(output.descriptor.fd, ends[1], "the caller's descriptor, not the name reopened")
        try output.descriptor.write(Array("key".utf8))
        var received = [UInt8](repeating: 0, count: 8)
        XCTAssertEqual(read(ends[0], &received, 8), 3)
        XCTAssertEqual(OutputFile.inheritedDescriptorNumber("/proc/self/fd/7"), 7)
        XCTAssertEqual(OutputFile.inheritedDescriptorNumber("/dev/stdout"), 1)
        XCTAssertNil(OutputFile.inheritedDescriptorNumber("/dev/fd/x"))
        XCTAssertNil(OutputFile.inheritedDescriptorNumber("/dev/fd/"))
    }

    func testAClosedOrReadOnlyDescriptorIsAnIOError() {
        XCTAssertThrowsError(try OutputFile(path: "/dev/fd/987", binary: true, secret: true)) { error in
            XCTAssertEqual((error as? CPKError)?.kind, .io)
        }
        let readOnly = Glibc.open("/dev/null", O_RDONLY)
        defer { close(readOnly) }
        XCTAssertThrowsError(try OutputFile(path: "/dev/fd/\(readOnly)", binary: true)) { error in
            XCTAssertEqual((error as? CPKError)?.kind, .io)
        }
    }
}
