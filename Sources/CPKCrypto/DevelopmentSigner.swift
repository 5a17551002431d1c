import COpenSSL
import CPKCore

/// A development signing identity (`cpk-sign keygen`): a fresh key pair for a signature
/// scheme and a self-signed certificate that the signing and verifying rules accept for code
/// signing: keyUsage digitalSignature (critical), extendedKeyUsage codeSigning, not a CA.
/// Everything through libcrypto: key generation (EVP_PKEY_generate), the certificate (X509_*),
/// its signature (X509_sign).
public struct DevelopmentSigner: Sendable {
    public let key: SigningKey
    public let certificate: X509Certificate

    /// RSA sizes a development key may have (RSA schemes only).
    public static let rsaSizes: Set<Int> = [2048, 3072, 4096]
    public static let defaultRSABits = 3072

    /// - Parameters:
    ///   - scheme: fixes the key type: RSA for rsa-pkcs1v15 and rsa-pss, the curve for ECDSA, Ed25519.
    ///   - rsaBits: the RSA modulus size; ignored for the other schemes.
    ///   - commonName: the certificate's subject (and issuer) CN.
    ///   - days: validity from now.
    public static func make(scheme: SignatureScheme, rsaBits: Int = defaultRSABits, commonName: String, days: Int) throws
        -> DevelopmentSigner
    {
        let type: SigningKeyType
        switch scheme {
        case .rsaPKCS1v15, .rsaPSS:
            guard rsaSizes.contains(rsaBits) else { throw CPKError.usage("an RSA signing key has 2048, 3072 or 4096 bits") }
            type = .rsa(bits: rsaBits)
        case .ecdsaP256: type = .ecP256
        case .ecdsaP384: type = .ecP384
        case .ed25519: type = .ed25519
        }
        guard (1...3650).contains(days) else { throw CPKError.usage("a development certificate is valid for 1 to 3650 days") }
        guard !commonName.isEmpty, commonName.utf8.count <= 64,
            !commonName.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { throw CPKError.usage("the certificate's common name must be 1 to 64 bytes without control characters") }
        let key = try SigningKey.generate(type)
        let certificate = try X509Certificate.selfSignedForCodeSigning(key: key, commonName: commonName, days: days)
        return DevelopmentSigner(key: key, certificate: certificate)
    }
}

extension X509Certificate {
    /// A self-signed X.509 v3 certificate for `key`: subject = issuer = CN=`commonName`, a
    /// random 64-bit serial, valid from now for `days`, with the code-signing extensions.
    static func selfSignedForCodeSigning(key: SigningKey, commonName: String, days: Int) throws -> X509Certificate {
        guard let x509 = X509_new() else { throw OpenSSLError.failure("cannot allocate a certificate") }
        defer { X509_free(x509) }
        guard X509_set_version(x509, 2) == 1 else { throw OpenSSLError.failure("cannot set the certificate version") }
        try setRandomSerial(x509)
        guard X509_gmtime_adj(X509_getm_notBefore(x509), 0) != nil,
            X509_gmtime_adj(X509_getm_notAfter(x509), Int(days) * 86_400) != nil
        else { throw OpenSSLError.failure("cannot set the certificate's validity") }
        guard let name = X509_NAME_new() else { throw OpenSSLError.failure("cannot allocate a name") }
        defer { X509_NAME_free(name) }
        let added = Array(commonName.utf8).withUnsafeBufferPointer {
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, $0.baseAddress, Int32($0.count), -1, 0)
        }
        guard added == 1, X509_set_subject_name(x509, name) == 1, X509_set_issuer_name(x509, name) == 1,
            X509_set_pubkey(x509, key.key.pointer) == 1
        else { throw OpenSSLError.failure("cannot set the certificate's name and key") }
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, x509, x509, nil, nil, 0)
        for (nid, value) in [
            (NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature"),
            (NID_ext_key_usage, "codeSigning"), (NID_subject_key_identifier, "hash"),
        ] {
            guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw OpenSSLError.failure("cannot make the certificate extension \(value)")
            }
            defer { X509_EXTENSION_free(ext) }
            guard X509_add_ext(x509, ext, -1) == 1 else { throw OpenSSLError.failure("cannot add the extension \(value)") }
        }
        // Ed25519 signs the message itself: no digest is named.
        let digest: OpaquePointer? = key.type == .ed25519 ? nil : EVP_sha256()
        guard X509_sign(x509, key.key.pointer, digest) > 0 else { throw OpenSSLError.failure("cannot sign the certificate") }
        return try X509Certificate(der: try derEncode("the certificate") { i2d_X509(x509, $0) })
    }

    private static func setRandomSerial(_ x509: OpaquePointer) throws {
        guard let number = BN_new() else { throw OpenSSLError.failure("cannot allocate a serial number") }
        defer { BN_free(number) }
        // 63 random bits, top bit clear: positive, and never zero in practice
        guard BN_rand(number, 63, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1,
            BN_to_ASN1_INTEGER(number, X509_get_serialNumber(x509)) != nil
        else { throw OpenSSLError.failure("cannot set a random serial number") }
    }
}
