import ArgumentParser
import CPKCore
import CPKCrypto
import CPKKeys

#if canImport(Glibc)
import Glibc
#endif

/// How digests and detached signatures are written and read: raw bytes, hex or base64 text.
public enum DigestFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case raw
    case hex
    case base64

    public func encode(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .raw: return bytes
        case .hex: return Array((Hex.encode(bytes) + "\n").utf8)
        case .base64: return Array((Base64.encode(bytes) + "\n").utf8)
        }
    }

    public func decode(_ bytes: [UInt8], what: String) throws -> [UInt8] {
        switch self {
        case .raw: return bytes
        case .base64:
            guard let decoded = Base64.decode(bytes, ignoringWhitespace: true) else {
                throw CPKError.invalid("\(what) is not base64")
            }
            return decoded
        case .hex:
            guard let decoded = Hex.decode(bytes) else { throw CPKError.invalid("\(what) is not hexadecimal") }
            return decoded
        }
    }
}

/// Passphrases for encrypted private keys: from a file's first line or an environment
/// variable, never from the command line.
public enum Passphrase {
    public static func read(file: String?, environment name: String?) throws -> [UInt8]? {
        if file != nil && name != nil {
            throw CPKError.usage("give --passphrase-file or --passphrase-env, not both")
        }
        if let file {
            var bytes = try SmallInput.read(file, limit: 1 << 12, what: "the passphrase file")
            defer { wipe(&bytes) }
            return Array(bytes.prefix { $0 != 0x0A && $0 != 0x0D })
        }
        if let name {
            guard let value = getenv(name) else {
                throw CPKError.usage("the environment variable \(name) (--passphrase-env) is not set")
            }
            return Array(String(cString: value).utf8)
        }
        return nil
    }
}

/// The forms a public key is written in: PEM or DER SubjectPublicKeyInfo, PKCS#1 RSAPublicKey
/// (DER, what export_device_public_key returns, or PEM), base64 of the SubjectPublicKeyInfo
/// (for cloud contracts and device twins), or its SHA-256 fingerprint.
public enum PublicKeyFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case pem, der, pkcs1, pkcs1Pem = "pkcs1-pem", base64, fingerprint

    public func render(_ key: PublicKey) throws -> (bytes: [UInt8], binary: Bool) {
        switch self {
        case .pem: return (Array(try key.pem().utf8), false)
        case .der: return (key.subjectPublicKeyInfoDER, true)
        case .pkcs1: return (try key.pkcs1DER(), true)
        case .pkcs1Pem: return (Array(try key.pkcs1PEM().utf8), false)
        case .base64: return (Array((Base64.encode(key.subjectPublicKeyInfoDER) + "\n").utf8), false)
        case .fingerprint: return (Array((Hex.encode(try key.fingerprint) + "\n").utf8), false)
        }
    }
}
