@testable import CPKAttestation
import CPKCore
import CPKCrypto
import Foundation
import XCTest

/// TPM2_MakeCredential against a vector computed independently (Tests/e2e/swtpm.py's
/// credential_blob, from the specification) with a fixed seed; that a real TPM opens our
/// credentials is Tests/e2e/test_tpm_attestation.py's. And the evidence check on the committed
/// swtpm vectors: accepted as made, refused with its own reason for each alteration.
final class MakeCredentialTests: XCTestCase {
    func vector(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: TPMStructureTests.vectors.appendingPathComponent(name)))
    }

    func hex(_ text: String) -> [UInt8] { Hex.decode(Array(text.utf8)) ?? [] }

    func testCredentialBlobMatchesTheIndependentVector() throws {
        let json = try JSONValue(parsing: try vector("makecredential.json"))
        guard case .string(let secret)? = json["secret"], case .string(let seed)? = json["seed"],
            case .string(let blob)? = json["credential_blob"]
        else { return XCTFail("the vector does not read") }
        let ek = try TPMPublic(parsingSized: try vector("ek.pub"))
        let name = try TPMPublic(parsingSized: try vector("ak-rsassa.pub")).name
        let made = try TPMMakeCredential.credentialBlob(secret: hex(secret), ek: ek, name: name, seed: hex(seed))
        XCTAssertEqual(Hex.encode(made), blob)
        // the whole credential: the seed encrypted to a 2048-bit EK
        let credential = try TPMMakeCredential.make(secret: hex(secret), ek: ek, name: name, seed: hex(seed))
        XCTAssertEqual(credential.credentialBlob, made)
        XCTAssertEqual(credential.encryptedSecret.count, 256)
        // another Name, another blob: the credential is bound to the AK
        let other = try TPMPublic(parsingSized: try vector("ak-ecdsa.pub")).name
        XCTAssertNotEqual(try TPMMakeCredential.credentialBlob(secret: hex(secret), ek: ek, name: other, seed: hex(seed)), made)
    }

    func testKDFaLengthIsInEveryBlock() throws {
        let a = try TPMMakeCredential.kdfa(.sha256, key: [1, 2, 3], label: "STORAGE", contextU: [4], contextV: [], bits: 128)
        let b = try TPMMakeCredential.kdfa(.sha256, key: [1, 2, 3], label: "STORAGE", contextU: [4], contextV: [], bits: 512)
        XCTAssertEqual(a.count, 16)
        XCTAssertEqual(b.count, 64)
        // a longer output is not an extension of a shorter one
        XCTAssertNotEqual(Array(b.prefix(16)), a)
    }

    func testUnusableEKsAreRefused() throws {
        let ak = try TPMPublic(parsingSized: try vector("ak-rsassa.pub"))
        XCTAssertThrowsError(try TPMMakeCredential.make(secret: [1], ek: ak, name: try ak.name)) { error in
            XCTAssertEqual((error as? CPKError)?.reason, .tpmUnusableEK)
        }
        let ek = try TPMPublic(parsingSized: try vector("ek.pub"))
        XCTAssertThrowsError(try TPMMakeCredential.make(secret: [UInt8](repeating: 1, count: 33), ek: ek, name: try ak.name))
    }

    // MARK: - evidence

    func enrolled(_ ak: String = "ak-rsassa") throws -> EnrolledDevice {
        try EnrolledDevice(deviceID: "dev-01", akPublic: try TPMPublic(parsingSized: try vector("\(ak).pub")),
                           ekCertificate: try vector("ek-cert.der"), enrolledAt: 0)
    }

    func anchors() throws -> [X509Certificate] { try X509Certificate.chain(loading: try vector("manufacturer-ca.pem")) }

    func evidence(quote: Bool = true) throws -> TPMEvidence {
        func signed(_ kind: String) throws -> TPMEvidence.Signed {
            TPMEvidence.Signed(attest: try TPMAttest(parsing: try vector("ak-rsassa-\(kind).attest")),
                               signature: try TPMSignature(parsing: try vector("ak-rsassa-\(kind).sig")))
        }
        return try TPMEvidence(deviceKeyPublic: try TPMPublic(parsingSized: try vector("device.pub")),
                               akName: try enrolled().akName, certify: try signed("certify"), quote: quote ? try signed("quote") : nil)
    }

    func deviceSPKI() throws -> [UInt8] {
        try PublicKey(loading: try TPMPublic(parsingSized: try vector("device.pub")).subjectPublicKeyInfoDER).subjectPublicKeyInfoDER
    }

    /// PCRs 0-7 of a fresh swtpm are zero.
    func zeroPCRs(changing index: Int? = nil) -> TPMPCRRequirement {
        var values: [Int: [UInt8]] = [:]
        for pcr in 0..<8 { values[pcr] = [UInt8](repeating: pcr == index ? 1 : 0, count: 32) }
        return TPMPCRRequirement(banks: [.sha256: values])
    }

    func assertReason(_ reason: CPKError.Reason, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual((error as? CPKError)?.reason, reason, "\(error)", file: file, line: line)
        }
    }

    func testTheCommittedEvidenceIsAcceptedAndEachAlterationRefused() throws {
        let now = Int(Date().timeIntervalSince1970)
        let nonce = try vector("nonce.bin")
        let spki = try deviceSPKI()
        let device = try enrolled()
        let good = TPMEvidenceCheck(ekCAs: try anchors(), nonce: nonce, pcrs: zeroPCRs())
        let evidence = try evidence()
        XCTAssertNoThrow(try good.verify(evidence, enrolled: device, reportedKeySPKI: spki, at: now))
        // no enrollment; another enrolled AK
        assertReason(.tpmNotEnrolled) { try good.verify(evidence, enrolled: nil, reportedKeySPKI: spki, at: now) }
        let ecdsa = try enrolled("ak-ecdsa")
        assertReason(.tpmNotEnrolled) { try good.verify(evidence, enrolled: ecdsa, reportedKeySPKI: spki, at: now) }
        // no manufacturer CA trusted
        let untrusted = TPMEvidenceCheck(ekCAs: [], nonce: nonce, pcrs: nil)
        assertReason(.tpmUntrustedEK) { try untrusted.verify(evidence, enrolled: device, reportedKeySPKI: spki, at: now) }
        // another reported key
        let ak = try TPMPublic(parsingSized: try vector("ak-rsassa.pub"))
        let otherKey = try PublicKey(loading: ak.subjectPublicKeyInfoDER).subjectPublicKeyInfoDER
        assertReason(.tpmKeyMismatch) { try good.verify(evidence, enrolled: device, reportedKeySPKI: otherKey, at: now) }
        // a stale nonce, other PCR values, no quote
        let stale = TPMEvidenceCheck(ekCAs: try anchors(), nonce: [UInt8](repeating: 0xEE, count: 16), pcrs: nil)
        assertReason(.tpmStaleNonce) { try stale.verify(evidence, enrolled: device, reportedKeySPKI: spki, at: now) }
        let pcrs = TPMEvidenceCheck(ekCAs: try anchors(), nonce: nonce, pcrs: zeroPCRs(changing: 7))
        assertReason(.tpmPCRMismatch) { try pcrs.verify(evidence, enrolled: device, reportedKeySPKI: spki, at: now) }
        let noQuote = try self.evidence(quote: false)
        assertReason(.tpmNoEvidence) { try good.verify(noQuote, enrolled: device, reportedKeySPKI: spki, at: now) }
        // without a nonce or PCRs, the certify alone suffices
        XCTAssertNoThrow(
            try TPMEvidenceCheck(ekCAs: try anchors(), nonce: nil, pcrs: nil).verify(noQuote, enrolled: device, reportedKeySPKI: spki, at: now))
        // a certify carrying the quote's signature
        guard let quote = evidence.quote else { return XCTFail("no quote") }
        let swapped = try TPMEvidence(deviceKeyPublic: evidence.deviceKeyPublic, akName: evidence.akName,
                                      certify: TPMEvidence.Signed(attest: evidence.certify.attest, signature: quote.signature), quote: quote)
        assertReason(.tpmBadSignature) { try good.verify(swapped, enrolled: device, reportedKeySPKI: spki, at: now) }
    }
}
