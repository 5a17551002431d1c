import COpenSSL
import CPKCore

/// How a symmetric key is encrypted under an RSA public key.
public enum KeyWrapPadding: String, CaseIterable, Sendable {
    /// RSA-OAEP with SHA-256 for both the label hash and MGF1 (RFC 8017 §7.1).
    case oaepSHA256 = "oaep-sha256"
    /// RSA PKCS#1 v1.5 encryption (RFC 8017 §7.2): what the reference key-store contract and the
    /// Package Manager use.
    case pkcs1v15 = "pkcs1v15"

    /// The name recorded in a wrapped-key document.
    public var algorithmName: String {
        switch self {
        case .oaepSHA256: return "rsa-oaep-sha256"
        case .pkcs1v15: return "rsa-pkcs1v15"
        }
    }

    public init?(algorithmName: String) {
        guard let padding = Self.allCases.first(where: { $0.algorithmName == algorithmName }) else { return nil }
        self = padding
    }

    /// The longest key that fits in one RSA block of `modulusBytes`.
    public func maximumKeySize(modulusBytes: Int) -> Int {
        switch self {
        case .oaepSHA256: return modulusBytes - 2 * SHA256Hasher.digestSize - 2
        case .pkcs1v15: return modulusBytes - 11
        }
    }

    /// Configures an encryption or decryption context for this padding.
    func configure(_ context: OpaquePointer) throws {
        switch self {
        case .pkcs1v15:
            guard EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1 else {
                throw OpenSSLError.failure("cannot select PKCS#1 v1.5 padding")
            }
            // OpenSSL 3.2 and later answer a bad PKCS#1 v1.5 block with random bytes instead of
            // an error ("implicit rejection"), a defence for servers that decrypt for anyone.
            // These tools decrypt a file once for the key's owner, who needs to hear that the
            // key or padding is wrong; OpenSSL 3.0 and 3.1 lack the setting and fail anyway.
            if EVP_PKEY_CTX_ctrl_str(context, "rsa_pkcs1_implicit_rejection", "0") <= 0 { ERR_clear_error() }
        case .oaepSHA256:
            guard EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING) == 1,
                EVP_PKEY_CTX_set_rsa_oaep_md(context, EVP_sha256()) == 1,
                EVP_PKEY_CTX_set_rsa_mgf1_md(context, EVP_sha256()) == 1
            else { throw OpenSSLError.failure("cannot select OAEP padding with SHA-256") }
        }
    }
}

extension PublicKey {
    /// Encrypts `key` (a symmetric key, at most `padding.maximumKeySize` bytes) to this key.
    public func wrap(_ secret: [UInt8], padding: KeyWrapPadding) throws -> [UInt8] {
        let limit = padding.maximumKeySize(modulusBytes: modulusBytes)
        guard !secret.isEmpty else { throw CPKError.invalid("the key to wrap is empty") }
        guard secret.count <= limit else {
            throw CPKError.invalid(
                "the key to wrap is \(secret.count) bytes; a \(bits)-bit RSA key with \(padding.rawValue) wraps at most \(limit)")
        }
        return try withContext(key, padding: padding, initialise: EVP_PKEY_encrypt_init) { context in
            try runCipher(context, input: secret, what: "wrap the key", operation: "encryption", EVP_PKEY_encrypt)
        }
    }
}

extension CPKError.Reason {
    /// A wrapped key that does not unwrap with this private key: one reason, whatever the cause
    /// (size, padding, another key), so the answer is no oracle.
    public static let unwrapFailed = CPKError.Reason(rawValue: "unwrap-failed")
}

extension RSAPrivateKey {
    /// The one answer to every unwrap failure. Its text names the padding the caller chose,
    /// never what was wrong: a decryption that tells a bad padding from a bad length or a wrong
    /// key is an oracle that gives the key away (Bleichenbacher, Manger).
    public static func unwrapFailure(_ padding: KeyWrapPadding) -> CPKError {
        CPKError(
            .checkFailed, "cannot unwrap: the key is not wrapped to this private key with \(padding.rawValue) padding",
            reason: .unwrapFailed)
    }

    /// Decrypts a wrapped key. Any failure, a wrapped key of the wrong size included, is
    /// `unwrapFailure(padding)`.
    public func unwrap(_ wrapped: [UInt8], padding: KeyWrapPadding) throws -> [UInt8] {
        guard wrapped.count == Int(EVP_PKEY_get_size(key.pointer)) else { throw Self.unwrapFailure(padding) }
        do {
            return try withContext(key, padding: padding, initialise: EVP_PKEY_decrypt_init) { context in
                try runCipher(context, input: wrapped, what: "unwrap the key", operation: "decryption", EVP_PKEY_decrypt)
            }
        } catch let error as CPKError where error.kind == .io && error.reason == nil {
            ERR_clear_error()
            throw Self.unwrapFailure(padding)
        }
    }

