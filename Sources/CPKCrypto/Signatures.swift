import COpenSSL
import CPKCore

// Signatures over a package's 32-byte SHA-256 digests (the payload digest stream, or the
// package digest stream), through OpenSSL's EVP API only.
//
// What each scheme signs, given the digest D:
//
//   rsa-pkcs1v15   RSASSA-PKCS1-v1_5 with SHA-256, D as the hash (DigestInfo of D): what the
//                  reference and the Package Manager use. Equals `openssl dgst -sha256 -sign`
//                  over the payload itself, and `openssl pkeyutl -sign -pkeyopt digest:sha256`
//                  over D.
//   rsa-pss        RSASSA-PSS with SHA-256, MGF1-SHA-256, salt length 32, D as the hash.
//   ecdsa-p256     ECDSA on P-256 with SHA-256, D as the hash.
//   ecdsa-p384     ECDSA on P-384 with SHA-384 over D (D is the message: SHA-384(D) is signed),
//                  as `openssl dgst -sha384 -sign` over a file holding D.
//   ed25519        Ed25519 (pure) with D as the message.
//
// ECDSA signatures are stored as fixed-size raw r‖s (64 or 96 bytes), so a signature stream's
// size is known before signing; OpenSSL makes and takes DER, and the conversion is here.

/// A signature scheme of the `.cpk` format, by its manifest name.
public enum SignatureScheme: String, CaseIterable, Sendable {
    case rsaPKCS1v15 = "rsa-pkcs1v15"
    case rsaPSS = "rsa-pss"
    case ecdsaP256 = "ecdsa-p256"
    case ecdsaP384 = "ecdsa-p384"
    case ed25519 = "ed25519"

    // The one table of schemes: what each does, the openssl command that makes its signature
    // offline, and its size. `cpk-sign prepare --help` is generated from it, and the man page
    // and README are checked against that help (Tests/e2e/test_docs.py), so a change here is
    // a change everywhere or a failing test.

    /// What the scheme does to the digest, in words, for messages.
    public var summary: String {
        switch self {
        case .rsaPKCS1v15: return "RSA PKCS#1 v1.5 signature with SHA-256 over the 32-byte digest (DigestInfo)"
        case .rsaPSS: return "RSA-PSS signature with SHA-256, MGF1-SHA-256 and a 32-byte salt over the 32-byte digest"
        case .ecdsaP256: return "ECDSA P-256 signature with SHA-256, the 32-byte digest as the hash"
        case .ecdsaP384: return "ECDSA P-384 signature with SHA-384 over the 32-byte digest"
        case .ed25519: return "Ed25519 signature of the 32-byte digest"
        }
    }

    /// The placeholders of `opensslArguments`: the private key file and the digest file.
    public static let keyPlaceholder = "K"
    public static let digestPlaceholder = "D"

    /// The arguments of `openssl` that sign the digest file `D` with the private key `K`
    /// (signature on standard output, or add `-out FILE`). MGF1-SHA-256 is OpenSSL's default
    /// for PSS with SHA-256, but it is spelled out so the command does not depend on that.
    public var opensslArguments: [String] {
        let (k, d) = (Self.keyPlaceholder, Self.digestPlaceholder)
        switch self {
        case .rsaPKCS1v15, .ecdsaP256:
            return ["pkeyutl", "-sign", "-inkey", k, "-pkeyopt", "digest:sha256", "-in", d]
        case .rsaPSS:
            return ["pkeyutl", "-sign", "-inkey", k, "-pkeyopt", "digest:sha256", "-pkeyopt", "rsa_padding_mode:pss",
                    "-pkeyopt", "rsa_pss_saltlen:digest", "-pkeyopt", "rsa_mgf1_md:sha256", "-in", d]
        case .ecdsaP384: return ["pkeyutl", "-sign", "-inkey", k, "-rawin", "-digest", "sha384", "-in", d]
        case .ed25519: return ["pkeyutl", "-sign", "-inkey", k, "-rawin", "-in", d]
        }
    }

