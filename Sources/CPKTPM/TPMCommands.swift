import CPKCore
import CTSS2

/// The TPM commands the device side needs, each with its outputs marshalled to bytes and its
/// ESAPI allocations freed. Authorisation is the empty password everywhere except the EK,
/// whose policy is PolicySecret(TPM_RH_ENDORSEMENT).
extension TPMConnection {
    static let none = ESYS_TR(ESYS_TR_NONE)
    static let password = ESYS_TR(ESYS_TR_PASSWORD)
    static let owner = ESYS_TR(ESYS_TR_RH_OWNER)
    static let endorsement = ESYS_TR(ESYS_TR_RH_ENDORSEMENT)

    /// Which template a primary or a child key is made from.
    enum Template {
        case storageRoot, deviceKey, attestationKey, endorsementKey

        var value: TPM2B_PUBLIC {
            var template = TPM2B_PUBLIC()
            switch self {
            case .storageRoot: cpk_tss2_srk_template(&template)
            case .deviceKey: cpk_tss2_device_key_template(&template)
            case .attestationKey: cpk_tss2_ak_template(&template)
            case .endorsementKey: cpk_tss2_ek_template(&template)
            }
            return template
        }
    }

    /// A primary key (transient, flushed at close): the SRK under the owner, the EK under the
    /// endorsement hierarchy. A primary is derived from the hierarchy's seed: the same
    /// template gives the same key every time.
    func createPrimary(_ template: Template) throws -> ESYS_TR {
        var inPublic = template.value
        var sensitive = TPM2B_SENSITIVE_CREATE()
        var outside = TPM2B_DATA()
        var pcrs = TPML_PCR_SELECTION()
        var handle = Self.none
        let hierarchy = template == .endorsementKey ? Self.endorsement : Self.owner
        try check(Esys_CreatePrimary(try context, hierarchy, Self.password, Self.none, Self.none, &sensitive, &inPublic,
                                     &outside, &pcrs, &handle, nil, nil, nil, nil),
                  template == .endorsementKey ? "make the endorsement key" : "make the storage root key")
        track(handle)
        return handle
    }

    /// Makes a key under `parent`, loads it, makes it persistent at `handle` and flushes the
    /// transient copy: the TPM-wrapped private part is never returned to a file.
    func createPersistent(_ template: Template, under parent: ESYS_TR, at handle: UInt32) throws -> ESYS_TR {
        var inPublic = template.value
        var sensitive = TPM2B_SENSITIVE_CREATE()
        var outside = TPM2B_DATA()
        var pcrs = TPML_PCR_SELECTION()
        var outPrivate: UnsafeMutablePointer<TPM2B_PRIVATE>? = nil
        var outPublic: UnsafeMutablePointer<TPM2B_PUBLIC>? = nil
        defer {
            Esys_Free(outPrivate)
            Esys_Free(outPublic)
        }
        try check(Esys_Create(try context, parent, Self.password, Self.none, Self.none, &sensitive, &inPublic, &outside,
                              &pcrs, &outPrivate, &outPublic, nil, nil, nil), "make a key")
        guard let outPrivate, let outPublic else { throw CPKError(.io, "the TPM made a key but returned no key", reason: .tpmCommandFailed) }
        var loaded = Self.none
        try check(Esys_Load(try context, parent, Self.password, Self.none, Self.none, outPrivate, outPublic, &loaded), "load the key it made")
        track(loaded)
        defer { flush(loaded) }
        var persistent = Self.none
        try check(Esys_EvictControl(try context, Self.owner, loaded, Self.password, Self.none, Self.none, handle, &persistent),
                  "make the key persistent at \(TPMKeyURI.hex(handle))")
        remember(persistent)
        return persistent
    }

    /// The object's public area: TPMT_PUBLIC bytes (what CPKAttestation's TPMPublic parses).
    func readPublic(_ object: ESYS_TR) throws -> [UInt8] {
        var outPublic: UnsafeMutablePointer<TPM2B_PUBLIC>? = nil
        defer { Esys_Free(outPublic) }
        try check(Esys_ReadPublic(try context, object, Self.none, Self.none, Self.none, &outPublic, nil, nil), "read a public area")
        guard let outPublic else { throw CPKError(.io, "the TPM returned no public area", reason: .tpmCommandFailed) }
        return try Self.marshal(UnsafePointer(cpk_tss2_public_area(outPublic)), Tss2_MU_TPMT_PUBLIC_Marshal)
    }

