import COpenSSL
import CPKCore

/// The smallest RSA modulus accepted for wrapping: what the reference system uses, and the
/// floor of current guidance (NIST SP 800-131A).
public let minimumRSABits = 2048

/// An RSA public key that can wrap keys, read from any of the forms the system meets.
public struct PublicKey: Sendable {
    let key: EVPKey
    /// Modulus size in bits.
    public let bits: Int
    /// DER `SubjectPublicKeyInfo`: what the cloud contracts send, and what the fingerprint covers.
    public let subjectPublicKeyInfoDER: [UInt8]

    /// Reads a public key, recognising its form: PEM or DER `SubjectPublicKeyInfo`, DER or PEM
    /// `RSAPublicKey` (PKCS#1, what the Package Manager exports), an X.509 certificate (PEM or
    /// DER), or base64 of any of those DER forms (what cloud contracts carry).
    public init(loading bytes: [UInt8]) throws {
        let (key, what) = try PublicKeyForms.decode(bytes)
        try self.init(adopting: key, from: what)
    }

    /// Like `init(loading:)`, and also takes a private key (PEM or DER), keeping its public half.
    public init(loadingPublicOrPrivate bytes: [UInt8]) throws {
        if RSAPrivateKey.looksPrivate(bytes) {
            self = try RSAPrivateKey(loading: bytes).publicKey
        } else {
            try self.init(loading: bytes)
        }
    }

    /// Takes ownership of `key` after checking it is an RSA key that can wrap.
    init(adopting key: EVPKey, from what: String) throws {
        try checkWrappingKey(key, what: what)
        self.key = key
        bits = Int(EVP_PKEY_get_bits(key.pointer))
        subjectPublicKeyInfoDER = try derEncode("the public key") { i2d_PUBKEY(key.pointer, $0) }
    }

    static func decodeSPKI(_ der: [UInt8]) throws -> EVPKey {
        guard let (pointer, all) = derDecode(der, { d2i_PUBKEY(nil, $0, $1) }) else {
            throw CPKError.invalid("not a DER SubjectPublicKeyInfo")
        }
        let key = EVPKey(pointer)
        guard all else { throw CPKError.invalid("unexpected bytes after the SubjectPublicKeyInfo") }
        return key
    }

    static func decodePKCS1(_ der: [UInt8]) throws -> EVPKey {
        guard let (pointer, all) = derDecode(der, { d2i_PublicKey(EVP_PKEY_RSA, nil, $0, $1) }) else {
            throw CPKError.invalid("not a DER RSAPublicKey")
        }
        let key = EVPKey(pointer)
        guard all else { throw CPKError.invalid("unexpected bytes after the RSAPublicKey") }
        return key
    }

    static func decodeCertificate(_ der: [UInt8]) throws -> EVPKey {
        guard let (certificate, all) = derDecode(der, { d2i_X509(nil, $0, $1) }) else {
            throw CPKError.invalid("not a DER X.509 certificate")
        }
        defer { X509_free(certificate) }
        guard all else { throw CPKError.invalid("unexpected bytes after the certificate") }
        guard let key = X509_get_pubkey(certificate) else {
            throw CPKError.invalid("the certificate's public key cannot be read (an algorithm OpenSSL does not know?)")
        }
        return EVPKey(key)
    }

    /// Size in bytes of the modulus, and so of every key wrapped to it.
    public var modulusBytes: Int { (bits + 7) / 8 }

    /// SHA-256 of the DER SubjectPublicKeyInfo: names the key pair a wrapped key belongs to.
    public var fingerprint: [UInt8] {
        get throws { try SHA256Hasher.digest(subjectPublicKeyInfoDER) }
    }

    /// The RSA public exponent, or nil when it does not fit in 64 bits (a hostile key: a huge
    /// exponent makes every encryption to it slow) or cannot be read.
    public var publicExponent: UInt64? {
        var exponent: OpaquePointer? = nil
        // "e" is OSSL_PKEY_PARAM_RSA_E, a macro of core_names.h that Swift does not import.
        guard EVP_PKEY_get_bn_param(key.pointer, "e", &exponent) == 1, let exponent else {
            ERR_clear_error()
            return nil
        }
        defer { BN_free(exponent) }
        guard BN_num_bits(exponent) <= 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 8)
        guard BN_bn2binpad(exponent, &bytes, 8) == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// DER `RSAPublicKey` (PKCS#1), the form the Package Manager exports.
    public func pkcs1DER() throws -> [UInt8] {
        try derEncode("the RSA public key") { i2d_PublicKey(key.pointer, $0) }
    }

    /// PEM `PUBLIC KEY` (SubjectPublicKeyInfo), what `openssl pkey -pubin` reads.
    public func pem() throws -> String {
        try PEMBlock.encode(label: "PUBLIC KEY", der: subjectPublicKeyInfoDER)
    }

    /// PEM `RSA PUBLIC KEY` (PKCS#1).
    public func pkcs1PEM() throws -> String {
        try PEMBlock.encode(label: "RSA PUBLIC KEY", der: try pkcs1DER())
    }
}