    /// How to make such a signature with the openssl command line, given the digest in a file:
    /// `opensslArguments` with the placeholders replaced.
    public func opensslCommand(key: String = keyPlaceholder, digest: String = digestPlaceholder) -> String {
        let arguments = opensslArguments.map {
            $0 == Self.keyPlaceholder ? key : $0 == Self.digestPlaceholder ? digest : $0
        }
        return (["openssl"] + arguments).joined(separator: " ")
    }

    /// The command with the placeholders, for messages.
    public var opensslCommand: String { opensslCommand() }

    /// The signature's size for a key of `bits` (RSA: the modulus size), fixed for the others.
    public func signatureSize(keyBits bits: Int) -> Int {
        switch self {
        case .rsaPKCS1v15, .rsaPSS: return (bits + 7) / 8
        case .ecdsaP256, .ed25519: return 64
        case .ecdsaP384: return 96
        }
    }

    /// `signatureSize(keyBits:)` in words, for help text.
    public var signatureSizeRule: String {
        switch self {
        case .rsaPKCS1v15, .rsaPSS: return "the RSA modulus size (256 bytes for RSA-2048)"
        case .ecdsaP256: return "64 bytes (raw r||s)"
        case .ecdsaP384: return "96 bytes (raw r||s)"
        case .ed25519: return "64 bytes"
        }
    }

    /// The table of openssl commands, one scheme a line (`name  command`), each command
    /// broken at spaces with a trailing backslash, shell-style, so no line is wider than
    /// `width`: help text is re-wrapped at 80 columns by ArgumentParser, and a command it
    /// broke would not be the one to paste.
    public static func opensslTable(width: Int = 76, indent: String = "  ", continuation: String = "    ") -> [String] {
        let column = (allCases.map(\.rawValue.count).max() ?? 0) + 2
        var lines: [String] = []
        for scheme in allCases {
            var line = indent + scheme.rawValue + String(repeating: " ", count: column - scheme.rawValue.count)
            // Break between options, never between an option and its value.
            var units: [String] = []
            for word in scheme.opensslCommand.split(separator: " ").map(String.init) {
                if let last = units.last, last.hasPrefix("-"), !last.contains(" "), !word.hasPrefix("-") {
                    units[units.count - 1] += " " + word
                } else {
                    units.append(word)
                }
            }
            for (index, unit) in units.enumerated() {
                // Room for the " \\" of a continuation, unless this is the last unit.
                let reserve = index == units.count - 1 ? 0 : 2
                if index > 0 && line.count + 1 + unit.count + reserve > width {
                    lines.append(line + " \\")
                    line = indent + continuation + unit
                } else {
                    line += (index > 0 ? " " : "") + unit
                }
            }
            lines.append(line)
        }
        return lines
    }

    /// The signature sizes, one sentence, for help text.
    public static var signatureSizeSentence: String {
        "Signature sizes: " + allCases.map { "\($0.rawValue) \($0.signatureSizeRule)" }.joined(separator: "; ") + "."
    }

    var isRSA: Bool { self == .rsaPKCS1v15 || self == .rsaPSS }
}

/// The kind of an asymmetric key, as far as signing is concerned.
public enum SigningKeyType: Sendable, Equatable, CustomStringConvertible {
    case rsa(bits: Int)
    /// An RSA key restricted to PSS (id-RSASSA-PSS).
    case rsaPSS(bits: Int)
    case ecP256
    case ecP384
    case ed25519
    /// A key these schemes cannot use; the text names it.
    case unsupported(String)

    public var description: String {
        switch self {
        case .rsa(let bits): return "\(bits)-bit RSA"
        case .rsaPSS(let bits): return "\(bits)-bit RSA-PSS"
        case .ecP256: return "EC P-256"
        case .ecP384: return "EC P-384"
        case .ed25519: return "Ed25519"
        case .unsupported(let name): return name
        }
    }

    /// The scheme a key of this type signs with unless told otherwise.
    public var defaultScheme: SignatureScheme? {
        switch self {
        case .rsa: return .rsaPKCS1v15
        case .rsaPSS: return .rsaPSS
        case .ecP256: return .ecdsaP256
        case .ecP384: return .ecdsaP384
        case .ed25519: return .ed25519
        case .unsupported: return nil
        }
    }

