import CPKAttestation
import CPKCore
import CPKCrypto
import CPKKeys
import CPKManager
import CPKTPM

/// `cpk-install attest ...`: the device's steps of a TPM enrollment (docs/keys.md §4): the
/// request (EK certificate, EK and AK public areas) and the answer to the cloud's challenge
/// (TPM2_ActivateCredential).
public enum AttestFrontend {
    /// Where the TPM is: the option's TCTI, else the state's TPM device key's, else TPM2TOOLS_TCTI.
    struct Target {
        let tcti: String?
        let akHandle: UInt32
        let deviceID: String
    }

    static func target(tcti: String?, akHandle: String?, deviceID: String?, state: StateOptions) throws -> Target {
        let manager = try state.openManager()
        var resolved = tcti
        if resolved == nil, case .tpm(let uri)? = try manager.deviceKeyReference() { resolved = uri.resolvedTCTI }
        if resolved == nil { resolved = TPMKeyURI().resolvedTCTI }
        let provisioned = try FleetMembership.load(in: manager.state)?.deviceID
        if let deviceID, let provisioned, deviceID != provisioned {
            throw CPKError.usage("this device is provisioned as \"\(provisioned)\" (cpk-install trust list), not \"\(deviceID)\"")
        }
        let id = try deviceID ?? provisioned ?? DeviceReportFrontend.hostName()
        if let problem = DeviceID.problem(with: id) { throw CPKError.usage("the device id \"\(id)\": \(problem)") }
        return Target(tcti: resolved, akHandle: try akHandle.map { try TPMKeyURI.parseHandle($0) } ?? TPMKeyURI.defaultAttestationKeyHandle,
                      deviceID: id)
    }

    /// Document 1: makes (or reuses) the AK, reads the EK certificate, makes the EK.
    public static func enrollRequest(tcti: String?, akHandle: String?, deviceID: String?, output: String, state: StateOptions) throws {
        let target = try target(tcti: tcti, akHandle: akHandle, deviceID: deviceID, state: state)
        let endorsement = try TPMAttestor(tcti: target.tcti, akHandle: target.akHandle).endorsement()
        let request = try EnrollmentRequest(
            deviceID: target.deviceID, ekCertificate: endorsement.ekCertificate, ekPublic: endorsement.ekPublic,
            akPublic: endorsement.akPublic)
        try writeResult(request.encoded + [0x0A], to: output, binary: false)
    }

    /// Document 3: the secret of the challenge, released by the TPM only to its own AK.
    public static func activate(challenge path: String, tcti: String?, akHandle: String?, output: String, state: StateOptions) throws {
        let bytes = try SmallInput.read(path, limit: AttestationDocument.sizeLimit, what: "the enrollment challenge")
        let challenge = try EnrollmentChallenge(parsing: bytes)
        let target = try target(tcti: tcti, akHandle: akHandle, deviceID: challenge.deviceID, state: state)
        let attestor = TPMAttestor(tcti: target.tcti, akHandle: target.akHandle)
        // A challenge for another AK would fail in the TPM anyway; said plainly first.
        let akName = try attestor.attestationKeyPublic().name
        guard akName == challenge.akName else {
            throw CPKError(.checkFailed, "the challenge is for the attestation key \(Hex.encode(challenge.akName)), not this TPM's \(Hex.encode(akName))",
                           reason: .tpmHandleMismatch)
        }
        var activated = try attestor.activate(credentialBlob: challenge.credentialBlob, encryptedSecret: challenge.encryptedSecret)
        defer { wipe(&activated.secret) }
        let response = try EnrollmentResponse(deviceID: target.deviceID, akName: activated.akName, secret: activated.secret)
        var encoded = response.encoded + [0x0A]
        defer { wipe(&encoded) }
        try writeResult(encoded, to: output, binary: false)
    }
}
