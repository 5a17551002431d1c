import COpenSSL
import CPKCore
import CPKCrypto

/// A credential made to a TPM's endorsement key for one object's Name (TPM2_MakeCredential):
/// only the TPM that holds the EK's private part *and* a loaded object of that Name can open it
/// (TPM2_ActivateCredential), which is how the cloud learns that an AK lives in that TPM.
public struct TPMCredential: Sendable, Equatable {
    /// The TPM2B_ID_OBJECT's buffer: integrityHMAC as a TPM2B_DIGEST, then encIdentity.
    public let credentialBlob: [UInt8]
    /// The TPM2B_ENCRYPTED_SECRET's buffer: the seed, RSA-OAEP encrypted to the EK.
    public let encryptedSecret: [UInt8]
}

extension CPKError.Reason {
    /// The key named as an EK cannot receive a credential: not an RSA restricted decryption key
    /// with an AES-CFB symmetric (an ECC EK, a signing key).
    public static let tpmUnusableEK = CPKError.Reason(rawValue: "tpm-unusable-ek")
}

/// TPM2_MakeCredential in software (Part 1, §24 "Credential Protection"; Part 3, §12.6), composed
/// of OpenSSL EVP calls: the cloud has no TPM.
public enum TPMMakeCredential {
    /// The label the TPM uses for the seed's OAEP encryption, with its terminating zero
    /// (Part 1, §24.4).
    static let identityLabel = Array("IDENTITY".utf8) + [0]

    /// Makes a credential holding `secret` to `ek` (an RSA restricted decryption key with an
    /// AES-CFB symmetric, as the TCG EK templates are), for the object `name`.
    public static func make(secret: [UInt8], ek: TPMPublic, name: [UInt8]) throws -> TPMCredential {
        let seed = try SecureRandom.bytes(ek.nameAlgorithm.digestSize)
        return try make(secret: secret, ek: ek, name: name, seed: seed)
    }

    /// The same with a given seed: deterministic apart from OAEP's own randomness, so the
    /// credential blob can be checked against a vector made independently.
    package static func make(secret: [UInt8], ek: TPMPublic, name: [UInt8], seed: [UInt8]) throws -> TPMCredential {
        let blob = try credentialBlob(secret: secret, ek: ek, name: name, seed: seed)
        return TPMCredential(credentialBlob: blob, encryptedSecret: try encryptSeed(seed, to: ek))
    }

    /// The credential blob alone (no encryption of the seed).
    package static func credentialBlob(secret: [UInt8], ek: TPMPublic, name: [UInt8], seed: [UInt8]) throws -> [UInt8] {
        let hash = ek.nameAlgorithm
        try requireUsable(ek)
        guard (1...hash.digestSize).contains(secret.count) else {
            throw CPKError(.invalidInput, "a credential's secret is 1 to \(hash.digestSize) bytes, not \(secret.count)", reason: .tpmDocument)
        }
        try TPMNames.check(name, what: "the credential's object Name")
        guard seed.count == hash.digestSize else {
            throw CPKError(.invalidInput, "a credential's seed is \(hash.digestSize) bytes, not \(seed.count)", reason: .tpmDocument)
        }
        // Part 1, §24.4: the symmetric key binds the seed to the object's Name; the HMAC key
        // does not, but the HMAC covers the Name.
        let symmetricKey = try kdfa(hash, key: seed, label: "STORAGE", contextU: name, contextV: [], bits: Int(ek.symmetricKeyBits))
        let plain = [UInt8(secret.count >> 8), UInt8(secret.count & 0xFF)] + secret
        let encIdentity = try AESCFB.encrypt(plain, key: symmetricKey)  // zero IV: the key is used once
        let hmacKey = try kdfa(hash, key: seed, label: "INTEGRITY", contextU: [], contextV: [], bits: hash.digestSize * 8)
        let integrity = try TPMDigest.hmac(hash, key: hmacKey, encIdentity + name)
        return [UInt8(integrity.count >> 8), UInt8(integrity.count & 0xFF)] + integrity + encIdentity
    }