    /// The modulus size of an RSA key, the field size in bits otherwise.
    public var bits: Int {
        switch self {
        case .rsa(let bits), .rsaPSS(let bits): return bits
        case .ecP256, .ed25519: return 256
        case .ecP384: return 384
        case .unsupported: return 0
        }
    }

    func fits(_ scheme: SignatureScheme) -> Bool {
        switch (self, scheme) {
        case (.rsa, .rsaPKCS1v15), (.rsa, .rsaPSS), (.rsaPSS, .rsaPSS), (.ecP256, .ecdsaP256),
            (.ecP384, .ecdsaP384), (.ed25519, .ed25519):
            return true
        default:
            return false
        }
    }

    init(of key: EVPKey) {
        let bits = Int(EVP_PKEY_get_bits(key.pointer))
        switch EVP_PKEY_get_base_id(key.pointer) {
        case EVP_PKEY_RSA: self = .rsa(bits: bits)
        case EVP_PKEY_RSA_PSS: self = .rsaPSS(bits: bits)
        case EVP_PKEY_ED25519: self = .ed25519
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            _ = EVP_PKEY_get_group_name(key.pointer, &name, name.count, &length)
            let group = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            switch group {
            case "prime256v1", "P-256", "secp256r1": self = .ecP256
            case "secp384r1", "P-384": self = .ecP384
            default: self = .unsupported("EC \(group.isEmpty ? "on an unnamed curve" : group)")
            }
        default:
            let name = EVP_PKEY_get0_type_name(key.pointer).map { String(cString: $0) } ?? "unknown"
            self = .unsupported("a \(name) key")
        }
    }
}

/// A public key that checks signatures: RSA, EC P-256/P-384 or Ed25519.
public struct VerifyingKey: Sendable {
    let key: EVPKey
    public let type: SigningKeyType
    /// DER `SubjectPublicKeyInfo`, what fingerprints and comparisons cover.
    public let subjectPublicKeyInfoDER: [UInt8]

    /// Reads a public key in any form the system meets: PEM or DER `SubjectPublicKeyInfo`,
    /// PEM or DER `RSAPublicKey` (PKCS#1), an X.509 certificate (PEM or DER; its key), or base64
    /// of a DER form.
    public init(loading bytes: [UInt8]) throws {
        try self.init(adopting: try PublicKeyForms.decode(bytes).key)
    }

