import CPKCore
import CPKCrypto

/// What `verify_application_sha256_rsa_pkcs1_v15` checks inside the Package Manager: an RSA
/// PKCS#1 v1.5 signature of a SHA-256 digest (the digest as the hash, inside a DigestInfo), by
/// an RSA key of the announced size.
enum RSASignatureCheck {
    /// True when `signature` is a valid signature of `digest` by `publicKeyDER` (DER
    /// SubjectPublicKeyInfo or PKCS#1 RSAPublicKey). Throws when the key cannot be read, is not
    /// RSA, or does not have `keyBits` bits.
    static func verify(digest: [UInt8], signature: [UInt8], publicKeyDER: [UInt8], keyBits: Int) throws -> Bool {
        let key: VerifyingKey
        do {
            key = try VerifyingKey(loading: publicKeyDER)
        } catch let error as CPKError {
            throw CPKError.invalid("the signer's public key cannot be read: \(error.message)")
        }
        guard case .rsa(let bits) = key.type else {
            throw CPKError.invalid("the signer's key is \(key.type), but the signature is rsa-pkcs1v15")
        }
        guard bits == keyBits else {
            throw CPKError.invalid("the signer's key is a \(bits)-bit RSA key, but the package says \(keyBits)")
        }
        guard digest.count == SHA256Hasher.digestSize else { return false }
        return try key.verify(signature: signature, digest: digest, scheme: .rsaPKCS1v15)
    }
}