    /// TPM2_RSA_Decrypt with the NULL scheme (raw RSA: the caller checks the padding) or
    /// OAEP-SHA-256 with an empty label. The caller wipes the result.
    func rsaDecrypt(_ key: ESYS_TR, _ ciphertext: [UInt8], oaep: Bool) throws -> [UInt8] {
        var input = TPM2B_PUBLIC_KEY_RSA()
        guard ciphertext.withUnsafeBufferPointer({ cpk_tss2_set_rsa(&input, $0.baseAddress, $0.count) }) == 1 else {
            throw CPKError(.invalidInput, "the ciphertext is longer than an RSA key", reason: .tpmCommandFailed)
        }
        var scheme = TPMT_RSA_DECRYPT()
        cpk_tss2_decrypt_scheme(&scheme, oaep ? 1 : 0)
        var label = TPM2B_DATA()
        var message: UnsafeMutablePointer<TPM2B_PUBLIC_KEY_RSA>? = nil
        defer {
            if let message { cpk_tss2_wipe(message, MemoryLayout<TPM2B_PUBLIC_KEY_RSA>.size) }
            Esys_Free(message)
        }
        try check(Esys_RSA_Decrypt(try context, key, Self.password, Self.none, Self.none, &input, &scheme, &label, &message),
                  "decrypt with the device key")
        guard let message else { throw CPKError(.io, "the TPM returned no plaintext", reason: .tpmCommandFailed) }
        return Array(UnsafeBufferPointer(start: cpk_tss2_rsa_bytes(message), count: Int(message.pointee.size)))
    }

    /// The contents of an NV index (read in chunks a TPM's NV buffer always takes).
    func nvRead(_ index: UInt32) throws -> [UInt8]? {
        guard let nv = try persistent(index) else { return nil }
        var nvPublic: UnsafeMutablePointer<TPM2B_NV_PUBLIC>? = nil
        defer { Esys_Free(nvPublic) }
        try check(Esys_NV_ReadPublic(try context, nv, Self.none, Self.none, Self.none, &nvPublic, nil), "describe NV index \(TPMKeyURI.hex(index))")
        guard let nvPublic else { throw CPKError(.io, "the TPM returned no NV public area", reason: .tpmCommandFailed) }
        let size = Int(nvPublic.pointee.nvPublic.dataSize)
        var contents: [UInt8] = []
        let chunk = 512
        while contents.count < size {
            let count = min(chunk, size - contents.count)
            var data: UnsafeMutablePointer<TPM2B_MAX_NV_BUFFER>? = nil
            defer { Esys_Free(data) }
            try check(Esys_NV_Read(try context, nv, nv, Self.password, Self.none, Self.none, UInt16(count), UInt16(contents.count), &data),
                      "read NV index \(TPMKeyURI.hex(index))")
            guard let data, Int(data.pointee.size) == count else {
                throw CPKError(.io, "the TPM returned a short read of NV index \(TPMKeyURI.hex(index))", reason: .tpmCommandFailed)
            }
            contents += UnsafeBufferPointer(start: cpk_tss2_nv_bytes(data), count: count)
        }
        return contents
    }

    /// A policy session satisfied by PolicySecret(TPM_RH_ENDORSEMENT): what the EK's policy
    /// asks. The TPM closes it after the one command it authorises.
    func endorsementPolicySession() throws -> ESYS_TR {
        var symmetric = TPMT_SYM_DEF()
        cpk_tss2_null_symmetric(&symmetric)
        var session = Self.none
        // TPM2_SE_POLICY is 0x01; TPM2_ALG_SHA256 is 0x000B.
        try check(Esys_StartAuthSession(try context, Self.none, Self.none, Self.none, Self.none, Self.none, nil, 0x01,
                                        &symmetric, 0x000B, &session), "start a policy session")
        track(session)
        try check(Esys_PolicySecret(try context, Self.endorsement, session, Self.password, Self.none, Self.none,
                                    nil, nil, nil, 0, nil, nil), "satisfy the endorsement key's policy")
        // continueSession clear: the TPM flushes the session once it has authorised the command.
        try check(Esys_TRSess_SetAttributes(try context, session, 0, 0x01), "set the policy session's attributes")
        return session
    }

    /// TPM2_ActivateCredential: the secret MakeCredential sealed to `ek` for the Name of `ak`.
    /// The caller wipes it.
    func activateCredential(ak: ESYS_TR, ek: ESYS_TR, credentialBlob: [UInt8], encryptedSecret: [UInt8]) throws -> [UInt8] {
        var blob = TPM2B_ID_OBJECT()
        var secret = TPM2B_ENCRYPTED_SECRET()
        guard credentialBlob.withUnsafeBufferPointer({ cpk_tss2_set_id_object(&blob, $0.baseAddress, $0.count) }) == 1,
            encryptedSecret.withUnsafeBufferPointer({ cpk_tss2_set_encrypted_secret(&secret, $0.baseAddress, $0.count) }) == 1
        else { throw CPKError(.invalidInput, "the credential or its encrypted secret is larger than a TPM takes", reason: .tpmCommandFailed) }
        let session = try endorsementPolicySession()
        var certInfo: UnsafeMutablePointer<TPM2B_DIGEST>? = nil
        defer {
            if let certInfo { cpk_tss2_wipe(certInfo, MemoryLayout<TPM2B_DIGEST>.size) }
            Esys_Free(certInfo)
        }
        let rc = Esys_ActivateCredential(try context, ak, ek, Self.password, session, Self.none, &blob, &secret, &certInfo)
        if rc == 0 { forget(session) }
        try check(rc, "activate the credential (made for another TPM, or for another attestation key?)")
        guard let certInfo else { throw CPKError(.io, "the TPM returned no secret", reason: .tpmCommandFailed) }
        return Array(UnsafeBufferPointer(start: cpk_tss2_digest_bytes(certInfo), count: Int(certInfo.pointee.size)))
    }