    init(adopting key: EVPKey) throws {
        self.key = key
        type = SigningKeyType(of: key)
        subjectPublicKeyInfoDER = try derEncode("the public key") { i2d_PUBKEY(key.pointer, $0) }
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo.
    public var fingerprint: [UInt8] {
        get throws { try SHA256Hasher.digest(subjectPublicKeyInfoDER) }
    }

    /// PEM `PUBLIC KEY`.
    public func pem() throws -> String {
        try PEMBlock.encode(label: "PUBLIC KEY", der: subjectPublicKeyInfoDER)
    }

    /// True when both are the same public key.
    public func isSameKey(as other: VerifyingKey) -> Bool {
        EVP_PKEY_eq(key.pointer, other.key.pointer) == 1
    }

    /// The size a signature of `scheme` by this key has.
    public func signatureSize(for scheme: SignatureScheme) -> Int {
        scheme.signatureSize(keyBits: type.bits)
    }

    /// Refuses a scheme this key cannot check or make, naming both.
    public func requireFit(_ scheme: SignatureScheme) throws {
        guard type.fits(scheme) else {
            throw CPKError.invalid("a \(type) key cannot be used for \(scheme.rawValue) signatures")
        }
    }

    /// True when `signature` is a valid `scheme` signature of `digest` (32 bytes) by this key.
    /// A signature of the wrong size is simply not valid. Throws only when the key does not fit
    /// the scheme or the digest is not a SHA-256 digest.
    public func verify(signature: [UInt8], digest: [UInt8], scheme: SignatureScheme) throws -> Bool {
        try requireFit(scheme)
        try requireDigest(digest)
        guard signature.count == signatureSize(for: scheme) else { return false }
        defer { ERR_clear_error() }  // a bad signature leaves reasons nobody needs
        switch scheme {
        case .rsaPKCS1v15, .rsaPSS:
            return try verifyPrehashed(signature, hash: digest, hashFunction: EVP_sha256(), scheme: scheme)
        case .ecdsaP256, .ecdsaP384:
            guard let der = ECDSASignature.der(fromRaw: signature) else { return false }
            let (hash, function) = try ecdsaHash(digest, scheme: scheme)
            return try verifyPrehashed(der, hash: hash, hashFunction: function, scheme: scheme)
        case .ed25519:
            return try verifyEd25519(signature, message: digest)
        }
    }

    private func verifyPrehashed(
        _ signature: [UInt8], hash: [UInt8], hashFunction: OpaquePointer?, scheme: SignatureScheme,
        pssSalt: String = "digest"
    ) throws -> Bool {
        try withKeyContext(key, EVP_PKEY_verify_init, scheme: scheme, hashFunction: hashFunction, pssSalt: pssSalt) {
            context in
            EVP_PKEY_verify(context, signature, signature.count, hash, hash.count) == 1
        }
    }

    private func verifyEd25519(_ signature: [UInt8], message: [UInt8]) throws -> Bool {
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLError.failure("cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit_ex(context, nil, nil, nil, nil, key.pointer, nil) == 1 else {
            throw OpenSSLError.failure("cannot set up Ed25519 verification")
        }
        return EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
    }

    /// When `signature` is not a valid `scheme` signature, a guess at the mistake behind it, as
    /// one phrase: another scheme, another PSS salt length, the raw digest signed without its
    /// DigestInfo, or a digest hashed once more. Nil when no guess fits (a wrong key, usually).
    public func diagnose(signature: [UInt8], digest: [UInt8], expected scheme: SignatureScheme) -> String? {
        defer { ERR_clear_error() }
        for other in SignatureScheme.allCases where other != scheme && type.fits(other) {
            if (try? verify(signature: signature, digest: digest, scheme: other)) == true {
                return "it is a valid \(other.rawValue) signature, not \(scheme.rawValue)"
            }
        }
        guard signature.count == signatureSize(for: scheme) else {
            return "it is \(signature.count) bytes, but a \(scheme.rawValue) signature by this key is "
                + "\(signatureSize(for: scheme)) bytes"
        }
        if scheme.isRSA, let rehashed = try? SHA256Hasher.digest(digest),
            (try? verify(signature: signature, digest: rehashed, scheme: scheme)) == true
        {
            return "it signs SHA-256 of the digest: the digest was hashed again (e.g. openssl dgst over the digest file)"
        }
        if scheme.isRSA,
            (try? verifyPrehashed(signature, hash: digest, hashFunction: EVP_sha256(), scheme: .rsaPSS, pssSalt: "auto"))
                == true
        {
            return scheme == .rsaPSS
                ? "it is RSA-PSS with another salt length; the salt must be 32 bytes (-pkeyopt rsa_pss_saltlen:digest)"
                : "it has RSA-PSS padding, but PKCS#1 v1.5 padding is expected (drop rsa_padding_mode:pss)"
        }
        if scheme == .rsaPKCS1v15,
            (try? verifyPrehashed(signature, hash: digest, hashFunction: nil, scheme: scheme)) == true
        {
            return "it signs the bare digest without the SHA-256 DigestInfo (add -pkeyopt digest:sha256)"
        }
        return nil
    }
}

/// A private key that makes signatures: RSA (at least 2048 bits), EC P-256/P-384 or Ed25519.
public struct SigningKey: Sendable {
    let key: EVPKey
    public let type: SigningKeyType

    /// The smallest RSA key that may sign: current guidance (NIST SP 800-131A).
    public static let minimumRSABits = 2048

