import CPKCore
import CPKCrypto

extension CPKError.Reason {
    /// The report carries no TPM evidence (or no quote where one is required).
    public static let tpmNoEvidence = CPKError.Reason(rawValue: "tpm.no-evidence")
    /// The report's evidence is not the document of docs/keys.md §4.6.
    public static let tpmMalformedEvidence = CPKError.Reason(rawValue: "tpm.malformed-evidence")
    /// The device has no enrollment, or the evidence names an AK other than the enrolled one
    /// (an AK of another TPM).
    public static let tpmNotEnrolled = CPKError.Reason(rawValue: "tpm.not-enrolled")
    /// The certify or quote does not verify with the enrolled AK.
    public static let tpmBadSignature = CPKError.Reason(rawValue: "tpm.bad-signature")
    /// The certified Name is not the Name of device_key_public, or that key is not the reported
    /// device_public_key.
    public static let tpmKeyMismatch = CPKError.Reason(rawValue: "tpm.key-mismatch")
    /// The device key lacks fixedTPM, fixedParent or sensitiveDataOrigin, or can sign.
    public static let tpmNotHardwareBound = CPKError.Reason(rawValue: "tpm.not-hardware-bound")
    /// The quoted PCRs are not the selection or the values required.
    public static let tpmPCRMismatch = CPKError.Reason(rawValue: "tpm.pcr-mismatch")
    /// The quote's qualifying data is not the verifier's nonce: an old quote replayed.
    public static let tpmStaleNonce = CPKError.Reason(rawValue: "tpm.stale-nonce")
}

/// Required PCR values: by bank, by index, the expected digest.
public struct TPMPCRRequirement: Sendable, Equatable {
    public let banks: [TPMHash: [Int: [UInt8]]]

    public init(banks: [TPMHash: [Int: [UInt8]]]) {
        self.banks = banks
    }
}

/// What a device's evidence must prove, and what it is checked against.
public struct TPMEvidenceCheck: Sendable {
    public let ekCAs: [X509Certificate]
    /// The quote's expected qualifying data; nil: no quote is required unless PCRs are.
    public let nonce: [UInt8]?
    public let pcrs: TPMPCRRequirement?

    public init(ekCAs: [X509Certificate], nonce: [UInt8]?, pcrs: TPMPCRRequirement?) {
        (self.ekCAs, self.nonce, self.pcrs) = (ekCAs, nonce, pcrs)
    }

    /// Checks `evidence` of the device `enrolled` (nil: not enrolled), whose reported RSA key is
    /// the DER SubjectPublicKeyInfo `reportedKeySPKI`. Each failure has its own reason.
    public func verify(_ evidence: TPMEvidence, enrolled: EnrolledDevice?, reportedKeySPKI: [UInt8], at time: Int) throws {
        guard let enrolled else {
            throw CPKError(.checkFailed, "the device is not enrolled in the TPM registry", reason: .tpmNotEnrolled)
        }
        guard evidence.akName == enrolled.akName else {
            throw CPKError(.checkFailed, "the evidence names an AK that is not the device's enrolled AK", reason: .tpmNotEnrolled)
        }
        try enrolled.requireTrustedEK(ekCAs, at: time)
        let certify = try Self.signed(evidence.certify, by: enrolled.akPublic, what: "certify")
        // The TPM certified an object of this Name, and the Name pins the whole public area.
        guard certify.certifiedName == (try evidence.deviceKeyPublic.name) else {
            throw CPKError(.checkFailed, "the certified Name is not the Name of device_key_public", reason: .tpmKeyMismatch)
        }
        // Through OpenSSL, so both sides are in its one DER form.
        let certifiedKey = try? PublicKey(loading: evidence.deviceKeyPublic.subjectPublicKeyInfoDER).subjectPublicKeyInfoDER
        guard certifiedKey == reportedKeySPKI else {
            throw CPKError(.checkFailed, "device_key_public is not the reported device_public_key", reason: .tpmKeyMismatch)
        }
        guard evidence.deviceKeyPublic.isHardwareBound else {
            throw CPKError(
                .checkFailed, "the device key lacks fixedTPM, fixedParent or sensitiveDataOrigin: it may exist outside the TPM",
                reason: .tpmNotHardwareBound)
        }
        guard !evidence.deviceKeyPublic.attributes.contains(.sign) else {
            throw CPKError(.checkFailed, "the device key can sign: a decryption-only key is required", reason: .tpmNotHardwareBound)
        }
        guard nonce != nil || pcrs != nil else { return }
        guard let signedQuote = evidence.quote else {
            throw CPKError(.checkFailed, "the evidence has no quote, and the release requires one", reason: .tpmNoEvidence)
        }
        let quote = try Self.signed(signedQuote, by: enrolled.akPublic, what: "quote")
        if let nonce, quote.extraData != nonce {
            throw CPKError(.checkFailed, "the quote was made for another nonce (an old quote?)", reason: .tpmStaleNonce)
        }
        if let pcrs { try Self.requirePCRs(pcrs, quote: quote, hash: signedQuote.signature.scheme.hash) }
    }

    static func signed(_ signed: TPMEvidence.Signed, by ak: TPMPublic, what: String) throws -> TPMAttest {
        do {
            return try TPMAttestationVerifier.verify(attest: signed.attest, signature: signed.signature, signer: ak)
        } catch let error as CPKError {
            throw CPKError(.checkFailed, "the \(what): \(error.message)", reason: .tpmBadSignature)
        }
    }

    /// The quote selects exactly the required PCRs, and its digest is the hash (with the AK's
    /// signing hash, as the TPM computes it) of the required values in the quote's order.
    static func requirePCRs(_ required: TPMPCRRequirement, quote: TPMAttest, hash: TPMHash) throws {
        guard case .quote(let selections, let digest) = quote.attested else {
            throw CPKError(.checkFailed, "the quote is not a quote", reason: .tpmPCRMismatch)
        }
        var values: [UInt8] = []
        var seen: Set<TPMHash> = []
        for selection in selections {
            guard let bank = TPMHash(rawValue: selection.hash), let wanted = required.banks[bank], seen.insert(bank).inserted else {
                throw CPKError(.checkFailed, "the quote selects PCRs of a bank the policy does not name", reason: .tpmPCRMismatch)
            }
            guard Set(selection.indices) == Set(wanted.keys) else {
                throw CPKError(
                    .checkFailed,
                    "the quote selects \(bank.name.lowercased()) PCRs \(selection.indices.map(String.init).joined(separator: ",")); the policy names \(wanted.keys.sorted().map(String.init).joined(separator: ","))",
                    reason: .tpmPCRMismatch)
            }
            for index in selection.indices { values += wanted[index] ?? [] }
        }
        guard seen.count == required.banks.count else {
            throw CPKError(.checkFailed, "the quote lacks a PCR bank the policy names", reason: .tpmPCRMismatch)
        }
        guard try TPMDigest.hash(values, hash) == digest else {
            throw CPKError(.checkFailed, "the quoted PCR values are not the policy's", reason: .tpmPCRMismatch)
        }
    }
}