    /// TPM2_Certify of `object` by `signer` over `qualifyingData`: (TPMS_ATTEST, TPMT_SIGNATURE) bytes.
    func certify(_ object: ESYS_TR, by signer: ESYS_TR, qualifyingData: [UInt8]) throws -> (attest: [UInt8], signature: [UInt8]) {
        var data = try Self.data(qualifyingData)
        var scheme = TPMT_SIG_SCHEME()
        cpk_tss2_null_signature_scheme(&scheme)
        var attest: UnsafeMutablePointer<TPM2B_ATTEST>? = nil
        var signature: UnsafeMutablePointer<TPMT_SIGNATURE>? = nil
        defer {
            Esys_Free(attest)
            Esys_Free(signature)
        }
        try check(Esys_Certify(try context, object, signer, Self.password, Self.password, Self.none, &data, &scheme, &attest, &signature),
                  "certify the device key with the attestation key")
        return try Self.attestation(attest, signature)
    }

    /// TPM2_Quote of the PCRs `selection` names by `signer` over `qualifyingData`.
    func quote(by signer: ESYS_TR, qualifyingData: [UInt8], selection: TPMPCRSelectionSpec) throws -> (attest: [UInt8], signature: [UInt8]) {
        var data = try Self.data(qualifyingData)
        var scheme = TPMT_SIG_SCHEME()
        cpk_tss2_null_signature_scheme(&scheme)
        var pcrs = TPML_PCR_SELECTION()
        let bitmap = selection.bitmap
        guard bitmap.withUnsafeBufferPointer({ cpk_tss2_pcr_selection(&pcrs, selection.hash, $0.baseAddress, $0.count) }) == 1 else {
            throw CPKError(.usage, "the PCR selection is larger than a TPM takes", reason: .tpmReference)
        }
        var attest: UnsafeMutablePointer<TPM2B_ATTEST>? = nil
        var signature: UnsafeMutablePointer<TPMT_SIGNATURE>? = nil
        defer {
            Esys_Free(attest)
            Esys_Free(signature)
        }
        try check(Esys_Quote(try context, signer, Self.password, Self.none, Self.none, &data, &scheme, &pcrs, &attest, &signature),
                  "quote the PCRs")
        return try Self.attestation(attest, signature)
    }

    static func data(_ bytes: [UInt8]) throws -> TPM2B_DATA {
        var data = TPM2B_DATA()
        guard bytes.withUnsafeBufferPointer({ cpk_tss2_set_data(&data, $0.baseAddress, $0.count) }) == 1 else {
            throw CPKError(.usage, "the nonce is \(bytes.count) bytes; a TPM takes at most 64", reason: .tpmReference)
        }
        return data
    }

    static func attestation(_ attest: UnsafeMutablePointer<TPM2B_ATTEST>?, _ signature: UnsafeMutablePointer<TPMT_SIGNATURE>?) throws
        -> (attest: [UInt8], signature: [UInt8])
    {
        guard let attest, let signature else { throw CPKError(.io, "the TPM returned no attestation", reason: .tpmCommandFailed) }
        let bytes = Array(UnsafeBufferPointer(start: cpk_tss2_attest_bytes(attest), count: Int(attest.pointee.size)))
        return (bytes, try marshal(UnsafePointer(signature), Tss2_MU_TPMT_SIGNATURE_Marshal))
    }

    /// A structure marshalled by tss2-mu into its TPM wire form.
    static func marshal<T>(
        _ value: UnsafePointer<T>, _ function: (UnsafePointer<T>?, UnsafeMutablePointer<UInt8>?, Int, UnsafeMutablePointer<Int>?) -> TSS2_RC
    ) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var offset = 0
        let rc = buffer.withUnsafeMutableBufferPointer { function(value, $0.baseAddress, $0.count, &offset) }
        guard rc == 0 else { throw CPKError(.io, "cannot marshal a TPM structure: \(decode(rc))", reason: .tpmCommandFailed) }
        return Array(buffer[..<offset])
    }
}
