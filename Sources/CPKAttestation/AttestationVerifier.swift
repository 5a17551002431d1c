import COpenSSL
import CPKCore

/// Hashes through OpenSSL's EVP, for Names and attestation digests.
enum TPMDigest {
    static func md(_ hash: TPMHash) -> OpaquePointer? {
        switch hash {
        case .sha256: return EVP_sha256()
        case .sha384: return EVP_sha384()
        case .sha512: return EVP_sha512()
        }
    }

    static func hash(_ bytes: [UInt8], _ hash: TPMHash) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var size: UInt32 = 0
        let status = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { EVP_Digest(input.baseAddress, input.count, $0.baseAddress, &size, md(hash), nil) }
        }
        guard status == 1, Int(size) == hash.digestSize else {
            ERR_clear_error()
            throw CPKError.io("OpenSSL cannot compute \(hash.name)")
        }
        return Array(out.prefix(Int(size)))
    }
}

extension TPMPublic {
    /// The key as a DER SubjectPublicKeyInfo (RFC 5280, RFC 3279, RFC 5480), for OpenSSL and for
    /// anyone who wants to see the key in its usual form.
    public var subjectPublicKeyInfoDER: [UInt8] {
        switch key {
        case .rsa(let modulus, let exponent, _):
            let rsaEncryption: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
            var e = [UInt8(exponent >> 24), UInt8(exponent >> 16 & 0xFF), UInt8(exponent >> 8 & 0xFF), UInt8(exponent & 0xFF)]
            while e.count > 1 && e[0] == 0 { e.removeFirst() }
            let key = DER.sequence(DER.integer(modulus) + DER.integer(e))
            return DER.sequence(DER.sequence(DER.tlv(0x06, rsaEncryption) + [0x05, 0x00]) + DER.tlv(0x03, [0] + key))
        case .ecc(let curve, let x, let y):
            let ecPublicKey: [UInt8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]
            return DER.sequence(DER.sequence(DER.tlv(0x06, ecPublicKey) + DER.tlv(0x06, curve.oid)) + DER.tlv(0x03, [0, 0x04] + x + y))
        }
    }
}

/// The few DER encodings a public key and an ECDSA signature need.
enum DER {
    static func length(_ count: Int) -> [UInt8] {
        if count < 0x80 { return [UInt8(count)] }
        var bytes: [UInt8] = []
        var rest = count
        while rest > 0 {
            bytes.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] { [tag] + length(content.count) + content }

    static func sequence(_ content: [UInt8]) -> [UInt8] { tlv(0x30, content) }

    /// A non-negative INTEGER from big-endian bytes: leading zeros dropped, a zero added when
    /// the top bit would make it negative.
    static func integer(_ magnitude: [UInt8]) -> [UInt8] {
        var bytes = Array(magnitude.drop { $0 == 0 })
        if bytes.isEmpty { bytes = [0] }
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return tlv(0x02, bytes)
    }
}

/// Checks what a TPM signed with an attestation key (AK), knowing only the AK's public area: no
/// TPM is needed on the verifying side.
public enum TPMAttestationVerifier {
    /// Checks that `signature` is the AK's signature over `attest` and returns the attestation.
    ///
    /// The AK must be a restricted signing key: only then does the TPM refuse to sign a message
    /// that starts with TPM_GENERATED unless it made the message itself, so a signature proves the
    /// TPM produced the attestation. When the AK declares a scheme, the signature must use it.
    /// Whether the AK belongs to a genuine TPM (its certificate chain to a manufacturer, or an
    /// EK-based credential activation) is the caller's to establish.
    public static func verify(attest: TPMAttest, signature: TPMSignature, signer: TPMPublic) throws -> TPMAttest {
        guard signer.attributes.isSuperset(of: [.sign, .restricted]), !signer.attributes.contains(.decrypt) else {
            throw CPKError(.checkFailed, "the attestation key is not a restricted signing key: its signature proves nothing about the TPM",
                           reason: .tpmAttestation)
        }
        if let declared = signer.signingScheme, declared != signature.scheme {
            throw CPKError(
                .checkFailed,
                "the signature is \(TPMAlgorithmID.name(signature.scheme.algorithm))/\(signature.scheme.hash.name); the attestation key signs only with \(TPMAlgorithmID.name(declared.algorithm))/\(declared.hash.name)",
                reason: .tpmAttestation)
        }
        let digest = try TPMDigest.hash(attest.encoded, signature.scheme.hash)
        guard try checkSignature(signature, digest: digest, key: signer) else {
            throw CPKError(.checkFailed, "the attestation's signature does not verify with the attestation key", reason: .tpmAttestation)
        }
        return attest
    }

