import CPKAttestation
import CPKCore
import CPKCrypto

/// What a run of `distribute` checks TPM evidence against (docs/keys.md §4.7): the enrollment
/// registry (each device's AK), the trusted manufacturer CAs (each enrolled EK certificate is
/// checked again at release time), and the run's nonce (the quote's expected qualifying data).
public struct ReleaseAttestation: Sendable {
    public let registry: TPMEnrollmentRegistry
    public let ekCAs: [X509Certificate]
    public let nonce: [UInt8]?

    public init(registry: TPMEnrollmentRegistry, ekCAs: [X509Certificate], nonce: [UInt8]?) {
        (self.registry, self.ekCAs, self.nonce) = (registry, ekCAs, nonce)
    }

    /// Checks `device` against the requirement of the rule at `index`; a failure is one line
    /// naming the rule, with the reason of the check that failed.
    func require(_ requirement: ReleasePolicy.Attestation, rule index: Int, device: AuthenticatedDevice, at time: Int) throws {
        do {
            guard let json = device.report.evidence, json != .null else {
                throw CPKError(.checkFailed, "the report carries no TPM evidence (\(ReportedState.evidenceProperty))", reason: .tpmNoEvidence)
            }
            let evidence: TPMEvidence
            do {
                evidence = try TPMEvidence(json: json)
            } catch let error as CPKError where error.kind == .invalidInput {
                throw CPKError(.checkFailed, error.message, reason: .tpmMalformedEvidence)
            }
            let check = TPMEvidenceCheck(ekCAs: ekCAs, nonce: nonce, pcrs: requirement.pcrs)
            try check.verify(
                evidence, enrolled: try registry.enrolled(device.deviceID), reportedKeySPKI: device.report.publicKey.subjectPublicKeyInfoDER,
                at: time)
        } catch let error as CPKError where error.kind == .checkFailed || error.kind == .invalidInput {
            throw CPKError(.checkFailed, "rules[\(index)] requires TPM attestation: \(error.message)", reason: error.reason)
        }
    }
}
