import CPKAttestation
import CPKCore
import CTSS2

/// What a device's TPM says of itself (issue 26, milestone 2): its endorsement key and the
/// manufacturer's certificate of it, an attestation key (AK) it keeps at a persistent handle,
/// the AK's proof that it lives in the same TPM as the EK (TPM2_ActivateCredential), and
/// attestations of the device key and the PCRs signed by the AK.
public struct TPMAttestor: Sendable {
    /// NV index of the RSA EK certificate (TCG EK Credential Profile, 2.2.1.4).
    public static let rsaEKCertificateIndex: UInt32 = 0x01C0_0002

    public let tcti: String?
    public let akHandle: UInt32

    public init(tcti: String?, akHandle: UInt32 = TPMKeyURI.defaultAttestationKeyHandle) {
        self.tcti = tcti
        self.akHandle = akHandle
    }

    /// What an enrollment request carries.
    public struct Endorsement: Sendable {
        /// DER of the EK certificate.
        public let ekCertificate: [UInt8]
        /// TPMT_PUBLIC bytes of the EK and of the AK.
        public let ekPublic: TPMPublic
        public let akPublic: TPMPublic
    }

    /// Reads the EK certificate, makes the EK (default template), and makes or reuses the AK.
    public func endorsement() throws -> Endorsement {
        try TPMConnection.with(tcti: tcti) { tpm in
            guard let certificate = try tpm.nvRead(Self.rsaEKCertificateIndex), !certificate.isEmpty else {
                throw CPKError(.io, "the TPM at \(tpm.tctiName) has no RSA EK certificate in NV index \(TPMKeyURI.hex(Self.rsaEKCertificateIndex))",
                               reason: .tpmNoEKCertificate)
            }
            let ek = try tpm.createPrimary(.endorsementKey)
            let ekPublic = try TPMPublic(parsing: try tpm.readPublic(ek))
            tpm.flush(ek)
            let ak = try Self.attestationKey(tpm, akHandle, create: true)
            return Endorsement(ekCertificate: certificate, ekPublic: ekPublic, akPublic: ak.area)
        }
    }

    /// The AK's public area (nil create: refused when absent).
    public func attestationKeyPublic() throws -> TPMPublic {
        try TPMConnection.with(tcti: tcti) { tpm in try Self.attestationKey(tpm, akHandle, create: false).area }
    }

    /// TPM2_ActivateCredential with the AK and the EK: the secret the challenge sealed.
    public func activate(credentialBlob: [UInt8], encryptedSecret: [UInt8]) throws -> (akName: [UInt8], secret: [UInt8]) {
        try TPMConnection.with(tcti: tcti) { tpm in
            let ak = try Self.attestationKey(tpm, akHandle, create: false)
            let ek = try tpm.createPrimary(.endorsementKey)
            let secret = try tpm.activateCredential(ak: ak.object, ek: ek, credentialBlob: credentialBlob, encryptedSecret: encryptedSecret)
            return (try ak.area.name, secret)
        }
    }

    /// The evidence for a TPM-held device key: its public area, the AK's Name, a TPM2_Certify
    /// of the key by the AK, and a TPM2_Quote when a selection is given.
    public struct Evidence: Sendable {
        public let deviceKeyPublic: TPMPublic
        public let akName: [UInt8]
        public let certify: (attest: [UInt8], signature: [UInt8])
        public let quote: (attest: [UInt8], signature: [UInt8])?
    }

    /// The AK is made when there is none yet: a device that reports before it enrolls still
    /// reports (its evidence is refused by a cloud that requires an enrolled AK, not here).
    public func evidence(deviceKey: TPMKeyURI, nonce: [UInt8], pcrs: TPMPCRSelectionSpec?) throws -> Evidence {
        try TPMConnection.with(tcti: tcti) { tpm in
            let ak = try Self.attestationKey(tpm, akHandle, create: true)
            let key = try TPMDeviceKey.open(tpm, deviceKey.handle, create: false)
            let certify = try tpm.certify(key.object, by: ak.object, qualifyingData: nonce)
            let quote = try pcrs.map { try tpm.quote(by: ak.object, qualifyingData: nonce, selection: $0) }
            return Evidence(deviceKeyPublic: key.area, akName: try ak.area.name, certify: certify, quote: quote)
        }
    }

    static func attestationKey(_ tpm: TPMConnection, _ handle: UInt32, create: Bool) throws -> (object: ESYS_TR, area: TPMPublic) {
        let object: ESYS_TR
        if let existing = try tpm.persistent(handle) {
            object = existing
        } else {
            guard create else {
                throw CPKError(.io, "the TPM at \(tpm.tctiName) has no attestation key at \(TPMKeyURI.hex(handle)): make one with an enrollment request first",
                               reason: .tpmHandleMismatch)
            }
            let srk = try tpm.createPrimary(.storageRoot)
            object = try tpm.createPersistent(.attestationKey, under: srk, at: handle)
            tpm.flush(srk)
        }
        let area = try TPMPublic(parsing: try tpm.readPublic(object))
        if let problem = problem(withAttestationKey: area) {
            throw CPKError(.checkFailed, "the key at \(TPMKeyURI.hex(handle)) is not an attestation key: \(problem)", reason: .tpmHandleMismatch)
        }
        return (object, area)
    }

    /// Why a public area is not this code's AK template, or nil when it is.
    public static func problem(withAttestationKey area: TPMPublic) -> String? {
        guard case .rsa(_, _, let bits) = area.key, bits == 2048 else { return "not an RSA-2048 key" }
        let required: TPMObjectAttributes = [.fixedTPM, .fixedParent, .sensitiveDataOrigin, .restricted, .sign]
        guard area.attributes.isSuperset(of: required) else { return "it is not a restricted signing key made in the TPM" }
        guard !area.attributes.contains(.decrypt) else { return "it can also decrypt" }
        // TPM_ALG_RSASSA (0x0014) with SHA-256.
        guard area.signingScheme == TPMSigningScheme(algorithm: 0x0014, hash: .sha256) else { return "its scheme is not RSASSA with SHA-256" }
        return nil
    }
}