    /// Reads a private key: PEM PKCS#8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`) or traditional
    /// (`RSA PRIVATE KEY`, `EC PRIVATE KEY`, encrypted with a `Proc-Type` header), or unencrypted
    /// or encrypted PKCS#8 DER. An encrypted key needs `passphrase`; nothing ever prompts.
    public init(loading bytes: [UInt8], passphrase: [UInt8]?) throws {
        var outcome = PassphraseOutcome(passphrase: passphrase)
        let pointer = try bytes.withUnsafeBytes { raw -> OpaquePointer? in
            let bio = try MemoryBIO(readingFrom: raw)
            return withUnsafeMutablePointer(to: &outcome) { context in
                if looksLikePEM(bytes) {
                    return PEM_read_bio_PrivateKey(bio.pointer, nil, passphraseCallback, context)
                }
                if let (plain, all) = derDecode(bytes, { d2i_AutoPrivateKey(nil, $0, $1) }) {
                    guard all else {
                        EVP_PKEY_free(plain)
                        return nil
                    }
                    return plain
                }
                return d2i_PKCS8PrivateKey_bio(bio.pointer, nil, passphraseCallback, context)
            }
        }
        guard let pointer else {
            ERR_clear_error()
            throw outcome.failure
        }
        let key = EVPKey(pointer)
        self.key = key
        type = SigningKeyType(of: key)
        try requireSigningStrength()
    }

    init(adopting key: EVPKey) throws {
        self.key = key
        type = SigningKeyType(of: key)
    }

    func requireSigningStrength() throws {
        switch type {
        case .rsa(let bits), .rsaPSS(let bits):
            guard bits >= Self.minimumRSABits else {
                throw CPKError.invalid("the signing key is a \(bits)-bit RSA key; signing needs at least \(Self.minimumRSABits) bits")
            }
        case .unsupported(let name):
            throw CPKError.invalid("the signing key is \(name); signing takes RSA, EC P-256, EC P-384 or Ed25519")
        default:
            return
        }
    }

    /// A fresh key pair, e.g. for tests and demos.
    public static func generate(_ type: SigningKeyType) throws -> SigningKey {
        let (algorithm, setting): (String, (OpaquePointer) -> Int32) =
            switch type {
            case .rsa(let bits): ("RSA", { EVP_PKEY_CTX_set_rsa_keygen_bits($0, Int32(bits)) })
            case .rsaPSS(let bits): ("RSA-PSS", { EVP_PKEY_CTX_set_rsa_keygen_bits($0, Int32(bits)) })
            case .ecP256: ("EC", { EVP_PKEY_CTX_set_group_name($0, "P-256") })
            case .ecP384: ("EC", { EVP_PKEY_CTX_set_group_name($0, "P-384") })
            case .ed25519: ("ED25519", { _ in 1 })
            case .unsupported(let name): throw CPKError.usage("cannot generate \(name)")
            }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, algorithm, nil) else {
            throw OpenSSLError.failure("cannot set up \(type) key generation")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var pointer: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(context) == 1, setting(context) == 1, EVP_PKEY_generate(context, &pointer) == 1,
            let pointer
        else { throw OpenSSLError.failure("cannot generate a \(type) key pair") }
        let key = try SigningKey(adopting: EVPKey(pointer))
        try key.requireSigningStrength()
        return key
    }

    /// The key as unencrypted PEM PKCS#8: store it only in a 0600 file.
    public func pem() throws -> [UInt8] {
        let bio = try MemoryBIO(secure: true)
        guard PEM_write_bio_PrivateKey(bio.pointer, key.pointer, nil, nil, 0, nil, nil) == 1 else {
            throw OpenSSLError.failure("cannot write the private key")
        }
        return try bio.contents()
    }

    /// The public half.
    public var verifyingKey: VerifyingKey {
        get throws {
            let spki = try derEncode("the public key") { i2d_PUBKEY(key.pointer, $0) }
            return try VerifyingKey(adopting: try PublicKey.decodeSPKI(spki))
        }
    }

    /// Signs a 32-byte SHA-256 digest with `scheme` (see the top of this file for what each
    /// scheme signs). ECDSA signatures come back as raw r‖s, fixed-size.
    public func sign(digest: [UInt8], scheme: SignatureScheme) throws -> [UInt8] {
        guard type.fits(scheme) else {
            throw CPKError.usage("a \(type) key cannot make \(scheme.rawValue) signatures")
        }
        try requireDigest(digest)
        do {
            return try signChecked(digest: digest, scheme: scheme)
        } catch let error as CPKError where error.kind == .io && error.reason == .tokenMechanism {
            // The token said, in a PKCS#11 return value, that it will not use this key so; any
            // other failure (a token gone, a device error) stays what it is.
            throw TokenKeys.refusal(scheme.rawValue, underlying: error)
        }
    }

