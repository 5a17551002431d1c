import CPKCore
import CPKCrypto
import CPKFormat
import CPKPackage
import CPKTestSupport
import Foundation
import XCTest

/// The loops that read the next payload chunk while the second core still works on this one
/// (`PackageInput.keepsPreviousChunk`): every form and kind of package comes back whole and
/// checked, and a changed byte in a middle chunk is still caught.
final class ReadAheadTests: XCTestCase {
    var scratch: Scratch!

    override func setUpWithError() throws { scratch = try Scratch() }
    override func tearDown() { scratch = nil }

    /// Three full chunks and a few bytes: the loops' first, middle and last rounds all run.
    let payload = testPayload(3 * Chunks.size + 5)
    let classKey: [UInt8] = (0..<32).map { UInt8($0) }

    func testACPKKeepsItsPreviousChunkThroughTheNextRead() throws {
        let input = try openPackage(try scratch.pack(payload, as: .cpk))
        XCTAssertTrue(input.keepsPreviousChunk)
        let first = try XCTUnwrap(try input.nextPayloadChunk())
        let copy = [UInt8](first)
        let second = try XCTUnwrap(try input.nextPayloadChunk())
        XCTAssertEqual([UInt8](first), copy, "the first chunk is intact after the second was read")
        XCTAssertNotEqual(first.baseAddress, second.baseAddress)
        XCTAssertEqual(copy, Array(payload[0..<Chunks.size]))
        XCTAssertEqual([UInt8](second), Array(payload[Chunks.size..<2 * Chunks.size]))
        XCTAssertFalse(try openPackage(try scratch.pack(payload, as: .envelope, name: "env")).keepsPreviousChunk)
    }

    /// Plaintext and sealed, `.cpk` and envelope, each with a package signature (so the package
    /// digest is computed beside the payload check).
    private func packages() throws -> [String] {
        var paths: [String] = []
        for format in OutputFormat.allCases {
            let plain = try scratch.pack(payload, as: format, name: "plain-\(format.rawValue)")
            let sealed = try scratch.seal(plain, key: classKey, as: format, name: "sealed-\(format.rawValue)")
            for source in [plain, sealed] {
                let name = "signed-\(paths.count)"
                paths.append(try scratch.sign(
                    source, try signingRequest([.payload, .package], TestKeys.ed25519, certificate: .publicKey(
                        try TestKeys.ed25519.verifyingKey, form: .pem)), as: format, name: name).path)
            }
        }
        return paths
    }

    private func verify(_ path: String) throws -> VerificationReport {
        var policy = VerifyPolicy(trust: TrustPolicy(time: Int(Date().timeIntervalSince1970)))
        policy.classKey = classKey
        return try Verifier.verify(try openPackage(path), policy: policy)
    }

    func testEveryFormAndKindIsReleasedWholeAndVerifies() throws {
        for path in try packages() {
            let released = scratch.path("released")
            try PayloadRelease.release(from: try openPackage(path), to: try OutputFile(path: released, binary: true), key: classKey)
            XCTAssertEqual(try scratch.read(released), payload, path)
            let report = try verify(path)
            for check in [VerificationCheck.structure, .payloadDigest, .packageDigest, .payloadSignature, .packageSignature] {
                XCTAssertEqual(report.result(check)?.status, .passed, "\(path) \(check.rawValue): \(report.result(check)?.detail ?? "-")")
            }
        }
    }

    func testAChangedByteInAMiddleChunkIsCaughtAndNothingIsReleased() throws {
        for path in try packages() where path.hasSuffix(".cpk") {
            var bytes = try scratch.read(path)
            let input = try XCTUnwrap(try openPackage(path) as? PackageFileInput)
            let start = input.package.absoluteOffset(of: input.head.manifest.payload.data)
            bytes[Int(start) + Chunks.size + 17] ^= 0x40
            let changed = try scratch.write(bytes, to: "changed.cpk")
            let released = scratch.path("released-changed")
            XCTAssertThrowsError(try PayloadRelease.release(
                from: try openPackage(changed), to: try OutputFile(path: released, binary: true), key: classKey))
            XCTAssertFalse(FileManager.default.fileExists(atPath: released), "nothing was released")
            let report = try verify(changed)
            XCTAssertEqual(report.result(.packageDigest)?.status, .failed, path)
            XCTAssertEqual(report.result(.payloadDigest)?.status, .failed, path)
        }
    }
}
