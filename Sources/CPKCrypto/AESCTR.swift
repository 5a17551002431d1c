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
        // Small inputs only (an annotation's few hundred bytes): one EVP call takes an Int32 length.
        guard input.count < Int(Int32.max) else { throw CPKError.invalid("the AES-CTR input is too large") }
        guard let context = EVP_CIPHER_CTX_new() else { throw OpenSSLError.failure("cannot allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }  // also wipes the key schedule
        guard EVP_DecryptInit_ex(context, EVP_aes_256_ctr(), nil, key, counter) == 1 else {
            throw OpenSSLError.failure("cannot start AES-256-CTR")
        }
        var output = [UInt8](repeating: 0, count: input.count)
        guard !input.isEmpty else { return output }
        var written: Int32 = 0
        guard EVP_DecryptUpdate(context, &output, &written, input, Int32(input.count)) == 1, Int(written) == input.count else {
            throw OpenSSLError.failure("AES-256-CTR failed")
        }
        return output
    }
}
