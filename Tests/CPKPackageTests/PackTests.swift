import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat
import CPKPackage
import CPKTestSupport
import Foundation
import XCTest

final class PackTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "cpk-package-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    let identity = PackageIdentity(
        id: "test", name: "Demo", vendor: "Acme", target: Target(arch: "aarch64", os: "OP-TEE"),
        version: Version(major: 1, minor: 2, revision: 3, date: "2026-11-26T00:00:00Z"))

    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func pack(_ payload: [UInt8], as format: OutputFormat) throws -> String {
        let source = try write(payload, to: "payload")
        let path = directory + "/out.\(format.rawValue)"
        let output = try OutputFile(path: path, binary: true)
        try Packer.pack(
            payload: try FileDescriptor.open(forReading: source), identity: identity, log: [],
            to: makePackageOutput(format, to: output.descriptor))
        try output.commit()
        return path
    }

    func testPackedPayloadComesBackCheckedFromBothForms() throws {
        let payload = (0..<(3 << 20) + 1).map { UInt8(truncatingIfNeeded: $0 * 7) }
        for format in OutputFormat.allCases {
            let package = try openPackage(try pack(payload, as: format))
            XCTAssertEqual(package.head.manifest.id, "test")
            let released = directory + "/released"
            try PayloadRelease.release(from: package, to: try OutputFile(path: released, binary: true))
            XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: released))), payload)
        }
    }

    func testDigestStreamIsTheSHA256OfThePayload() throws {
        let payload = Array("hello\n".utf8)
        let file = try PackageFile(file: try FileDescriptor.open(forReading: try pack(payload, as: .cpk)))
        XCTAssertEqual(
            hex(try file.readStream(1)), "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")
        XCTAssertEqual(file.manifest.package.map, [0, 1, 2])
    }

    func testTamperedPayloadIsNotReleased() throws {
        let path = try pack(Array(repeating: 0x41, count: 5000), as: .cpk)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[16 + 3 * 16 + 100] ^= 1
        let tampered = try write(bytes, to: "tampered.cpk")
        let released = directory + "/released"
        XCTAssertThrowsError(
            try PayloadRelease.release(from: try openPackage(tampered), to: try OutputFile(path: released, binary: true))
        ) { error in
            XCTAssertEqual((error as? CPKError)?.kind, .checkFailed)
            XCTAssertTrue("\(error)".contains("digest mismatch"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: released))
    }

    /// Sealing inserts nonce and tag after the payload, signing inserts signature and
    /// certificate before the manifest: the result is the reference 7-stream layout.
    func testInsertingStreamsReachesTheReferenceLayout() throws {
        var head = Packer.head(for: identity, payloadSize: 10)
        head.insertStream(.bytes(Array(repeating: 0, count: 12)), at: 1)
        head.insertStream(.deferred(size: 16), at: 2)
        head.manifest.payload.encryption = .aesGCM(keyName: "test", keyStrength: 256, nonce: 1, tag: 2)
        head.insertStream(.deferred(size: 256), at: 4)
        head.insertStream(.bytes(Array("cert".utf8)), at: 5)
        head.manifest.payload.signature = .rsaPKCS1v15(keyStrength: 2048, data: 4)
        head.manifest.payload.certificate = .x509PEM(data: 5)
        XCTAssertNoThrow(try head.validate())
        XCTAssertEqual(head.manifestIndex, 6)
        XCTAssertEqual(head.manifest.payload.digest, .sha256(data: 3))
        XCTAssertEqual(head.manifest.package.map, [0, 1, 2, 3, 4, 5, 6])
        XCTAssertEqual(
            head.manifest.roles(streamCount: 7, manifestIndex: 6).map(\.rawValue),
            ["payload", "nonce", "tag", "payload-digest", "payload-signature", "payload-certificate", "manifest"])
    }

    func testUnrecognisedInputIsNamed() throws {
        let path = try write(Array("PK\u{3}\u{4}zip".utf8), to: "archive.zip")
        XCTAssertThrowsError(try openPackage(path)) { error in
            XCTAssertTrue("\(error)".contains("neither an envelope"))
        }
    }

    func testSHA256MatchesAKnownVector() throws {
        XCTAssertEqual(
            hex(try SHA256Hasher.digest(Array("abc".utf8))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

/// `cpk-unpack list`'s table and `extract`'s stream bytes, through the library.
final class StreamListingTests: XCTestCase {
    func testTheTableHasOneAlignedLinePerStream() throws {
        let scratch = try Scratch()
        let path = try scratch.pack([1, 2, 3, 4], as: .envelope)
        let summary = try PackageSummary(reading: try openPackage(path))
        let lines = summary.streamTable.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "INDEX  ROLE                 OFFSET        SIZE")
        XCTAssertEqual(lines.count, summary.streams.count + 1)
        XCTAssertTrue(lines[1].hasPrefix("0      "), lines[1])
        XCTAssertEqual(lines[1], "0      payload                         -           4")
        XCTAssertEqual(Set(lines.dropFirst().map(\.count)).count, 1, "aligned: \(lines)")
    }

    func testExtractRefusesAMissingStreamBeforeCreatingTheFile() throws {
        let scratch = try Scratch()
        let path = try scratch.pack([1, 2, 3, 4], as: .envelope)
        let out = scratch.path("out")
        XCTAssertCPKError(.usage, containing: "has no stream 99", try StreamExtraction.write(stream: 99, of: try openPackage(path), to: out))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        try StreamExtraction.write(stream: 0, of: try openPackage(path), to: out)
        XCTAssertEqual(try scratch.read(out), [1, 2, 3, 4], "the payload, released once its digest checks")
    }
}
