import COpenSSL
import CPKCore

/// Recognises and decodes a public key in every form the system meets, for both the wrapping
/// keys (`PublicKey`) and the signature keys (`VerifyingKey`), which then check what they need.
enum PublicKeyForms {
    /// The key, and how messages name where it came from.
    static func decode(_ bytes: [UInt8]) throws -> (key: EVPKey, what: String) {
        if looksLikePEM(bytes) {
            return try decodePEM(bytes)
        } else if bytes.first == 0x30 {
            return try decodeDER(bytes)
        } else if Base64.looksLikeBase64(bytes), let der = Base64.decode(bytes, ignoringWhitespace: true),
            der.first == 0x30
        {
            return try decodeDER(der)
        }
        throw CPKError.invalid(
            "not a public key: expected PEM or DER SubjectPublicKeyInfo, DER RSAPublicKey (PKCS#1), "
                + "an X.509 certificate, or base64 of one of those")
    }

    private static func decodePEM(_ pem: [UInt8]) throws -> (key: EVPKey, what: String) {
        guard let block = try PEMBlock.first(in: pem) else {
            throw CPKError.invalid("the PEM text holds no readable block (damaged base64 or a missing END line?)")
        }
        switch block.label {
        case "PUBLIC KEY": return (try PublicKey.decodeSPKI(block.der), "a PEM public key")
        case "RSA PUBLIC KEY": return (try PublicKey.decodePKCS1(block.der), "a PEM RSA public key")
        case "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE":
            return (try PublicKey.decodeCertificate(block.der), "the certificate")
        case let label where label.contains("PRIVATE KEY"):
            throw CPKError.invalid("this is a private key, not a public key; give its public half (cpk-wrap public)")
        default:
            throw CPKError.invalid("a PEM \"\(block.label)\" block is not a public key or certificate")
        }
    }

    /// DER: tries SubjectPublicKeyInfo, then a certificate, then PKCS#1 RSAPublicKey; each
    /// must use every byte.
    private static func decodeDER(_ der: [UInt8]) throws -> (key: EVPKey, what: String) {
        if let key = try? PublicKey.decodeSPKI(der) { return (key, "the DER public key") }
        if let key = try? PublicKey.decodeCertificate(der) { return (key, "the certificate") }
        if let key = try? PublicKey.decodePKCS1(der) { return (key, "the DER RSA public key") }
        ERR_clear_error()
        throw CPKError.invalid("DER data is not a SubjectPublicKeyInfo, an X.509 certificate or an RSAPublicKey (PKCS#1)")
    }
}