/// Rejects keys that cannot wrap: not RSA (EC, Ed25519, RSA-PSS-restricted), or too small.
func checkWrappingKey(_ key: EVPKey, what: String) throws {
    let type = EVP_PKEY_get_base_id(key.pointer)
    guard type == EVP_PKEY_RSA else {
        let name = EVP_PKEY_get0_type_name(key.pointer).map { String(cString: $0) } ?? "unknown"
        let hint = type == EVP_PKEY_RSA_PSS ? " (an RSA-PSS key is restricted to signatures)" : ""
        throw CPKError.invalid("\(what) is not RSA (type \(name))\(hint); wrapping needs an RSA key of at least \(minimumRSABits) bits")
    }
    let bits = Int(EVP_PKEY_get_bits(key.pointer))
    guard bits >= minimumRSABits else {
        throw CPKError.invalid("\(what) is a \(bits)-bit RSA key; wrapping needs at least \(minimumRSABits) bits")
    }
}

/// An RSA private key: makes wrapping key pairs and unwraps keys wrapped to its public half.
public struct RSAPrivateKey: Sendable {
    let key: EVPKey

    public static let generatableSizes = [2048, 3072, 4096]

    /// A fresh key pair from OpenSSL's default random generator.
    public static func generate(bits: Int) throws -> RSAPrivateKey {
        guard generatableSizes.contains(bits) else {
            throw CPKError.usage("RSA key size must be one of \(generatableSizes.map(String.init).joined(separator: ", ")) bits")
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else {
            throw OpenSSLError.failure("cannot set up RSA key generation")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var pointer: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(context) == 1,
            EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)) == 1,
            EVP_PKEY_generate(context, &pointer) == 1, let pointer
        else { throw OpenSSLError.failure("cannot generate an RSA key pair") }
        return RSAPrivateKey(key: EVPKey(pointer))
    }

    init(key: EVPKey) { self.key = key }

    /// Reads a private key: PEM PKCS#8 (`PRIVATE KEY`) or traditional (`RSA PRIVATE KEY`), or
    /// the same in DER. Encrypted keys are refused: nothing here may prompt for a passphrase.
    public init(loading bytes: [UInt8]) throws {
        var der: [UInt8]
        if looksLikePEM(bytes) {
            guard let block = try PEMBlock.first(in: bytes) else {
                throw CPKError.invalid("the PEM text holds no readable block (damaged base64 or a missing END line?)")
            }
            guard !block.isEncrypted else {
                throw CPKError.invalid(
                    "the private key is encrypted; decrypt it to a 0600 file first (openssl pkey -in KEY -out PLAIN)")
            }
            guard block.label == "PRIVATE KEY" || block.label == "RSA PRIVATE KEY" else {
                throw CPKError.invalid("a PEM \"\(block.label)\" block is not an RSA private key")
            }
            der = block.der
        } else {
            der = bytes
        }
        defer { wipe(&der) }
        guard let (pointer, all) = derDecode(der, { d2i_AutoPrivateKey(nil, $0, $1) }) else {
            ERR_clear_error()
            throw CPKError.invalid("not a private key: expected PEM or DER, PKCS#8 or traditional RSA")
        }
        let key = EVPKey(pointer)
        guard all else { throw CPKError.invalid("unexpected bytes after the private key") }
        try checkWrappingKey(key, what: "the private key")
        self.key = key
    }

    /// True when `bytes` hold a PEM private key block, or DER that parses as one.
    static func looksPrivate(_ bytes: [UInt8]) -> Bool {
        if looksLikePEM(bytes) {
            guard let block = try? PEMBlock.first(in: bytes) else { return false }
            return block.label.contains("PRIVATE KEY")
        }
        guard let (pointer, _) = derDecode(bytes, { d2i_AutoPrivateKey(nil, $0, $1) }) else {
            ERR_clear_error()
            return false
        }
        EVP_PKEY_free(pointer)
        return true
    }

    public var bits: Int { Int(EVP_PKEY_get_bits(key.pointer)) }

    /// The private key as unencrypted PEM PKCS#8: store it only in a 0600 file.
    public func pem() throws -> [UInt8] {
        let bio = try MemoryBIO(secure: true)
        guard PEM_write_bio_PrivateKey(bio.pointer, key.pointer, nil, nil, 0, nil, nil) == 1 else {
            throw OpenSSLError.failure("cannot write the private key")
        }
        return try bio.contents()
    }

    /// The public half.
    public var publicKey: PublicKey {
        get throws {
            let spki = try derEncode("the public key") { i2d_PUBKEY(key.pointer, $0) }
            return try PublicKey(adopting: try PublicKey.decodeSPKI(spki), from: "the public key")
        }
    }
}

/// Overwrites a buffer that held secret material before it is released. Best effort: Swift
/// may have made copies, but the obvious one does not linger.
public func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { raw in
        guard let base = raw.baseAddress else { return }
        OPENSSL_cleanse(base, raw.count)  // a memset the optimiser cannot drop
    }
}

/// The same for a raw buffer (one that held plaintext).
public func wipe(_ raw: UnsafeMutableRawBufferPointer) {
    guard let base = raw.baseAddress else { return }
    OPENSSL_cleanse(base, raw.count)
}
