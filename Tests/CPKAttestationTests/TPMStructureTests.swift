import CPKAttestation
import CPKCore
import CPKTestSupport
import Foundation
import XCTest

/// The committed vectors (Tests/vectors/tpm, made by swtpm and tpm2-tools): every structure
/// reads, the device key's Name computed here is the Name the TPM certified, every signature
/// verifies, and every alteration is refused with a typed error.
final class TPMStructureTests: XCTestCase {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../vectors/tpm").standardized
    static let keys = ["ak-rsassa", "ak-rsapss", "ak-ecdsa"]

    func vector(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Self.vectors.appendingPathComponent(name)))
    }

    func testTheDeviceKeyIsAHardwareBoundRSADecryptionKey() throws {
        let device = try TPMPublic(parsingSized: try vector("device.pub"))
        XCTAssertTrue(device.isHardwareBound)
        XCTAssertTrue(device.attributes.contains(.decrypt))
        XCTAssertFalse(device.attributes.contains(.sign))
        guard case .rsa(let modulus, let exponent, let bits) = device.key else { return XCTFail("not RSA") }
        XCTAssertEqual(bits, 2048)
        XCTAssertEqual(modulus.count, 256)
        XCTAssertEqual(exponent, 65537)
        XCTAssertEqual(device.nameAlgorithm, .sha256)
        XCTAssertEqual(try device.name.count, 34)
        XCTAssertEqual(Array(try device.name.prefix(2)), [0x00, 0x0B])
    }

    func testTheAttestationKeysAreRestrictedSigningKeys() throws {
        let expected: [String: (UInt16, Bool)] = [
            "ak-rsassa": (0x0014, true), "ak-rsapss": (0x0016, true), "ak-ecdsa": (0x0018, false),
        ]
        for (name, (scheme, rsa)) in expected {
            let key = try TPMPublic(parsingSized: try vector("\(name).pub"))
            XCTAssertTrue(key.attributes.isSuperset(of: [.restricted, .sign, .fixedTPM, .fixedParent, .sensitiveDataOrigin]), name)
            XCTAssertEqual(key.signingScheme, TPMSigningScheme(algorithm: scheme, hash: .sha256), name)
            if case .rsa = key.key { XCTAssertTrue(rsa, name) } else { XCTAssertFalse(rsa, name) }
            // the DER form OpenSSL reads is the same key
            XCTAssertEqual(key.subjectPublicKeyInfoDER.first, 0x30)
        }
    }

    /// The TPM certified the device key under the Name computed here from its public area.
    func testCertifyNamesTheDeviceKeyAndVerifies() throws {
        let device = try TPMPublic(parsingSized: try vector("device.pub"))
        for name in Self.keys {
            let ak = try TPMPublic(parsingSized: try vector("\(name).pub"))
            let attest = try TPMAttestationVerifier.verify(
                attest: try vector("\(name)-certify.attest"), signature: try vector("\(name)-certify.sig"), signer: ak)
            XCTAssertEqual(attest.certifiedName, try device.name, name)
            XCTAssertEqual(attest.qualifiedSigner.count, 34, name)
        }
    }

    func testQuotesCarryTheNonceAndVerify() throws {
        let nonce = try vector("nonce.bin")
        for name in Self.keys {
            let ak = try TPMPublic(parsingSized: try vector("\(name).pub"))
            let attest = try TPMAttestationVerifier.verify(
                attest: try vector("\(name)-quote.attest"), signature: try vector("\(name)-quote.sig"), signer: ak)
            XCTAssertEqual(attest.extraData, nonce, name)
            guard case .quote(let selections, let digest) = attest.attested else { return XCTFail("\(name): not a quote") }
            XCTAssertEqual(selections.count, 1)
            XCTAssertEqual(selections.first?.hash, 0x000B)
            XCTAssertEqual(selections.first?.indices, Array(0...7))
            XCTAssertEqual(digest.count, 32)
        }
    }

    func testASignatureByAnotherKeyOrOverOtherBytesIsRefused() throws {
        let rsassa = try TPMPublic(parsingSized: try vector("ak-rsassa.pub"))
        let ecdsa = try TPMPublic(parsingSized: try vector("ak-ecdsa.pub"))
        // another key of the same type and scheme would be needed to reach the signature check;
        // a scheme other than the key's is refused first
        XCTAssertCPKError(
            .checkFailed, containing: "signs only with",
            try TPMAttestationVerifier.verify(
                attest: try vector("ak-rsapss-quote.attest"), signature: try vector("ak-rsapss-quote.sig"), signer: rsassa))
        XCTAssertCPKError(
            .checkFailed, containing: "signs only with",
            try TPMAttestationVerifier.verify(
                attest: try vector("ak-rsassa-quote.attest"), signature: try vector("ak-rsassa-quote.sig"), signer: ecdsa))
        // the right key, but the certify's signature over the quote's bytes
        XCTAssertCPKError(
            .checkFailed, containing: "does not verify",
            try TPMAttestationVerifier.verify(
                attest: try vector("ak-rsassa-quote.attest"), signature: try vector("ak-rsassa-certify.sig"), signer: rsassa))
        XCTAssertCPKError(
            .checkFailed, containing: "does not verify",
            try TPMAttestationVerifier.verify(
                attest: try vector("ak-ecdsa-quote.attest"), signature: try vector("ak-ecdsa-certify.sig"), signer: ecdsa))
        // one flipped bit anywhere in the attestation: it no longer verifies, or no longer reads
        let quote = try vector("ak-rsassa-quote.attest")
        let signature = try vector("ak-rsassa-quote.sig")
        for index in quote.indices {
            var altered = quote
            altered[index] ^= 0x01
            XCTAssertThrowsError(try TPMAttestationVerifier.verify(attest: altered, signature: signature, signer: rsassa)) { error in
                XCTAssertTrue(error is CPKError, "byte \(index): \(error)")
            }
        }
    }

    func testTheDeviceKeyCannotSignAnAttestation() throws {
        let device = try TPMPublic(parsingSized: try vector("device.pub"))
        XCTAssertCPKError(
            .checkFailed, containing: "not a restricted signing key",
            try TPMAttestationVerifier.verify(
                attest: try vector("ak-rsassa-quote.attest"), signature: try vector("ak-rsassa-quote.sig"), signer: device))
    }

    /// Every truncation and any trailing byte is refused, as a structure error.
    func testParsersAreStrict() throws {
        let inputs: [(String, ([UInt8]) throws -> Void)] = [
            ("device.pub", { _ = try TPMPublic(parsingSized: $0) }),
            ("ak-ecdsa.pub", { _ = try TPMPublic(parsingSized: $0) }),
            ("ak-rsassa-certify.attest", { _ = try TPMAttest(parsing: $0) }),
            ("ak-ecdsa-quote.attest", { _ = try TPMAttest(parsing: $0) }),
            ("ak-rsapss-quote.sig", { _ = try TPMSignature(parsing: $0) }),
            ("ak-ecdsa-certify.sig", { _ = try TPMSignature(parsing: $0) }),
        ]
        for (name, parse) in inputs {
            let bytes = try vector(name)
            XCTAssertNoThrow(try parse(bytes), name)
            for length in 0..<bytes.count {
                XCTAssertThrowsError(try parse(Array(bytes.prefix(length))), "\(name) cut to \(length)") { error in
                    XCTAssertEqual((error as? CPKError)?.reason, .tpmStructure, "\(name) cut to \(length): \(error)")
                }
            }
            XCTAssertCPKError(.invalidInput, containing: "follow the structure", try parse(bytes + [0]))
        }
        // the inner TPMT_PUBLIC reads on its own, and its Name is the same
        let sized = try vector("device.pub")
        let inner = try TPMPublic(parsing: Array(sized.dropFirst(2)))
        XCTAssertEqual(try inner.name, try TPMPublic(parsingSized: sized).name)
    }

    func testRefusalsAreTyped() throws {
        // a SHA-1 Name algorithm: the header of device.pub with nameAlg 0x0004
        var sha1 = Array(try vector("device.pub").dropFirst(2))
        sha1[2] = 0x00
        sha1[3] = 0x04
        XCTAssertThrowsError(try TPMPublic(parsing: sha1)) { XCTAssertEqual(($0 as? CPKError)?.reason, .tpmAlgorithm) }
        // a keyed-hash object
        XCTAssertThrowsError(try TPMPublic(parsing: [0x00, 0x08, 0x00, 0x0B])) {
            XCTAssertEqual(($0 as? CPKError)?.reason, .tpmAlgorithm)
        }
        // an attestation that is not TPM_GENERATED
        var quote = try vector("ak-ecdsa-quote.attest")
        quote[0] = 0
        XCTAssertCPKError(.invalidInput, containing: "not TPM_GENERATED", try TPMAttest(parsing: quote))
        // a NULL signature
        XCTAssertCPKError(.invalidInput, containing: "signed nothing", try TPMSignature(parsing: [0x00, 0x10]))
        // oversize input
        XCTAssertCPKError(.invalidInput, containing: "no TPM structure", try TPMAttest(parsing: [UInt8](repeating: 0, count: 5000)))
    }
}
