import COpenSSL
import CPKCore

/// AES-256-CTR with a 16-byte initial counter block (a 128-bit big-endian counter), as OpenSSL's
/// EVP_aes_256_ctr computes it.
///
/// Here only to read Confidential Containers' A256CTR layer annotations, which CoCo's guest
/// still unwraps: CTR has no tag, so a wrong key or a changed ciphertext gives wrong bytes, not
/// an error. Nothing in this project encrypts with it.
public enum AESCTR {
    public static let keySize = 32
    public static let counterSize = 16

    /// Encrypts or decrypts (the same operation in CTR) `input` in one call.
    public static func apply(_ input: [UInt8], key: [UInt8], counter: [UInt8]) throws -> [UInt8] {
        guard key.count == keySize else { throw CPKError.invalid("an AES-256 key is 32 bytes, this one is \(key.count)") }
        guard counter.count == counterSize else {
            throw CPKError.invalid("an AES-CTR initial counter is \(counterSize) bytes, this one is \(counter.count)")
        }
        return try OneShotCipher.encrypt(input, cipher: EVP_aes_256_ctr(), key: key, iv: counter, name: "AES-256-CTR")
    }
}

/// AES in CFB-128 mode, the symmetric of a TPM's storage and endorsement keys (TPM 2.0 Part 1,
/// §24.4: a credential's identity is encrypted with it, a zero IV, the key used once).
public enum AESCFB {
    /// Encrypts `plain` under an AES key of 16, 24 or 32 bytes, starting from `iv` (16 bytes).
    public static func encrypt(_ plain: [UInt8], key: [UInt8], iv: [UInt8] = [UInt8](repeating: 0, count: 16)) throws -> [UInt8] {
        let cipher: OpaquePointer?
        switch key.count {
        case 16: cipher = EVP_aes_128_cfb128()
        case 24: cipher = EVP_aes_192_cfb128()
        case 32: cipher = EVP_aes_256_cfb128()
        default: throw CPKError.invalid("an AES key is 16, 24 or 32 bytes, this one is \(key.count)")
        }
        guard iv.count == 16 else { throw CPKError.invalid("an AES-CFB IV is 16 bytes, this one is \(iv.count)") }
        return try OneShotCipher.encrypt(plain, cipher: cipher, key: key, iv: iv, name: "AES-CFB")
    }
}

/// A stream cipher mode (no padding: the output is as long as the input) over a small input,
/// in one EVP call.
enum OneShotCipher {
    static func encrypt(_ input: [UInt8], cipher: OpaquePointer?, key: [UInt8], iv: [UInt8], name: String) throws -> [UInt8] {
        // Small inputs only (an annotation's or a credential's few hundred bytes): one EVP call
        // takes an Int32 length.
        guard input.count < Int(Int32.max) else { throw CPKError.invalid("the \(name) input is too large") }
        guard let context = EVP_CIPHER_CTX_new() else { throw OpenSSLError.failure("cannot allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }  // also wipes the key schedule
        guard EVP_EncryptInit_ex(context, cipher, nil, key, iv) == 1 else { throw OpenSSLError.failure("cannot start \(name)") }
        var output = [UInt8](repeating: 0, count: input.count)
        guard !input.isEmpty else { return output }
        var written: Int32 = 0
        guard EVP_EncryptUpdate(context, &output, &written, input, Int32(input.count)) == 1, Int(written) == input.count else {
            throw OpenSSLError.failure("\(name) failed")
        }
        return output
    }
}
