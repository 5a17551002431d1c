import CPKAttestation
import CPKCore

// The TPM 2.0 structures a device sends the cloud side (CPKAttestation): every byte is the
// device's choice, so each parser must refuse with a typed one-line error or read a structure
// that behaves (its encoding is the input, a Name of the right size, a signature check that
// answers and never crashes).

/// A public area, sized (TPM2B_PUBLIC) or bare (TPMT_PUBLIC): what reads has a Name of its
/// algorithm's size, encodes to exactly the bytes read, and reads back the same.
func fuzzTPMPublic(_ bytes: [UInt8]) {
    for sized in [true, false] {
        guard let key = refusing("reading a TPM public area", { try sized ? TPMPublic(parsingSized: bytes) : TPMPublic(parsing: bytes) })
        else { continue }
        expect(key.encoded == (sized ? Array(bytes.dropFirst(2)) : bytes), "the encoding is not the bytes read")
        guard let name = refusing("computing a Name", { try key.name }) else { fatalError("a Name cannot be computed") }
        expect(name.count == 2 + key.nameAlgorithm.digestSize, "a Name of the wrong size")
        expect(refusing("reading a public area again", { try TPMPublic(parsing: key.encoded) }) == key, "a public area reads back differently")
        expect(key.subjectPublicKeyInfoDER.first == 0x30, "the DER form is no SEQUENCE")
    }
}

/// The committed attestation key, quote and signature, read afresh for each input: kept in
/// globals, their arrays show as leaks to the sanitizer at exit.
private func fixtures() -> (ak: TPMPublic, quote: TPMAttest, signature: TPMSignature) {
    guard let ak = try? TPMPublic(parsingSized: fuzzAKBytes), let quote = try? TPMAttest(parsing: fuzzQuoteBytes),
        let signature = try? TPMSignature(parsing: fuzzSignatureBytes)
    else { fatalError("the committed TPM fixtures do not read") }
    return (ak, quote, signature)
}

/// An attestation: what reads is of a kind it says, its encoding is the input, and checking it
/// against the fixed AK with a mutated signature is refused (or, for the seed, passes) with a
/// CPKError.
func fuzzTPMAttest(_ bytes: [UInt8]) {
    guard let attest = refusing("reading a TPM attestation", { try TPMAttest(parsing: bytes) }) else { return }
    expect(attest.encoded == bytes, "the encoding is not the bytes read")
    expect(attest.extraData.count <= 66 && attest.qualifiedSigner.count <= 66, "a field over its bound")
    if case .quote(let selections, _) = attest.attested {
        expect(selections.allSatisfy { $0.indices.allSatisfy { $0 < 32 } }, "a PCR index beyond the selection")
    }
    let fixed = fixtures()
    _ = refusing("checking a TPM attestation", { try TPMAttestationVerifier.verify(attest: attest, signature: fixed.signature, signer: fixed.ak) })
}

/// A signature: what reads encodes to the input and is checked (refused) against the fixed AK
/// over the committed quote.
func fuzzTPMSignature(_ bytes: [UInt8]) {
    guard let signature = refusing("reading a TPM signature", { try TPMSignature(parsing: bytes) }) else { return }
    expect(signature.encoded == bytes, "the encoding is not the bytes read")
    let fixed = fixtures()
    _ = refusing("checking a TPM signature", { try TPMAttestationVerifier.verify(attest: fixed.quote, signature: signature, signer: fixed.ak) })
}

