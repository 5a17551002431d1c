import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat
import CPKTestSupport
import Foundation
import XCTest

@testable import CPKPackage

/// Re-signing (issue 14 item 4): replacing a signature, stripping one, and refusing only what
/// would silently leave a covering signature broken.
final class ResigningTests: XCTestCase {
    var scratch: Scratch!
    override func setUpWithError() throws { scratch = try Scratch() }
    override func tearDown() { scratch = nil }

    private func verify(_ path: String, pinned: [SigningKey]) throws -> VerificationReport {
        var trust = TrustPolicy(time: Int(Date().timeIntervalSince1970))
        trust.pinnedKeys = try pinned.map { .init(try $0.verifyingKey, scope: .anyApplication) }
        return try Verifier.verify(try openPackage(path), policy: VerifyPolicy(trust: trust))
    }

    private func signedByEd25519(as format: OutputFormat = .envelope) throws -> String {
        let packed = try scratch.pack(testPayload(3000), as: .envelope)
        let request = try signingRequest([.payload, .package], TestKeys.ed25519, certificate: .publicKey(try TestKeys.ed25519.verifyingKey, form: .pem))
        return try scratch.sign(packed, request, as: format, name: "first").path
    }

    func testReplacingBothSignaturesGivesTheSameLayoutByTheNewSigner() throws {
        for format in [OutputFormat.envelope, .cpk] {
            let first = try signedByEd25519(as: format)
            let before = try scratch.readAll(first)
            var request = try signingRequest(
                [.payload, .package], TestKeys.p256, certificate: .publicKey(try TestKeys.p256.verifyingKey, form: .der))
            request.replacing = true
            let again = try scratch.sign(first, request, as: .cpk, name: "again-\(format.rawValue)").path
            let after = try scratch.readAll(again)
            XCTAssertEqual(after.roles, before.roles, "the old streams gone, the new ones in their places")
            XCTAssertEqual(after.manifest.payload.signature.schemeName, "ecdsa-p256")
            XCTAssertEqual(after.manifest.package.map, after.manifest.package.map.filter { $0 != after.manifest.package.signature.stream && $0 != after.manifest.package.digest.stream })
            XCTAssertEqual(after.streams[after.manifest.package.digest.stream!], try after.mapDigest())
            let report = try verify(again, pinned: [TestKeys.p256])
            XCTAssertTrue(report.isManifestAuthenticated, "\(report.checks)")
            XCTAssertEqual(report.signaturesChecked, 2)
            XCTAssertFalse(try verify(again, pinned: [TestKeys.ed25519]).isAuthenticated, "the old signer no longer vouches")
        }
    }

    func testOnlyThePackageSignatureMayBeReplacedAlone() throws {
        let first = try signedByEd25519()
        var request = try signingRequest([.package], TestKeys.rsa, certificate: .publicKey(try TestKeys.rsa.verifyingKey, form: .pem))
        request.replacing = true
        let again = try scratch.readAll(try scratch.sign(first, request, as: .cpk, name: "pkg").path)
        XCTAssertEqual(again.manifest.payload.signature.schemeName, "ed25519", "the payload signature is kept")
        XCTAssertEqual(again.manifest.package.signature.schemeName, "rsa-pkcs1v15")
        // the payload signature alone would leave the package signature over the old one broken
        var payloadOnly = try signingRequest([.payload], TestKeys.rsa)
        payloadOnly.replacing = true
        XCTAssertThrowsError(try Signer.sign(try openPackage(first), payloadOnly, log: testEntry, to: RecordingOutput())) { error in
            XCTAssertEqual((error as? CPKError)?.reason, .coverageWouldDrop)
        }
    }

    func testWithoutReplaceASignedPackageIsRefusedWithATypedReason() throws {
        let first = try signedByEd25519()
        XCTAssertThrowsError(
            try Signer.sign(try openPackage(first), try signingRequest([.package], TestKeys.rsa), log: testEntry, to: RecordingOutput())
        ) { error in
            XCTAssertEqual((error as? CPKError)?.reason, .alreadySigned)
        }
    }

    func testStripRemovesSignaturesWithTheirStreamsAndRestoresTheMap() throws {
        let first = try signedByEd25519()
        let stripped = try scratch.output("stripped", .cpk) {
            try Signer.strip(try openPackage(first), targets: [.payload, .package], log: testEntry, to: $0)
        }
        let read = try scratch.readAll(stripped)
        XCTAssertEqual(read.roles, ["payload", "payload-digest", "manifest"], "as cpk-pack made it")
        XCTAssertEqual(read.manifest.package.map, [0, 1, 2])
        XCTAssertEqual(read.manifest.payload.signature, .none)
        XCTAssertEqual(read.manifest.package.digest, .none)
        // package only: the payload signature and its certificate stay, the map covers all
        let packageOnly = try scratch.readAll(try scratch.output("p", .envelope) {
            try Signer.strip(try openPackage(first), targets: [.package], log: testEntry, to: $0)
        })
        XCTAssertEqual(packageOnly.roles, ["payload", "payload-digest", "payload-signature", "payload-certificate", "manifest"])
        XCTAssertEqual(packageOnly.manifest.package.map, [0, 1, 2, 3, 4])
        // refusals: the payload signature under a package signature; nothing to strip
        XCTAssertThrowsError(try Signer.strip(try openPackage(first), targets: [.payload], log: testEntry, to: RecordingOutput())) {
            XCTAssertEqual(($0 as? CPKError)?.reason, .coverageWouldDrop)
        }
        XCTAssertCPKError(
            .invalidInput, containing: "no payload or package signature to strip",
            try Signer.strip(try openPackage(stripped), targets: [.payload, .package], log: testEntry, to: RecordingOutput()))
    }

    func testAPendingOfflineSignatureCanBeStripped() throws {
        let packed = try scratch.pack([1, 2, 3], as: .envelope)
        let prepared = try scratch.sign(packed, try signingRequest([.payload], TestKeys.p384, offline: true), as: .envelope, name: "pending").path
        XCTAssertEqual(try openPackage(prepared).head.pendingSignatures.count, 1)
        let stripped = try scratch.output("s", .cpk) {
            try Signer.strip(try openPackage(prepared), targets: [.payload], log: testEntry, to: $0)
        }
        XCTAssertEqual(try openPackage(stripped).head.pendingSignatures, [])
    }

    func testRemovingAStreamRenumbersEveryReference() {
        var head = Packer.head(for: testIdentity, payloadSize: 1)
        head.insertStream(.bytes([9]), at: 0)  // an unreferenced stream before the payload
        XCTAssertEqual(head.manifest.payload.data, 1)
        head.removeStream(at: 0)
        XCTAssertEqual(head.manifest.payload.data, 0)
        XCTAssertEqual(head.manifest.package.map, [0, 1, 2])
        XCTAssertEqual(head.manifestIndex, 2)
        XCTAssertNoThrow(try head.validate())
    }
}
