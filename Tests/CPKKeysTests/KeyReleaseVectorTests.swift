import CPKCore
import CPKCrypto
import Foundation
import XCTest

@testable import CPKKeys

/// The key-release vectors of Tests/vectors/release (made by make_vectors.py with Python
/// `cryptography`): each document verifies, or is refused with the reason its `.expect` names.
final class KeyReleaseVectorTests: XCTestCase {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("vectors/release")

    func testEveryVectorGetsItsVerdict() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".expect") }.sorted()
        XCTAssertGreaterThan(names.count, 15)
        let fingerprint = try SHA256Hasher.digest(Array("the device key of the vectors".utf8))
        let now = try XCTUnwrap(CheckTime.parse("2027-01-01T00:00:00Z"))
        for name in names {
            let base = String(name.dropLast(".expect".count))
            let line = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let words = line.split(separator: ";")[0].split(separator: " ").map(String.init)
            var fields: [String: String] = [:]
            for word in words.dropFirst() {
                let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { fields[parts[0]] = parts[1] }
            }
            let anchorBytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(fields["anchor"] ?? "operator.pub")))
            let expectation = KeyRelease.Expectation(
                anchor: try FleetAnchor(loading: anchorBytes), deviceID: "dev-01", deviceKeySHA256: fingerprint, lastGeneration: 4,
                time: now)
            let document = [UInt8](try Data(contentsOf: directory.appendingPathComponent(base + ".json")))
            switch words.first {
            case "accept":
                let release = try KeyRelease(verifying: document, against: expectation)
                XCTAssertEqual(String(release.generation), fields["generation"], base)
                XCTAssertEqual(String(release.keys.count), fields["keys"], base)
                XCTAssertEqual(release.padding, .oaepSHA256, base)
            case "reject":
                XCTAssertThrowsError(try KeyRelease(verifying: document, against: expectation), base) { error in
                    XCTAssertEqual((error as? CPKError)?.reason?.rawValue, fields["reason"], "\(base): \(error)")
                }
            default:
                XCTFail("\(name): neither accept nor reject")
            }
        }
    }
}
