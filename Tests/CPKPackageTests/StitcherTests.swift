import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat
import CPKTestSupport
import Foundation
import XCTest

@testable import CPKPackage

/// Offline signing's second half: a detached signature replaces the placeholder only once it
/// verifies, in the stored form (raw r‖s for ECDSA), by the key the package embeds.
final class StitcherTests: XCTestCase {
    var scratch: Scratch!

    override func setUpWithError() throws { scratch = try Scratch() }
    override func tearDown() { scratch = nil }

    /// cpk-sign prepare: an envelope with a pending signature, and the digest it emitted.
    private func prepare(
        _ targets: [SignatureTarget], _ key: SigningKey, scheme: SignatureScheme? = nil, embed: Bool = true,
        payload: [UInt8] = testPayload(3000), from source: String? = nil
    ) throws -> (path: String, digest: [UInt8]) {
        let embedding: CertificateEmbedding = embed ? .publicKey(try key.verifyingKey, form: .pem) : .none
        let input = try source ?? scratch.pack(payload, as: .envelope)
        let prepared = try scratch.sign(
            input, try signingRequest(targets, key, scheme: scheme, certificate: embedding, offline: true), as: .envelope,
            name: "prepared-\(UUID().uuidString)")
        return (prepared.path, try XCTUnwrap(prepared.emitted, "an offline signer emits the digest"))
    }

    /// cpk-sign stitch into a .cpk; the output is only asked for once the signature verifies.
    private func stitch(_ path: String, _ signature: [UInt8], key: VerifyingKey? = nil, asked: inout Bool) throws -> String {
        var wasAsked = false
        defer { asked = wasAsked }
        let file = scratch.path("stitched-\(UUID().uuidString).cpk")
        let output = try OutputFile(path: file, binary: true)
        try Stitcher.stitch(try openPackage(path), signature: signature, key: key, log: testEntry) {
            wasAsked = true
            return makePackageOutput(.cpk, to: output.descriptor)
        }
        try output.commit()
        return file
    }

    private func stitch(_ path: String, _ signature: [UInt8], key: VerifyingKey? = nil) throws -> String {
        var asked = false
        return try stitch(path, signature, key: key, asked: &asked)
    }

    // MARK: - stitched

    func testACorrectPayloadSignatureIsStitchedForEveryScheme() throws {
        let payload = testPayload(Chunks.size + 77)
        for scheme in SignatureScheme.allCases {
            let key = TestKeys.key(for: scheme)
            let prepared = try prepare([.payload], key, scheme: scheme, payload: payload)
            XCTAssertEqual(prepared.digest, try sha256(payload), scheme.rawValue)
            XCTAssertEqual(try Stitcher.digestToSign(try openPackage(prepared.path)), prepared.digest, scheme.rawValue)
            let signature = try key.sign(digest: prepared.digest, scheme: scheme)
            let package = try scratch.readAll(try stitch(prepared.path, signature))
            XCTAssertEqual(package.head.pendingSignatures, [], scheme.rawValue)
            XCTAssertEqual(package.streams[2], signature, scheme.rawValue)
            XCTAssertEqual(package.streams[0], payload, scheme.rawValue)
            XCTAssertEqual(package.manifest.payload.signature.scheme, scheme)
            XCTAssertTrue(try key.verifyingKey.verify(signature: package.streams[2], digest: try sha256(payload), scheme: scheme))
        }
    }

    /// The package digest is known only after the payload: digestToSign reads to the end for
    /// it, and stitching keeps the payload to replay after the check.
    func testAPackageSignatureIsStitchedOverThePackageDigest() throws {
        let payload = testPayload(Chunks.size * 2 + 5)
        let key = TestKeys.ed25519
        let online = try scratch.sign(
            try scratch.pack(payload, as: .envelope), try signingRequest([.payload], key), as: .envelope, name: "online").path
        let prepared = try prepare([.package], key, from: online)
        XCTAssertEqual(try Stitcher.digestToSign(try openPackage(prepared.path)), prepared.digest)
        let package = try scratch.readAll(try stitch(prepared.path, try key.sign(digest: prepared.digest, scheme: .ed25519)))
        XCTAssertEqual(package.roles, ["payload", "payload-digest", "payload-signature", "package-digest", "package-signature", "package-certificate", "manifest"])
        XCTAssertEqual(package.streams[3], prepared.digest)
        XCTAssertEqual(try package.mapDigest(), prepared.digest, "the map digest of the stitched package is what was signed")
        XCTAssertEqual(package.streams[0], payload)
        XCTAssertTrue(try key.verifyingKey.verify(signature: package.streams[4], digest: prepared.digest, scheme: .ed25519))
    }

    // MARK: - refused

