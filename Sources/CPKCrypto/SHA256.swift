import COpenSSL
import CPKCore

/// HMAC-SHA-256 (RFC 2104) over OpenSSL: deriving one secret from another.
public enum HMACSHA256 {
    public static func mac(key: [UInt8], data: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: SHA256Hasher.digestSize)
        var size: UInt32 = 0
        let done = key.withUnsafeBufferPointer { secret in
            data.withUnsafeBufferPointer { message in
                out.withUnsafeMutableBufferPointer {
                    HMAC(EVP_sha256(), secret.baseAddress, Int32(secret.count), message.baseAddress, message.count, $0.baseAddress, &size)
                }
            }
        }
        guard done != nil, size == UInt32(SHA256Hasher.digestSize) else { throw OpenSSLError.failure("cannot compute HMAC-SHA-256") }
        return out
    }
}

/// Streaming SHA-256 over OpenSSL's EVP digest API.
public final class SHA256Hasher {
    public static let digestSize = 32
    private let context: OpaquePointer

    public init() throws {
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLError.failure("cannot allocate a digest context") }
        self.context = context
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            EVP_MD_CTX_free(context)
            throw OpenSSLError.failure("cannot start SHA-256")
        }
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        // EVP_DigestUpdate cannot fail for SHA-256 on an initialised context.
        EVP_DigestUpdate(context, base, bytes.count)
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything passed to `update`. The hasher cannot be used afterwards.
    public func finalize() throws -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Self.digestSize)
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1, length == UInt32(Self.digestSize) else {
            throw OpenSSLError.failure("cannot finish SHA-256")
        }
        return digest
    }

    /// SHA-256 of a byte array, in one call.
    public static func digest(_ bytes: [UInt8]) throws -> [UInt8] {
        let hasher = try SHA256Hasher()
        hasher.update(bytes)
        return try hasher.finalize()
    }
}

/// Turns OpenSSL's error queue into a `CPKError` message.
public enum OpenSSLError {
    public static func failure(_ what: String) -> CPKError {
        failure(what, codes: takeQueue())
    }

    /// The error for `what` with OpenSSL's reasons for `codes` (taken from the queue). Where a
    /// token said, in a PKCS#11 return value, that it will not use the key so, the error says
    /// so in its reason (`.tokenMechanism`), for the caller to decide on; not in its text only.
    static func failure(_ what: String, codes: [UInt]) -> CPKError {
        let reasons = codes.map { code in
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let message = reasons.isEmpty ? what : "\(what): \(reasons.joined(separator: "; "))"
        return CPKError(.io, message, reason: TokenKeys.refusedReturnValue(in: codes) == nil ? nil : .tokenMechanism)
    }

    /// This thread's error queue, oldest first, emptied.
    static func takeQueue() -> [UInt] {
        var codes: [UInt] = []
        while case let code = ERR_get_error(), code != 0 { codes.append(code) }
        return codes
    }
}
