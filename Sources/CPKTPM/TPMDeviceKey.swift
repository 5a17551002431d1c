import CPKAttestation
import CPKCore
import CTSS2

/// The device key pair held in a TPM: an RSA-2048 decryption-only key made by the TPM under the
/// storage root key and kept at a persistent handle, so no key blob or private file exists
/// anywhere. Every operation opens its own connection and leaves nothing loaded.
public struct TPMDeviceKey: Sendable {
    public let uri: TPMKeyURI

    public init(_ uri: TPMKeyURI) { self.uri = uri }

    /// The key's TPMT_PUBLIC bytes; the key is made first when the handle is empty (`create`),
    /// and refused when the handle holds anything but a key of this code's template.
    public func publicArea(create: Bool = false) throws -> TPMPublic {
        try TPMConnection.with(tcti: uri.resolvedTCTI) { tpm in
            try Self.open(tpm, uri.handle, create: create).area
        }
    }

    /// Raw RSA (TPM2_RSA_Decrypt, NULL scheme): the padded block, for the caller's constant-time
    /// PKCS#1 v1.5 check. The caller wipes it.
    public func rawDecrypt(_ ciphertext: [UInt8]) throws -> [UInt8] {
        try TPMConnection.with(tcti: uri.resolvedTCTI) { tpm in
            try tpm.rsaDecrypt(try Self.open(tpm, uri.handle, create: false).object, ciphertext, oaep: false)
        }
    }

    /// RSA-OAEP with SHA-256 (and MGF1-SHA-256, an empty label) in the TPM. The caller wipes the result.
    public func oaepDecrypt(_ ciphertext: [UInt8]) throws -> [UInt8] {
        try TPMConnection.with(tcti: uri.resolvedTCTI) { tpm in
            try tpm.rsaDecrypt(try Self.open(tpm, uri.handle, create: false).object, ciphertext, oaep: true)
        }
    }

    /// ESAPI's reference to the device key and its public area, made when asked and absent.
    static func open(_ tpm: TPMConnection, _ handle: UInt32, create: Bool) throws -> (object: ESYS_TR, area: TPMPublic) {
        let object: ESYS_TR
        if let existing = try tpm.persistent(handle) {
            object = existing
        } else {
            guard create else {
                throw CPKError(.io, "the TPM at \(tpm.tctiName) has no key at \(TPMKeyURI.hex(handle)) (evicted, or another TPM?)",
                               reason: .tpmHandleMismatch)
            }
            let srk = try tpm.createPrimary(.storageRoot)
            object = try tpm.createPersistent(.deviceKey, under: srk, at: handle)
            tpm.flush(srk)
        }
        let area = try TPMPublic(parsing: try tpm.readPublic(object))
        if let problem = Self.problem(with: area) {
            throw CPKError(.checkFailed, "the key at \(TPMKeyURI.hex(handle)) is not a device key: \(problem)", reason: .tpmHandleMismatch)
        }
        return (object, area)
    }

    /// Why a public area is not this code's device key template, or nil when it is.
    public static func problem(with area: TPMPublic) -> String? {
        guard case .rsa(_, _, let bits) = area.key, bits == 2048 else { return "not an RSA-2048 key" }
        let required: TPMObjectAttributes = [.fixedTPM, .fixedParent, .sensitiveDataOrigin, .userWithAuth, .decrypt]
        guard area.attributes.isSuperset(of: required) else { return "it lacks fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth or decrypt" }
        guard !area.attributes.contains(.sign) else { return "it can also sign" }
        guard !area.attributes.contains(.restricted) else { return "it is a restricted (storage) key" }
        // TPM_ALG_NULL (0x0010): no scheme bound to the key, so raw RSA and OAEP both work.
        guard area.schemeAlgorithm == 0x0010 else { return "it is bound to a decryption scheme" }
        return nil
    }
}
