import CPKAttestation
import CPKCore
import CPKCrypto
import CPKTPM

/// Where a state's device key pair is recorded to live, in `device-key.uri`: a PKCS#11 token's
/// key, or a TPM's persistent key reached through ESAPI.
public enum DeviceKeyReference: Sendable, Equatable, CustomStringConvertible {
    case pkcs11(PKCS11URI)
    case tpm(TPMKeyURI)

    /// `pkcs11:...` or `tpm:...`.
    public init(parsing text: String) throws {
        if text.hasPrefix(TPMKeyURI.scheme) {
            self = .tpm(try TPMKeyURI(parsing: text))
        } else {
            self = .pkcs11(try PKCS11URI(parsing: text))
        }
    }

    public var recorded: String {
        switch self {
        case .pkcs11(let uri): return uri.recorded
        case .tpm(let uri): return uri.recorded
        }
    }

    public var description: String { recorded }
}

/// The device key pair, wherever it lives: its public half, and the two unwraps of a class key.
enum DeviceKeyPair {
    /// A key OpenSSL holds (a file, or a PKCS#11 token's key behind libp11's engine).
    case evp(RSAPrivateKey)
    /// A TPM's persistent decrypt-only key: every unwrap is a TPM2_RSA_Decrypt.
    case tpm(TPMDeviceKey, PublicKey)

    var publicKey: PublicKey {
        get throws {
            switch self {
            case .evp(let key): return try key.publicKey
            case .tpm(_, let key): return key
            }
        }
    }

    /// The TPM's view of a TPM-held key, for a public key: its TPMT_PUBLIC as the EVP key.
    static func inTPM(_ key: TPMDeviceKey, create: Bool) throws -> DeviceKeyPair {
        let area = try key.publicArea(create: create)
        return .tpm(key, try PublicKey(loading: area.subjectPublicKeyInfoDER))
    }

    func unwrap(_ wrapped: [UInt8], padding: KeyWrapPadding) throws -> [UInt8] {
        switch self {
        case .evp(let key):
            return try key.unwrap(wrapped, padding: padding)
        case .tpm(let key, let publicKey):
            guard wrapped.count == publicKey.modulusBytes else { throw RSAPrivateKey.unwrapFailure(padding) }
            switch padding {
            case .oaepSHA256:
                do {
                    return try key.oaepDecrypt(wrapped)
                } catch let error as CPKError where error.reason == .tpmCommandFailed {
                    // The TPM's answer to a bad block is one error whatever was wrong: the same
                    // single answer as a software key's.
                    throw RSAPrivateKey.unwrapFailure(padding)
                }
            case .pkcs1v15:
                throw RSAPrivateKey.unwrapFailure(padding)  // only through unwrapPKCS1v15, with implicit rejection
            }
        }
    }

    func unwrapPKCS1v15(_ wrapped: [UInt8], length: Int, rejectionSecret: [UInt8]) throws -> [UInt8] {
        switch self {
        case .evp(let key):
            return try key.unwrapPKCS1v15(wrapped, length: length, rejectionSecret: rejectionSecret)
        case .tpm(let key, let publicKey):
            let modulusBytes = publicKey.modulusBytes
            guard wrapped.count == modulusBytes else { throw RSAPrivateKey.unwrapFailure(.pkcs1v15) }
            var raw: [UInt8]
            do {
                raw = try key.rawDecrypt(wrapped)
            } catch let error as CPKError where error.reason == .tpmCommandFailed {
                // Only a block not below the modulus fails here, which the sender already knows.
                throw RSAPrivateKey.unwrapFailure(.pkcs1v15)
            }
            defer { wipe(&raw) }
            guard raw.count <= modulusBytes else { throw RSAPrivateKey.unwrapFailure(.pkcs1v15) }
            // The block as long as the modulus: a TPM may drop the leading zero bytes.
            var block = [UInt8](repeating: 0, count: modulusBytes - raw.count) + raw
            defer { wipe(&block) }
            return try RSAPrivateKey.selectPKCS1v15(block: block, wrapped: wrapped, length: length, rejectionSecret: rejectionSecret)
        }
    }
}
