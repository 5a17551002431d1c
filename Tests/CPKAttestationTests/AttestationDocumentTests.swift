import CPKAttestation
import CPKCore
import CPKCrypto
import CPKTestSupport
import Foundation
import XCTest

/// The four documents of docs/keys.md §4.8: each built document reads back to the same values,
/// and every way a hostile device can bend one is refused with `tpm-document` (or the reason of
/// the TPM structure inside).
final class AttestationDocumentTests: XCTestCase {
    func vector(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: TPMStructureTests.vectors.appendingPathComponent(name)))
    }

    func ak() throws -> TPMPublic { try TPMPublic(parsingSized: try vector("ak-rsassa.pub")) }

    func request() throws -> EnrollmentRequest {
        // the codec does not read the certificate: any DER-looking bytes do here
        try EnrollmentRequest(deviceID: "dev-01", ekCertificate: [0x30, 0x03, 0x02, 0x01, 0x01],
                              ekPublic: try TPMPublic(parsingSized: try vector("device.pub")), akPublic: try ak())
    }

    func evidence(quote: Bool = true) throws -> TPMEvidence {
        let certify = TPMEvidence.Signed(
            attest: try TPMAttest(parsing: try vector("ak-rsassa-certify.attest")),
            signature: try TPMSignature(parsing: try vector("ak-rsassa-certify.sig")))
        let quoted = TPMEvidence.Signed(
            attest: try TPMAttest(parsing: try vector("ak-rsassa-quote.attest")),
            signature: try TPMSignature(parsing: try vector("ak-rsassa-quote.sig")))
        return try TPMEvidence(deviceKeyPublic: try TPMPublic(parsingSized: try vector("device.pub")), akName: try ak().name,
                               certify: certify, quote: quote ? quoted : nil)
    }

    func assertRefused(_ text: String, _ reason: CPKError.Reason = .tpmDocument, containing part: String = "",
                       _ parse: ([UInt8]) throws -> Any, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(Array(text.utf8)), file: file, line: line) { error in
            guard let error = error as? CPKError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.reason, reason, error.message, file: file, line: line)
            XCTAssertTrue(error.message.contains(part), error.message, file: file, line: line)
            XCTAssertFalse(error.message.contains("\n"), file: file, line: line)
        }
    }

    /// `text` with `member`'s value replaced by the JSON `value` (nil: the member removed).
    func edited(_ text: String, _ member: String, _ value: String?) throws -> String {
        guard case .object(var members) = try JSONValue(parsing: Array(text.utf8)) else { throw CPKError.invalid("not an object") }
        if let value {
            let parsed = try JSONValue(parsing: Array(value.utf8))
            if let index = members.firstIndex(where: { $0.0 == member }) { members[index].1 = parsed } else { members.append((member, parsed)) }
        } else {
            members.removeAll { $0.0 == member }
        }
        return JSONValue.object(members).compactText
    }

    func testRequestRoundTripsAndIsCompactJSON() throws {
        let request = try request()
        let text = String(decoding: request.encoded, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{\"cpk_tpm_enrollment\":\"request\",\"version\":1,\"device_id\":\"dev-01\",\"ek_certificate\":\"MAMCAQE=\""))
        XCTAssertFalse(text.contains(" ") || text.contains("\n"))
        let read = try EnrollmentRequest(parsing: request.encoded)
        XCTAssertEqual(read.deviceID, "dev-01")
        XCTAssertEqual(read.ekCertificate, request.ekCertificate)
        XCTAssertEqual(read.ekPublic, request.ekPublic)
        XCTAssertEqual(read.akPublic, try ak())
    }

    func testRequestRefusals() throws {
        let good = String(decoding: try request().encoded, as: UTF8.self)
        let parse: ([UInt8]) throws -> Any = { try EnrollmentRequest(parsing: $0) }
        assertRefused(try edited(good, "extra", "1"), containing: "unknown member \"extra\"", parse)
        assertRefused(try edited(good, "ak_public", nil), containing: "no ak_public", parse)
        assertRefused(try edited(good, "version", "2"), containing: "version must be 1", parse)
        assertRefused(try edited(good, "cpk_tpm_enrollment", "\"response\""), containing: "not \"request\"", parse)
        assertRefused(try edited(good, "device_id", "\"../etc\""), containing: "device id", parse)
        assertRefused(try edited(good, "ek_certificate", "\"MAMCAQE\""), containing: "base64", parse)
        assertRefused(try edited(good, "ek_certificate", "\"\""), containing: "0 bytes", parse)
        assertRefused(try edited(good, "ek_certificate", "7"), containing: "must be text", parse)
        // a TPM structure that does not read keeps its own reason, placed at the member
        assertRefused(try edited(good, "ak_public", "\"AAEC\""), .tpmStructure, containing: "ak_public", parse)
        // the sized form (TPM2B_PUBLIC) is not the contract's TPMT_PUBLIC
        let sized = Base64.encode(try vector("ak-rsassa.pub"))
        assertRefused(try edited(good, "ak_public", "\"\(sized)\""), .tpmStructure, containing: "ak_public", parse)
        assertRefused("[]", containing: "not a JSON object", parse)
        assertRefused("{", containing: "not JSON", parse)
        assertRefused(String(repeating: " ", count: AttestationDocument.sizeLimit + 1), containing: "at most", parse)
    }

    func testChallengeAndResponseRoundTrip() throws {
        let name = try ak().name
        let challenge = try EnrollmentChallenge(deviceID: "dev-01", akName: name, credentialBlob: [UInt8](repeating: 1, count: 68),
                                                encryptedSecret: [UInt8](repeating: 2, count: 256))
        let text = String(decoding: challenge.encoded, as: UTF8.self)
        XCTAssertTrue(text.contains("\"ak_name\":\"\(Hex.encode(name))\""))
        let read = try EnrollmentChallenge(parsing: challenge.encoded)
        XCTAssertEqual(read.akName, name)
        XCTAssertEqual(read.credentialBlob, challenge.credentialBlob)
        XCTAssertEqual(read.encryptedSecret, challenge.encryptedSecret)

        let response = try EnrollmentResponse(deviceID: "dev-01", akName: name, secret: [UInt8](repeating: 7, count: 32))
        let back = try EnrollmentResponse(parsing: response.encoded)
        XCTAssertEqual(back.secret, response.secret)
        XCTAssertEqual(back.deviceID, "dev-01")
        XCTAssertEqual(back.akName, name)
    }

    func testNamesAreLowerCaseHexOfAnAcceptedHash() throws {
        let name = try ak().name
        let good = String(decoding: try EnrollmentResponse(deviceID: "d", akName: name, secret: [1]).encoded, as: UTF8.self)
        let parse: ([UInt8]) throws -> Any = { try EnrollmentResponse(parsing: $0) }
        assertRefused(try edited(good, "ak_name", "\"\(Hex.encode(name).uppercased())\""), containing: "lower-case hex", parse)
        assertRefused(try edited(good, "ak_name", "\"00\(Hex.encode(name))\""), containing: "not a TPM Name", parse)
        assertRefused(try edited(good, "ak_name", "\"0004\(String(repeating: "00", count: 20))\""), containing: "not a TPM Name", parse)
        assertRefused(try edited(good, "ak_name", "\"40000001\""), containing: "not a TPM Name", parse)
        assertRefused(try edited(good, "secret", "\"\(Base64.encode([UInt8](repeating: 0, count: 65)))\""), containing: "1 to 64", parse)
        assertRefused(try edited(good, "secret", "\"AA==\\n\""), containing: "base64", parse)
    }

    func testEvidenceRoundTripsWithAndWithoutQuote() throws {
        for quote in [true, false] {
            let evidence = try evidence(quote: quote)
            let read = try TPMEvidence(parsing: evidence.encoded)
            XCTAssertEqual(read.deviceKeyPublic, evidence.deviceKeyPublic)
            XCTAssertEqual(read.akName, evidence.akName)
            XCTAssertEqual(read.certify.attest, evidence.certify.attest)
            XCTAssertEqual(read.certify.signature, evidence.certify.signature)
            XCTAssertEqual(read.quote?.attest, evidence.quote?.attest)
            XCTAssertEqual(read.encoded, evidence.encoded)
        }
    }

    func testEvidenceRefusals() throws {
        let good = String(decoding: try evidence().encoded, as: UTF8.self)
        let parse: ([UInt8]) throws -> Any = { try TPMEvidence(parsing: $0) }
        assertRefused(try edited(good, "pcrs", "{}"), containing: "unknown member \"pcrs\"", parse)
        assertRefused(try edited(good, "certify", nil), containing: "no certify", parse)
        assertRefused(try edited(good, "certify", "{\"attest\":\"AA==\"}"), containing: "no signature", parse)
        let quote = try evidence().quote?.json.compactText ?? ""
        assertRefused(try edited(good, "certify", quote), containing: "another type", parse)
        assertRefused(try edited(good, "quote", "null"), containing: "not a JSON object", parse)
        let certifyAttest = Base64.encode(try vector("ak-rsassa-certify.attest"))
        assertRefused(try edited(good, "device_key_public", "\"\(certifyAttest)\""), .tpmStructure, containing: "device_key_public", parse)
    }
}
