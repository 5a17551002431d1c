import COpenSSL
import CPKCore

/// RSA PKCS#1 v1.5 verification of a SHA-256 digest, over OpenSSL's EVP_PKEY_verify: what
/// `verify_application_sha256_rsa_pkcs1_v15` does inside the Package Manager.
///
/// The signature is over the 32-byte digest as a pre-computed SHA-256 (a DigestInfo inside the
/// PKCS#1 block), which is what `openssl dgst -sha256 -sign` makes over the plaintext and
/// `openssl pkeyutl -sign -pkeyopt digest:sha256` over the digest.
///
/// It lives here, privately, because no signature API existed in CPKCrypto when the Package
/// Manager was written; it only verifies, and only this one scheme.
enum RSASignatureCheck {
    /// True when `signature` is a valid signature of `digest` by `publicKeyDER` (DER
    /// SubjectPublicKeyInfo or PKCS#1 RSAPublicKey), an RSA key of exactly `keyBits` bits.
    /// Throws for a key that cannot be read or does not have `keyBits` bits.
    static func verify(digest: [UInt8], signature: [UInt8], publicKeyDER: [UInt8], keyBits: Int) throws -> Bool {
        guard digest.count == 32 else { return false }
        let key = try loadRSAPublicKey(publicKeyDER)
        defer { EVP_PKEY_free(key) }
        let bits = Int(EVP_PKEY_get_bits(key))
        guard bits == keyBits else {
            throw CPKError.invalid("the signer's key is a \(bits)-bit RSA key, but the package says \(keyBits)")
        }
        guard signature.count == (bits + 7) / 8 else { return false }
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, key, nil) else {
            throw CPKError.io("cannot set up RSA verification")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_verify_init(context) == 1,
            EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1,
            EVP_PKEY_CTX_set_signature_md(context, EVP_sha256()) == 1
        else {
            ERR_clear_error()
            throw CPKError.io("cannot set up RSA PKCS#1 v1.5 verification with SHA-256")
        }
        let status = signature.withUnsafeBufferPointer { sig in
            digest.withUnsafeBufferPointer { EVP_PKEY_verify(context, sig.baseAddress, sig.count, $0.baseAddress, $0.count) }
        }
        ERR_clear_error()  // a bad signature queues an error that must not colour later messages
        return status == 1
    }

    /// Reads DER SubjectPublicKeyInfo, else DER RSAPublicKey; each must use every byte.
    private static func loadRSAPublicKey(_ der: [UInt8]) throws -> OpaquePointer {
        for decode in [decodeSPKI, decodePKCS1] {
            if let key = decode(der) {
                guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
                    EVP_PKEY_free(key)
                    throw CPKError.invalid("the signer's key is not an RSA key; the package says rsa-pkcs1v15")
                }
                return key
            }
        }
        ERR_clear_error()
        throw CPKError.invalid("the signer's public key is neither DER SubjectPublicKeyInfo nor DER RSAPublicKey")
    }

    private static func decodeSPKI(_ der: [UInt8]) -> OpaquePointer? {
        decodeWhole(der) { d2i_PUBKEY(nil, $0, $1) }
    }

    private static func decodePKCS1(_ der: [UInt8]) -> OpaquePointer? {
        decodeWhole(der) { d2i_PublicKey(EVP_PKEY_RSA, nil, $0, $1) }
    }

    private static func decodeWhole(
        _ der: [UInt8], _ decoder: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> OpaquePointer?
    ) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            guard let start = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = start
            guard let key = decoder(&cursor, buffer.count) else {
                ERR_clear_error()
                return nil
            }
            guard let end = cursor, end - start == buffer.count else {
                EVP_PKEY_free(key)
                return nil
            }
            return key
        }
    }
}
