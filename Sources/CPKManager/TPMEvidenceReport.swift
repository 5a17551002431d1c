import CPKAttestation
import CPKCore
import CPKCrypto
import CPKTPM

/// The TPM's evidence for a reported state (docs/keys.md §4, `reported_properties.tpm_evidence`):
/// for a device key held in a TPM, a TPM2_Certify of it by the attestation key and, when a
/// verifier gave a nonce and PCRs, a TPM2_Quote over that nonce.
public enum TPMEvidenceReport {
    public static let member = TPMEvidence.member

    /// What the verifier asked for: a nonce (the qualifyingData of both attestations) and the
    /// PCRs to quote.
    public struct Request: Sendable {
        public let nonce: [UInt8]
        public let pcrs: TPMPCRSelectionSpec?
        public let akHandle: UInt32

        public init(nonce: [UInt8], pcrs: TPMPCRSelectionSpec?, akHandle: UInt32 = TPMKeyURI.defaultAttestationKeyHandle) {
            self.nonce = nonce
            self.pcrs = pcrs
            self.akHandle = akHandle
        }
    }

    /// The evidence member's value for the simulator's device key, or nil when that key is not
    /// held in a TPM (a file's or a token's key has no evidence to give).
    public static func evidence(of manager: PackageManagerSimulator, request: Request) throws -> JSONValue? {
        guard case .tpm(let uri) = try manager.deviceKeyReference() else { return nil }
        let evidence = try TPMAttestor(tcti: uri.resolvedTCTI, akHandle: request.akHandle)
            .evidence(deviceKey: uri, nonce: request.nonce, pcrs: request.pcrs)
        return try json(evidence)
    }

    /// Document 4's JSON, through the shared codec (which reads back what the TPM returned:
    /// a structure it would refuse is refused here, before the cloud sees it).
    static func json(_ evidence: TPMAttestor.Evidence) throws -> JSONValue {
        func signed(_ pair: (attest: [UInt8], signature: [UInt8])) throws -> TPMEvidence.Signed {
            TPMEvidence.Signed(attest: try TPMAttest(parsing: pair.attest), signature: try TPMSignature(parsing: pair.signature))
        }
        return try TPMEvidence(
            deviceKeyPublic: evidence.deviceKeyPublic, akName: evidence.akName, certify: try signed(evidence.certify),
            quote: try evidence.quote.map(signed)
        ).json
    }
}