// Tests/vectors/tpm/ak-ecdsa.pub, ak-ecdsa-quote.attest and ak-ecdsa-quote.sig.
private let fuzzAKBytes: [UInt8] = [
    0x00, 0x58, 0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0x00, 0x00, 0x00, 0x10, 0x00, 0x18,
    0x00, 0x0b, 0x00, 0x03, 0x00, 0x10, 0x00, 0x20, 0x55, 0xd0, 0x56, 0xf6, 0xfe, 0x76, 0x3d, 0x9d,
    0xdc, 0xeb, 0xd5, 0x57, 0xda, 0xb3, 0xc7, 0xfb, 0x47, 0xbd, 0x4e, 0x7d, 0xe8, 0xf0, 0x1b, 0x86,
    0x07, 0x03, 0x80, 0x08, 0x18, 0x59, 0x9a, 0x40, 0x00, 0x20, 0x07, 0x5c, 0x54, 0xb0, 0x21, 0x1a,
    0x80, 0x5d, 0xa3, 0x83, 0x47, 0xd8, 0x50, 0x11, 0xe7, 0xa7, 0x9c, 0x21, 0x1e, 0xac, 0x44, 0xaa,
    0x69, 0xb3, 0x82, 0x6e, 0x92, 0x9f, 0xb1, 0xe3, 0x7e, 0x76,
]
private let fuzzQuoteBytes: [UInt8] = [
    0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0x00, 0x22, 0x00, 0x0b, 0x72, 0xea, 0xe0, 0xa3, 0xda, 0xd8,
    0xf1, 0x9b, 0x22, 0xf8, 0x75, 0xfb, 0x22, 0x48, 0xd8, 0x4d, 0xf4, 0xf8, 0xfb, 0x42, 0x8d, 0xc1,
    0x81, 0x44, 0x50, 0x5d, 0x2c, 0x1a, 0x5a, 0x2d, 0x1d, 0xe9, 0x00, 0x10, 0x00, 0x01, 0x02, 0x03,
    0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x0a, 0x97, 0xbe, 0x3c, 0x15, 0xbf, 0x05, 0x08, 0x03, 0xfe, 0x01, 0xa4, 0x74, 0xb4,
    0x14, 0x6d, 0x14, 0xb9, 0xe2, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0b, 0x03, 0xff, 0x00, 0x00, 0x00,
    0x20, 0x53, 0x41, 0xe6, 0xb2, 0x64, 0x69, 0x79, 0xa7, 0x0e, 0x57, 0x65, 0x30, 0x07, 0xa1, 0xf3,
    0x10, 0x16, 0x94, 0x21, 0xec, 0x9b, 0xdd, 0x9f, 0x1a, 0x56, 0x48, 0xf7, 0x5a, 0xde, 0x00, 0x5a,
    0xf1,
]
private let fuzzSignatureBytes: [UInt8] = [
    0x00, 0x18, 0x00, 0x0b, 0x00, 0x20, 0x6e, 0xd0, 0x96, 0xaa, 0x2a, 0xc7, 0x87, 0x7e, 0xc4, 0x02,
    0x0b, 0x18, 0xc9, 0x81, 0xa3, 0xc6, 0x1d, 0x9d, 0xea, 0x2f, 0x81, 0xf3, 0xde, 0xf2, 0xb3, 0xaa,
    0x74, 0x53, 0x35, 0x44, 0xb0, 0x06, 0x00, 0x20, 0xa4, 0x53, 0xdd, 0xa1, 0x04, 0xf7, 0x8e, 0x4c,
    0x45, 0xf0, 0x45, 0xa8, 0xd1, 0xa0, 0x0e, 0x13, 0xeb, 0x4b, 0xff, 0x7d, 0xe2, 0x44, 0x1d, 0x8b,
    0x8c, 0xab, 0x6e, 0xc1, 0xaf, 0x3d, 0xa0, 0x04,
]


/// An enrollment document of any of the three kinds: what reads builds to a document that
/// reads back to the same values.
func fuzzTPMEnrollment(_ bytes: [UInt8]) {
    if let request = refusing("reading an enrollment request", { try EnrollmentRequest(parsing: bytes) }) {
        let again = refusing("reading a built request", { try EnrollmentRequest(parsing: request.encoded) })
        expect(again?.encoded == request.encoded && again?.akPublic == request.akPublic, "a request reads back differently")
    }
    if let challenge = refusing("reading an enrollment challenge", { try EnrollmentChallenge(parsing: bytes) }) {
        let again = refusing("reading a built challenge", { try EnrollmentChallenge(parsing: challenge.encoded) })
        expect(again?.credentialBlob == challenge.credentialBlob && again?.akName == challenge.akName, "a challenge reads back differently")
    }
    if let response = refusing("reading an enrollment response", { try EnrollmentResponse(parsing: bytes) }) {
        let again = refusing("reading a built response", { try EnrollmentResponse(parsing: response.encoded) })
        expect(again?.secret == response.secret && again?.deviceID == response.deviceID, "a response reads back differently")
    }
}

/// Reported evidence: what reads builds to the same document, and its attestations are checked
/// against the fixed AK (refused, or passing for the committed quote) with a CPKError.
func fuzzTPMEvidence(_ bytes: [UInt8]) {
    guard let evidence = refusing("reading TPM evidence", { try TPMEvidence(parsing: bytes) }) else { return }
    let again = refusing("reading built evidence", { try TPMEvidence(parsing: evidence.encoded) })
    expect(again?.encoded == evidence.encoded, "evidence reads back differently")
    let fixed = fixtures()
    for signed in [evidence.certify] + (evidence.quote.map { [$0] } ?? []) {
        _ = refusing("checking evidence", { try TPMAttestationVerifier.verify(attest: signed.attest, signature: signed.signature, signer: fixed.ak) })
    }
}