    private func signChecked(digest: [UInt8], scheme: SignatureScheme) throws -> [UInt8] {
        switch scheme {
        case .rsaPKCS1v15, .rsaPSS:
            return try signPrehashed(digest, hashFunction: EVP_sha256(), scheme: scheme)
        case .ecdsaP256, .ecdsaP384:
            let (hash, function) = try ecdsaHash(digest, scheme: scheme)
            let der = try signPrehashed(hash, hashFunction: function, scheme: scheme)
            guard let raw = ECDSASignature.raw(fromDER: der, scheme: scheme) else {
                throw OpenSSLError.failure("cannot convert the ECDSA signature to r‖s")
            }
            return raw
        case .ed25519:
            return try signEd25519(digest)
        }
    }

    private func signPrehashed(_ hash: [UInt8], hashFunction: OpaquePointer?, scheme: SignatureScheme) throws
        -> [UInt8]
    {
        try withKeyContext(key, EVP_PKEY_sign_init, scheme: scheme, hashFunction: hashFunction, pssSalt: "digest") {
            context in
            var size = 0
            guard EVP_PKEY_sign(context, nil, &size, hash, hash.count) == 1 else {
                throw OpenSSLError.failure("cannot sign (\(scheme.rawValue))")
            }
            var signature = [UInt8](repeating: 0, count: size)
            guard EVP_PKEY_sign(context, &signature, &size, hash, hash.count) == 1 else {
                throw OpenSSLError.failure("cannot sign (\(scheme.rawValue))")
            }
            return Array(signature.prefix(size))
        }
    }

    private func signEd25519(_ message: [UInt8]) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLError.failure("cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        var size = 64
        var signature = [UInt8](repeating: 0, count: size)
        guard EVP_DigestSignInit_ex(context, nil, nil, nil, nil, key.pointer, nil) == 1,
            EVP_DigestSign(context, &signature, &size, message, message.count) == 1, size == 64
        else { throw OpenSSLError.failure("cannot sign (ed25519)") }
        return signature
    }
}

// MARK: - Shared machinery

private func requireDigest(_ digest: [UInt8]) throws {
    guard digest.count == SHA256Hasher.digestSize else {
        throw CPKError.invalid("a signed digest is a 32-byte SHA-256 digest, this one is \(digest.count) bytes")
    }
}

/// The hash an ECDSA scheme hands to the signature primitive: the digest itself for P-256
/// (it already is a SHA-256 value), SHA-384 of the digest for P-384.
private func ecdsaHash(_ digest: [UInt8], scheme: SignatureScheme) throws -> ([UInt8], OpaquePointer?) {
    guard scheme == .ecdsaP384 else { return (digest, EVP_sha256()) }
    var hash = [UInt8](repeating: 0, count: 48)
    var length: UInt32 = 0
    guard EVP_Digest(digest, digest.count, &hash, &length, EVP_sha384(), nil) == 1, length == 48 else {
        throw OpenSSLError.failure("cannot compute SHA-384")
    }
    return (hash, EVP_sha384())
}

/// Runs `body` with an `EVP_PKEY_CTX` set up for one prehashed sign or verify operation: the
/// hash function (nil for none: a bare RSA PKCS#1 v1.5 block) and, for RSA, the padding.
private func withKeyContext<T>(
    _ key: EVPKey, _ initialise: (OpaquePointer?) -> Int32, scheme: SignatureScheme, hashFunction: OpaquePointer?,
    pssSalt: String, _ body: (OpaquePointer) throws -> T
) throws -> T {
    guard let context = EVP_PKEY_CTX_new_from_pkey(nil, key.pointer, nil) else {
        throw OpenSSLError.failure("cannot set up \(scheme.rawValue)")
    }
    defer { EVP_PKEY_CTX_free(context) }
    guard initialise(context) == 1 else { throw OpenSSLError.failure("cannot set up \(scheme.rawValue)") }
    if scheme == .rsaPSS {
        guard EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PSS_PADDING) == 1,
            EVP_PKEY_CTX_set_signature_md(context, hashFunction) == 1,
            EVP_PKEY_CTX_set_rsa_mgf1_md(context, EVP_sha256()) == 1,
            EVP_PKEY_CTX_ctrl_str(context, "rsa_pss_saltlen", pssSalt) > 0
        else { throw OpenSSLError.failure("cannot select RSA-PSS with SHA-256") }
    } else {
        if scheme == .rsaPKCS1v15, EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) != 1 {
            throw OpenSSLError.failure("cannot select RSA PKCS#1 v1.5 padding")
        }
        if let hashFunction, EVP_PKEY_CTX_set_signature_md(context, hashFunction) != 1 {
            throw OpenSSLError.failure("cannot select the signature's hash")
        }
    }
    return try body(context)
}