    func testASignatureThatDoesNotVerifyIsRefusedAndNothingIsWritten() throws {
        let key = TestKeys.ed25519
        let prepared = try prepare([.payload], key)
        let wrongBytes = try key.sign(digest: try sha256([9]), scheme: .ed25519)
        let wrongKey = try TestKeys.other.sign(digest: prepared.digest, scheme: .ed25519)
        for signature in [wrongBytes, wrongKey, [UInt8](repeating: 0, count: 64)] {
            var asked = true
            XCTAssertCPKError(
                .checkFailed, containing: "the signature does not verify, so it was not stitched in",
                try stitch(prepared.path, signature, asked: &asked))
            XCTAssertFalse(asked, "no output is opened for a signature that does not verify")
        }
        var rsa = try prepare([.payload], TestKeys.rsa, scheme: .rsaPSS)
        let pkcs1 = try TestKeys.rsa.sign(digest: rsa.digest, scheme: .rsaPKCS1v15)
        XCTAssertCPKError(.checkFailed, containing: "expected: RSA-PSS", try stitch(rsa.path, pkcs1))
        rsa = try prepare([.payload], TestKeys.rsa, scheme: .rsaPKCS1v15)
        XCTAssertNoThrow(try stitch(rsa.path, pkcs1))
    }

    /// OpenSSL makes DER ECDSA signatures; the package stores raw r‖s.
    func testADERECDSASignatureIsStoredAsRawRS() throws {
        for (scheme, key, size) in [(SignatureScheme.ecdsaP256, TestKeys.p256, 64), (.ecdsaP384, TestKeys.p384, 96)] {
            let prepared = try prepare([.payload], key)
            let raw = try key.sign(digest: prepared.digest, scheme: scheme)
            XCTAssertEqual(raw.count, size)
            let der = try XCTUnwrap(ECDSASignature.der(fromRaw: raw))
            XCTAssertEqual(der.first, 0x30)
            XCTAssertNotEqual(der.count, size)
            let package = try scratch.readAll(try stitch(prepared.path, der))
            XCTAssertEqual(package.streams[2], raw, scheme.rawValue)
            // DER that is not an ECDSA signature for the scheme
            let bogus: [UInt8] = [0x30, 0x44] + [UInt8](repeating: 0x02, count: 68)
            XCTAssertCPKError(.invalidInput, containing: "is not a DER ECDSA signature for \(scheme.rawValue)", try stitch(prepared.path, bogus))
        }
    }

    func testASignatureOfTheWrongSizeIsRefused() throws {
        let ed = try prepare([.payload], TestKeys.ed25519)
        let signature = try TestKeys.ed25519.sign(digest: ed.digest, scheme: .ed25519)
        XCTAssertCPKError(
            .invalidInput, containing: "the signature is 63 bytes, but a ed25519 signature by this key is 64 bytes",
            try stitch(ed.path, Array(signature.dropLast())))
        XCTAssertCPKError(.invalidInput, containing: "the signature is 65 bytes", try stitch(ed.path, signature + [0]))
        let rsa = try prepare([.payload], TestKeys.rsa)
        XCTAssertCPKError(
            .invalidInput, containing: "the signature is 255 bytes, but a rsa-pkcs1v15 signature by this key is 256 bytes",
            try stitch(rsa.path, [UInt8](repeating: 1, count: 255)))
    }

    func testAGivenKeyMustBeTheEmbeddedOne() throws {
        let key = TestKeys.ed25519
        let prepared = try prepare([.payload], key)
        let signature = try key.sign(digest: prepared.digest, scheme: .ed25519)
        XCTAssertCPKError(
            .invalidInput, containing: "the given key is not the signer's key that the package embeds (payload.cert)",
            try stitch(prepared.path, signature, key: try TestKeys.other.verifyingKey))
        XCTAssertNoThrow(try stitch(prepared.path, signature, key: try key.verifyingKey))
    }

    func testWithoutAnEmbeddedKeyTheKeyMustBeGiven() throws {
        let key = TestKeys.p256
        let prepared = try prepare([.payload], key, embed: false)
        let signature = try key.sign(digest: prepared.digest, scheme: .ecdsaP256)
        XCTAssertCPKError(.usage, containing: "the package does not embed the signer's certificate or key", try stitch(prepared.path, signature))
        let package = try scratch.readAll(try stitch(prepared.path, signature, key: try key.verifyingKey))
        XCTAssertEqual(package.streams[2], signature)
        XCTAssertEqual(package.roles, ["payload", "payload-digest", "payload-signature", "manifest"])
        // a given key of another type does not fit the scheme
        XCTAssertThrowsError(try stitch(prepared.path, signature, key: try TestKeys.ed25519.verifyingKey))
    }

    func testAPackageWithNothingPendingIsRefused() throws {
        let packed = try scratch.pack([1, 2, 3], as: .envelope)
        XCTAssertCPKError(.invalidInput, containing: "has no pending signature", try stitch(packed, [UInt8](repeating: 0, count: 64)))
        XCTAssertCPKError(.invalidInput, containing: "has no pending signature", try Stitcher.digestToSign(try openPackage(packed)))
    }
}
