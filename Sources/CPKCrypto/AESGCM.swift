import COpenSSL
import CPKCore

/// Streaming AES-256-GCM over OpenSSL's EVP cipher API.
///
/// One instance encrypts or decrypts one message: `update` as many chunks as there are, then
/// `finish` (which yields the tag when encrypting, and checks it when decrypting).
public final class AESGCM {
    public static let keySize = 32
    public static let nonceSize = 12
    public static let tagSize = 16
    /// GCM's single-message limit: 2^39 - 256 bits of plaintext.
    public static let maximumMessageSize: UInt64 = (1 << 36) - 32

    public enum Direction { case encrypt, decrypt }

    private let context: OpaquePointer
    private let direction: Direction
    private var processed: UInt64 = 0

    public init(_ direction: Direction, key: [UInt8], nonce: [UInt8]) throws {
        guard key.count == Self.keySize else {
            throw CPKError.invalid("an AES-256 key is 32 bytes, this one is \(key.count)")
        }
        guard nonce.count == Self.nonceSize else {
            throw CPKError.invalid("an AES-GCM nonce is 12 bytes here, this one is \(nonce.count)")
        }
        guard let context = EVP_CIPHER_CTX_new() else { throw OpenSSLError.failure("cannot allocate a cipher context") }
        self.context = context
        self.direction = direction
        let initialise = direction == .encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        guard initialise(context, EVP_aes_256_gcm(), nil, key, nonce) == 1 else {
            throw OpenSSLError.failure("cannot start AES-256-GCM")
        }
    }

    deinit { EVP_CIPHER_CTX_free(context) }  // also wipes the key schedule

    /// Encrypts or decrypts `input` into `output`, which must hold at least `input.count` bytes
    /// (GCM is a stream mode: sizes are equal; `output` may be `input` itself).
    public func update(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        guard input.count > 0 else { return }
        precondition(output.count >= input.count, "AES-GCM output buffer too small")
        processed += UInt64(input.count)
        guard processed <= Self.maximumMessageSize else {
            throw CPKError.invalid(
                "the payload exceeds AES-GCM's single-message limit of \(Self.maximumMessageSize) bytes")
        }
        var written: Int32 = 0
        let update = direction == .encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate
        var offset = 0
        while offset < input.count {  // EVP takes an Int32 length
            let piece = min(input.count - offset, 1 << 30)
            guard update(
                context, output.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, &written,
                input.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, Int32(piece)) == 1,
                Int(written) == piece
            else { throw OpenSSLError.failure("AES-256-GCM failed") }
            offset += piece
        }
    }

    /// Ends encryption and returns the 16-byte tag.
    public func finishEncryption() throws -> [UInt8] {
        precondition(direction == .encrypt)
        var written: Int32 = 0
        var scratch = [UInt8](repeating: 0, count: 16)
        guard EVP_EncryptFinal_ex(context, &scratch, &written) == 1 else {
            throw OpenSSLError.failure("cannot finish AES-256-GCM")
        }
        var tag = [UInt8](repeating: 0, count: Self.tagSize)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagSize), &tag) == 1 else {
            throw OpenSSLError.failure("cannot read the AES-GCM tag")
        }
        return tag
    }

    /// Ends decryption: true only if `tag` authenticates everything decrypted.
    public func finishDecryption(tag: [UInt8]) throws -> Bool {
        precondition(direction == .decrypt)
        guard tag.count == Self.tagSize else { return false }
        var expected = tag
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagSize), &expected) == 1 else {
            throw OpenSSLError.failure("cannot set the AES-GCM tag")
        }
        var written: Int32 = 0
        var scratch = [UInt8](repeating: 0, count: 16)
        let authentic = EVP_DecryptFinal_ex(context, &scratch, &written) == 1
        ERR_clear_error()
        return authentic
    }
}
