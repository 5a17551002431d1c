import CPKCore
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

// Helpers shared by the XCTest targets (one copy, as swift-argument-parser's test helpers).

/// A fresh private directory (0700, from mkdtemp), removed after the test.
public func makeTemporaryDirectory(_ test: XCTestCase) -> String {
    var template = Array("/tmp/cpk-tests.XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Asserts that `body` throws a one-line `CPKError` of `kind` whose message contains `text`.
public func XCTAssertCPKError<T>(
    _ kind: CPKError.Kind, containing text: String, _ body: @autoclosure () throws -> T,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let error = error as? CPKError else { return XCTFail("not a CPKError: \(error)", file: file, line: line) }
        XCTAssertEqual(error.kind, kind, error.message, file: file, line: line)
        XCTAssertTrue(error.message.contains(text), "\"\(error.message)\" lacks \"\(text)\"", file: file, line: line)
        XCTAssertFalse(error.message.contains("\n"), "a message is one line", file: file, line: line)
    }
}

/// A scratch directory and the real openssl command line, for interoperability checks.
public final class OpenSSLCommand {
    public let directory: URL

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cpk-crypto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    public func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: directory.appendingPathComponent(name))
    }

    public func read(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: directory.appendingPathComponent(name))) }

    /// Runs `openssl ARGS` in the directory; returns its exit status.
    @discardableResult
    public func run(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    public func runChecked(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let status = try run(arguments)
        XCTAssertEqual(status, 0, "openssl \(arguments.joined(separator: " ")) failed", file: file, line: line)
    }
}

