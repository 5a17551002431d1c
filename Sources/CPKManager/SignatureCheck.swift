import CPKCore
import CPKCrypto

/// What the verification calls check inside the Package Manager: a signature of a SHA-256
/// payload digest, by the given public key, in the call's scheme (and for RSA, by a key of
/// the announced size).
enum SignatureCheck {
    /// True when `signature` is a valid signature of `digest` by `publicKeyDER` (DER
    /// SubjectPublicKeyInfo, or PKCS#1 RSAPublicKey). Throws when the key cannot be read, does
    /// not fit the scheme, or (RSA) does not have `keyBits` bits.
    static func verify(
        digest: [UInt8], signature: [UInt8], publicKeyDER: [UInt8], scheme: SignatureScheme, keyBits: Int?
    ) throws -> Bool {
        let key: VerifyingKey
        do {
            key = try VerifyingKey(loading: publicKeyDER)
        } catch let error as CPKError {
            throw CPKError.invalid("the signer's public key cannot be read: \(error.message)")
        }
        do {
            try key.requireFit(scheme)
        } catch let error as CPKError {
            throw CPKError.invalid("the signer's key is \(key.type), which cannot make a \(scheme.rawValue) signature: \(error.message)")
        }
        if let keyBits, key.type.bits != keyBits {
            throw CPKError.invalid("the signer's key is a \(key.type), but the package says \(keyBits) bits")
        }
        guard digest.count == SHA256Hasher.digestSize else { return false }
        return try key.verify(signature: signature, digest: digest, scheme: scheme)
    }
}