    /// Parses and checks in one call: the raw outputs of tpm2_quote / tpm2_certify and the AK's
    /// TPMT_PUBLIC.
    public static func verify(attest: [UInt8], signature: [UInt8], signer: TPMPublic) throws -> TPMAttest {
        try verify(attest: TPMAttest(parsing: attest), signature: TPMSignature(parsing: signature), signer: signer)
    }

    /// True when the signature verifies; false for a wrong signature of the right form.
    static func checkSignature(_ signature: TPMSignature, digest: [UInt8], key: TPMPublic) throws -> Bool {
        let blob: [UInt8]
        switch (signature.value, key.key) {
        case (.rsa(let bytes), .rsa(let modulus, _, _)):
            guard signature.scheme.algorithm != TPMAlgorithmID.ecdsa, bytes.count == modulus.count else { return false }
            blob = bytes
        case (.ecdsa(let r, let s), .ecc(let curve, _, _)):
            guard signature.scheme.algorithm == TPMAlgorithmID.ecdsa, r.count <= curve.coordinateSize, s.count <= curve.coordinateSize
            else { return false }
            blob = DER.sequence(DER.integer(r) + DER.integer(s))
        default:
            throw CPKError(.checkFailed, "the signature's algorithm does not fit the attestation key's type", reason: .tpmAttestation)
        }
        let spki = key.subjectPublicKeyInfoDER
        let pkey: OpaquePointer? = spki.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        guard let pkey else {
            ERR_clear_error()
            throw CPKError(.invalidInput, "OpenSSL refuses the attestation key (an ECC point off its curve?)", reason: .tpmStructure)
        }
        defer { EVP_PKEY_free(pkey) }
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else { throw CPKError.io("cannot set up a signature check") }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_verify_init(context) == 1, EVP_PKEY_CTX_set_signature_md(context, TPMDigest.md(signature.scheme.hash)) == 1 else {
            ERR_clear_error()
            throw CPKError.io("cannot set up a signature check")
        }
        if signature.scheme.algorithm == TPMAlgorithmID.rsapss {
            // The TPM's salt is as long as the digest (or, on older TPMs, as long as fits): the
            // salt length is read from the signature, with the digest's own MGF1.
            guard EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PSS_PADDING) == 1,
                EVP_PKEY_CTX_set_rsa_mgf1_md(context, TPMDigest.md(signature.scheme.hash)) == 1,
                EVP_PKEY_CTX_set_rsa_pss_saltlen(context, RSA_PSS_SALTLEN_AUTO) == 1
            else {
                ERR_clear_error()
                throw CPKError.io("cannot set up an RSA-PSS check")
            }
        } else if signature.scheme.algorithm == TPMAlgorithmID.rsassa {
            guard EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1 else {
                ERR_clear_error()
                throw CPKError.io("cannot set up an RSA check")
            }
        }
        let status = blob.withUnsafeBufferPointer { sig in
            digest.withUnsafeBufferPointer { EVP_PKEY_verify(context, sig.baseAddress, sig.count, $0.baseAddress, $0.count) }
        }
        ERR_clear_error()
        return status == 1
    }
}