    /// An EK a credential can be made to: RSA, restricted decryption, AES-CFB of 128 to 256 bits.
    static func requireUsable(_ ek: TPMPublic) throws {
        func unusable(_ text: String) -> CPKError { CPKError(.invalidInput, "the EK \(text)", reason: .tpmUnusableEK) }
        guard case .rsa = ek.key else { throw unusable("is not an RSA key (only RSA EKs receive credentials here)") }
        guard ek.attributes.isSuperset(of: [.restricted, .decrypt]), !ek.attributes.contains(.sign) else {
            throw unusable("is not a restricted decryption key")
        }
        guard ek.symmetricAlgorithm == TPMAlgorithmID.aes, ek.symmetricMode == TPMAlgorithmID.cfb,
            [128, 192, 256].contains(ek.symmetricKeyBits)
        else { throw unusable("has no AES-CFB symmetric") }
    }

    /// KDFa (Part 1, §11.4.10.2): SP 800-108 counter mode with HMAC of the Name algorithm;
    /// the label is followed by a zero byte, the output length in bits closes each block.
    package static func kdfa(_ hash: TPMHash, key: [UInt8], label: String, contextU: [UInt8], contextV: [UInt8], bits: Int) throws -> [UInt8] {
        let bytes = (bits + 7) / 8
        var out: [UInt8] = []
        var counter: UInt32 = 1
        while out.count < bytes {
            let block = be32(counter) + Array(label.utf8) + [0] + contextU + contextV + be32(UInt32(bits))
            out += try TPMDigest.hmac(hash, key: key, block)
            counter += 1
        }
        return Array(out.prefix(bytes))
    }

    static func be32(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }

    /// The seed, RSA-OAEP encrypted to the EK with the Name algorithm for the label hash and
    /// MGF1 and the label "IDENTITY\0" (Part 1, annex B.10.3).
    static func encryptSeed(_ seed: [UInt8], to ek: TPMPublic) throws -> [UInt8] {
        let spki = ek.subjectPublicKeyInfoDER
        let pkey: OpaquePointer? = spki.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        guard let pkey else {
            ERR_clear_error()
            throw CPKError(.invalidInput, "OpenSSL refuses the EK's public key", reason: .tpmUnusableEK)
        }
        defer { EVP_PKEY_free(pkey) }
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else { throw CPKError.io("cannot set up an RSA encryption") }
        defer { EVP_PKEY_CTX_free(context) }
        let md = TPMDigest.md(ek.nameAlgorithm)
        // The context takes ownership of the label: it must come from OpenSSL's allocator.
        guard let label = CRYPTO_malloc(identityLabel.count, #fileID, #line) else { throw CPKError.io("out of memory") }
        label.copyMemory(from: identityLabel, byteCount: identityLabel.count)
        guard EVP_PKEY_encrypt_init(context) == 1, EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING) == 1,
            EVP_PKEY_CTX_set_rsa_oaep_md(context, md) == 1, EVP_PKEY_CTX_set_rsa_mgf1_md(context, md) == 1
        else {
            CRYPTO_free(label, #fileID, #line)
            ERR_clear_error()
            throw CPKError.io("cannot set up RSA-OAEP")
        }
        guard EVP_PKEY_CTX_set0_rsa_oaep_label(context, label, Int32(identityLabel.count)) == 1 else {
            CRYPTO_free(label, #fileID, #line)
            ERR_clear_error()
            throw CPKError.io("cannot set the OAEP label")
        }
        var size = 0
        guard EVP_PKEY_encrypt(context, nil, &size, seed, seed.count) == 1 else {
            ERR_clear_error()
            throw CPKError.io("cannot encrypt the seed to the EK")
        }
        var out = [UInt8](repeating: 0, count: size)
        let status = out.withUnsafeMutableBufferPointer { EVP_PKEY_encrypt(context, $0.baseAddress, &size, seed, seed.count) }
        guard status == 1 else {
            ERR_clear_error()
            throw CPKError.io("cannot encrypt the seed to the EK")
        }
        return Array(out.prefix(size))
    }
}

extension TPMDigest {
    /// HMAC (RFC 2104) with an accepted hash, through OpenSSL.
    static func hmac(_ hash: TPMHash, key: [UInt8], _ data: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var size: UInt32 = 0
        let done = key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { HMAC(md(hash), k.baseAddress, Int32(k.count), d.baseAddress, d.count, $0.baseAddress, &size) }
            }
        }
        guard done != nil, Int(size) == hash.digestSize else {
            ERR_clear_error()
            throw CPKError.io("OpenSSL cannot compute HMAC-\(hash.name)")
        }
        return Array(out.prefix(Int(size)))
    }
}
