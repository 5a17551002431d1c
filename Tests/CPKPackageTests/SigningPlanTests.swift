import CPKCore
import CPKCrypto
import CPKTestSupport
import XCTest

@testable import CPKPackage

/// The rules a signing run follows before anything is written (Sign/SigningPlan.swift).
final class SigningPlanTests: XCTestCase {
    func testBothSignaturesUnlessOneIsNamed() {
        XCTAssertEqual(SignatureTarget.selected(payload: false, package: false), [.payload, .package])
        XCTAssertEqual(SignatureTarget.selected(payload: true, package: true), [.payload, .package])
        XCTAssertEqual(SignatureTarget.selected(payload: true, package: false), [.payload])
        XCTAssertEqual(SignatureTarget.selected(payload: false, package: true), [.package])
    }

    func testTheSchemeIsTheKeysUnlessAFittingOneIsAsked() throws {
        XCTAssertEqual(try SignatureScheme.chosen(nil, for: try TestKeys.rsa.verifyingKey), .rsaPKCS1v15)
        XCTAssertEqual(try SignatureScheme.chosen(nil, for: try TestKeys.p384.verifyingKey), .ecdsaP384)
        XCTAssertEqual(try SignatureScheme.chosen(.rsaPSS, for: try TestKeys.rsa.verifyingKey), .rsaPSS)
        XCTAssertThrowsError(try SignatureScheme.chosen(.ed25519, for: try TestKeys.rsa.verifyingKey))
        XCTAssertThrowsError(try SignatureScheme.chosen(.ecdsaP256, for: try TestKeys.p384.verifyingKey))
    }

    func testTheChoiceOfNamingBecomesTheEmbedding() throws {
        let signer = try TestKeys.ed25519.verifyingKey
        guard case .publicKey(let key, .der) = CertificateEmbedding(.publicKey, signer: signer, form: .der) else {
            return XCTFail("the signer's key, in the form asked")
        }
        XCTAssertTrue(key.isSameKey(as: signer))
        guard case .url("https://x/c.pem") = CertificateEmbedding(.url("https://x/c.pem"), signer: signer, form: .pem) else {
            return XCTFail("a URL")
        }
        guard case .none = CertificateEmbedding(.none, signer: signer, form: .pem) else { return XCTFail("none") }
    }

    func testWarnings() throws {
        // RSA PKCS#1 v1.5 with a key embedded: nothing to say
        XCTAssertEqual(
            Signer.warnings(for: try signingRequest([.payload, .package], TestKeys.rsa, certificate: .publicKey(try TestKeys.rsa.verifyingKey, form: .pem))),
            [])
        // a scheme the reference Package Manager cannot check, and no way for a verifier to find the key
        XCTAssertEqual(Signer.warnings(for: try signingRequest([.payload], TestKeys.ed25519)), [.deviceCannotVerify(.ed25519), .noSignerCredential])
        // a package signature alone makes no payload-signature warning
        XCTAssertEqual(Signer.warnings(for: try signingRequest([.package], TestKeys.ed25519, certificate: .domain("d"))), [])
        // offline, a payload signature alone leaves the manifest uncovered for now
        XCTAssertEqual(
            Signer.warnings(for: try signingRequest([.payload], TestKeys.rsa, certificate: .url("u"), offline: true)),
            [.manifestNotYetCovered])
        XCTAssertFalse(SigningWarning.noSignerCredential.text.contains("--"), "the library names no flag")
    }

    func testTheLogSaysWhatWasDone() throws {
        XCTAssertEqual(
            Signer.logAction(for: try signingRequest([.payload, .package], TestKeys.ed25519)),
            "added an ed25519 payload and package signature (Ed25519 key)")
        XCTAssertTrue(Signer.logAction(for: try signingRequest([.package], TestKeys.rsa, offline: true)).hasPrefix("prepared an offline rsa-pkcs1v15 package signature"))
    }
}

/// `cpk-sign --json`: what was signed, by whom, over which digests.
final class SigningReportTests: XCTestCase {
    func testTheReportNamesTheDigestsSignedAndTheSigner() throws {
        let scratch = try Scratch()
        let payload = testPayload(1000)
        let packed = try scratch.pack(payload, as: .envelope)
        let key = TestKeys.p256
        let request = try signingRequest([.payload, .package], key, certificate: .publicKey(try key.verifyingKey, form: .pem))
        var report: SigningReport?
        let path = try scratch.output("r", .cpk) { report = try Signer.sign(try openPackage(packed), request, log: testEntry, to: $0) }
        let signed = try scratch.readAll(path)
        let json = try XCTUnwrap(report).json.compactText
        XCTAssertTrue(json.hasPrefix(#"{"signatures":["payload","package"],"scheme":"ecdsa-p256","offline":false,"replaced":false,"#), json)
        XCTAssertTrue(json.contains(#""payload-digest":"\#(Hex.encode(try sha256(payload)))""#), json)
        XCTAssertTrue(json.contains(#""package-digest":"\#(Hex.encode(try signed.mapDigest()))""#), json)
        XCTAssertTrue(json.contains(#""key-sha256":"\#(Hex.encode(try key.verifyingKey.fingerprint))","named-by":"public-key","subject":null"#), json)
        // a package signature alone signs no payload digest
        let packageOnly = try Signer.sign(
            try openPackage(packed), try signingRequest([.package], key, offline: true), log: testEntry, to: RecordingOutput())
        XCTAssertNil(packageOnly.payloadDigest)
        XCTAssertFalse(packageOnly.signed)
        XCTAssertTrue(packageOnly.json.compactText.contains(#""offline":true"#))
    }
}