    /// Decrypts a PKCS#1 v1.5 wrapped key of `length` bytes with implicit rejection: a block
    /// whose padding is wrong, or whose message is not `length` bytes, yields a key derived from
    /// the wrapped bytes and `rejectionSecret` (HMAC-SHA-256) instead of an error, so the failure
    /// shows only later, as a key that opens nothing. The choice is made in constant time on a
    /// raw RSA decryption (OpenSSL 3.0 has no implicit rejection of its own).
    /// - Parameter rejectionSecret: a secret only this key's holder knows, at least 32 bytes.
    public func unwrapPKCS1v15(_ wrapped: [UInt8], length: Int, rejectionSecret: [UInt8]) throws -> [UInt8] {
        let modulusBytes = Int(EVP_PKEY_get_size(key.pointer))
        guard wrapped.count == modulusBytes, modulusBytes >= length + 11, length <= SHA256Hasher.digestSize,
            rejectionSecret.count >= 32
        else { throw Self.unwrapFailure(.pkcs1v15) }
        var block: [UInt8]
        do {
            block = try withRawContext(key) { context in
                try runCipher(context, input: wrapped, what: "unwrap the key", operation: "decryption", EVP_PKEY_decrypt)
            }
        } catch let error as CPKError where error.kind == .io && error.reason == nil {
            // Only a block not below the modulus fails here, which the sender already knows.
            ERR_clear_error()
            throw Self.unwrapFailure(.pkcs1v15)
        }
        defer { wipe(&block) }
        return try Self.selectPKCS1v15(block: block, wrapped: wrapped, length: length, rejectionSecret: rejectionSecret)
    }

    /// The constant-time half of `unwrapPKCS1v15`, for a raw RSA decryption made elsewhere (a
    /// TPM's TPM2_RSA_Decrypt with the NULL scheme): the message of `length` bytes when `block`
    /// (the modulus-long result of raw RSA on `wrapped`) is a well-formed PKCS#1 v1.5 block
    /// holding one, else the key derived from `wrapped` and `rejectionSecret`.
    public static func selectPKCS1v15(block: [UInt8], wrapped: [UInt8], length: Int, rejectionSecret: [UInt8]) throws -> [UInt8] {
        guard block.count == wrapped.count, block.count >= length + 11, length <= SHA256Hasher.digestSize,
            rejectionSecret.count >= 32
        else { throw Self.unwrapFailure(.pkcs1v15) }
        var synthetic = try HMACSHA256.mac(key: rejectionSecret, data: Array("cpk pkcs1v15 implicit rejection".utf8) + wrapped)
        defer { wipe(&synthetic) }
        var output = [UInt8](repeating: 0, count: length)
        block.withUnsafeBufferPointer { em in
            synthetic.withUnsafeBufferPointer { fallback in
                output.withUnsafeMutableBufferPointer { out in
                    cpk_pkcs1v15_select(em.baseAddress, em.count, fallback.baseAddress, length, out.baseAddress)
                }
            }
        }
        return output
    }
}

/// A decryption context without padding: the raw RSA operation, for the implicit-rejection check.
private func withRawContext<T>(_ key: EVPKey, _ body: (OpaquePointer) throws -> T) throws -> T {
    guard let context = EVP_PKEY_CTX_new_from_pkey(nil, key.pointer, nil) else { throw OpenSSLError.failure("cannot set up RSA") }
    defer { EVP_PKEY_CTX_free(context) }
    guard EVP_PKEY_decrypt_init(context) == 1, EVP_PKEY_CTX_set_rsa_padding(context, RSA_NO_PADDING) == 1 else {
        throw OpenSSLError.failure("cannot set up RSA")
    }
    return try body(context)
}

private typealias CipherFunction = (
    OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<Int>?, UnsafePointer<UInt8>?, Int
) -> Int32

/// Makes an `EVP_PKEY_CTX` for `key`, initialises it for one direction and the padding, runs
/// `body`, and frees it.
private func withContext<T>(
    _ key: EVPKey, padding: KeyWrapPadding, initialise: (OpaquePointer?) -> Int32,
    _ body: (OpaquePointer) throws -> T
) throws -> T {
    guard let context = EVP_PKEY_CTX_new_from_pkey(nil, key.pointer, nil) else {
        throw OpenSSLError.failure("cannot set up RSA")
    }
    defer { EVP_PKEY_CTX_free(context) }
    guard initialise(context) == 1 else { throw OpenSSLError.failure("cannot set up RSA") }
    try padding.configure(context)
    return try body(context)
}

/// Calls an EVP encrypt/decrypt function twice: once for the output size, once for the bytes.
/// - Parameter operation: how a token's refusal names it ("decryption").
private func runCipher(_ context: OpaquePointer, input: [UInt8], what: String, operation: String, _ function: CipherFunction) throws
    -> [UInt8]
{
    var size = 0
    guard input.withUnsafeBufferPointer({ function(context, nil, &size, $0.baseAddress, $0.count) }) == 1 else {
        throw OpenSSLError.failure("cannot \(what)")
    }
    var output = [UInt8](repeating: 0, count: size)
    let status = output.withUnsafeMutableBufferPointer { out in
        input.withUnsafeBufferPointer { function(context, out.baseAddress, &size, $0.baseAddress, $0.count) }
    }
    guard status == 1 else {
        wipe(&output)
        // A token that will not use its key so says it in a PKCS#11 return value: that is a
        // key that does not fit the operation, not a wrong key or padding.
        let codes = OpenSSLError.takeQueue()
        if let refused = TokenKeys.refusedReturnValue(in: codes) {
            throw TokenKeys.refusal(operation, underlying: CPKError.io("PKCS#11 \(refused)"))
        }
        throw OpenSSLError.failure("cannot \(what)", codes: codes)
    }
    output.removeSubrange(size...)  // in place: no second copy of a secret
    return output
}

/// Random bytes from OpenSSL's CSPRNG.
public enum SecureRandom {
    public static func bytes(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard count <= Int(Int32.max),
            out.withUnsafeMutableBufferPointer({ RAND_bytes($0.baseAddress, Int32(count)) }) == 1
        else { throw OpenSSLError.failure("cannot get random bytes") }
        return out
    }
}