extension CPKError.Reason {
    /// An encrypted private key was given without a passphrase.
    public static let passphraseNeeded = CPKError.Reason(rawValue: "passphrase-needed")
}

/// Where the passphrase callback leaves what happened, so the error can say it.
private struct PassphraseOutcome {
    let passphrase: [UInt8]?
    var asked = false
    var tooLong = false

    var failure: CPKError {
        if asked && passphrase == nil {
            return CPKError(
                .usage, "the private key is encrypted: give its passphrase (a file or an environment variable, never the command line)",
                reason: .passphraseNeeded)
        }
        if tooLong { return .usage("the passphrase is too long for OpenSSL") }
        if asked { return .invalid("cannot decrypt the private key: wrong passphrase") }
        return .invalid(
            "not a private key: expected PEM (PKCS#8, or traditional RSA/EC, encrypted or not) or PKCS#8 DER")
    }
}

/// OpenSSL's `pem_password_cb`: hands over the passphrase, and never prompts on a terminal
/// (returning -1 when there is none makes OpenSSL give up instead).
private let passphraseCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?)
    -> Int32 = { buffer, size, _, context in
        guard let buffer, let outcome = context?.assumingMemoryBound(to: PassphraseOutcome.self) else { return -1 }
        outcome.pointee.asked = true
        guard let passphrase = outcome.pointee.passphrase else { return -1 }
        guard passphrase.count <= Int(size) else {
            outcome.pointee.tooLong = true
            return -1
        }
        passphrase.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }  // an empty passphrase
            UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: bytes.count)
        }
        return Int32(passphrase.count)
    }

/// ECDSA signatures between OpenSSL's DER `ECDSA-Sig-Value` and the fixed-size raw r‖s that a
/// package stores (each half big-endian, left-padded to the field size).
public enum ECDSASignature {
    /// Raw r‖s from DER; nil when `der` is not exactly one ECDSA signature that fits the curve.
    public static func raw(fromDER der: [UInt8], scheme: SignatureScheme) -> [UInt8]? {
        let half = scheme.signatureSize(keyBits: 0) / 2
        guard let (signature, all) = derDecode(der, { d2i_ECDSA_SIG(nil, $0, $1) }) else { return nil }
        defer { ECDSA_SIG_free(signature) }
        guard all, let r = ECDSA_SIG_get0_r(signature), let s = ECDSA_SIG_get0_s(signature) else { return nil }
        var raw = [UInt8](repeating: 0, count: 2 * half)
        let written = raw.withUnsafeMutableBufferPointer { buffer in
            BN_bn2binpad(r, buffer.baseAddress, Int32(half)) == Int32(half)
                && BN_bn2binpad(s, buffer.baseAddress! + half, Int32(half)) == Int32(half)
        }
        return written ? raw : nil
    }

    /// DER from raw r‖s (any even length); nil when it cannot be encoded.
    public static func der(fromRaw raw: [UInt8]) -> [UInt8]? {
        guard !raw.isEmpty, raw.count % 2 == 0, let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        let half = raw.count / 2
        let r = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32(half), nil) }
        let s = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress! + half, Int32(half), nil) }
        guard let r, let s, ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        return try? derEncode("the ECDSA signature") { i2d_ECDSA_SIG(signature, $0) }
    }

    /// True when `bytes` look like DER (a SEQUENCE), as `openssl pkeyutl` writes ECDSA signatures.
    public static func looksLikeDER(_ bytes: [UInt8]) -> Bool { bytes.first == 0x30 && bytes.count > 8 }
}
