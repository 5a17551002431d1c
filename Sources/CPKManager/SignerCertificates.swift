import COpenSSL
import CPKCore

/// X.509 certificates as the installer needs them: read in PEM (one or a bundle) or DER, and a
/// leaf checked against trusted CA certificates with OpenSSL's X509_verify_cert.
///
/// Private to the Package Manager module because no certificate API existed in CPKCrypto when
/// it was written.
enum SignerCertificates {
    /// The DER certificates in `bytes`: every CERTIFICATE block of PEM text, or one DER
    /// certificate. Throws when there is none.
    static func certificates(in bytes: [UInt8], what: String) throws -> [[UInt8]] {
        let found = isPEM(bytes) ? pemCertificates(bytes) : derCertificate(bytes).map { [$0] } ?? []
        ERR_clear_error()
        guard !found.isEmpty else { throw CPKError.invalid("\(what) holds no X.509 certificate (PEM or DER)") }
        return found
    }

    /// True when `leaf` chains to one of `anchors` (any anchor may be an intermediate: the chain
    /// may stop at it), within the certificates' validity periods; else the reason it does not.
    static func verify(leaf: [UInt8], anchors: [[UInt8]]) throws -> (trusted: Bool, reason: String, anchor: String?) {
        guard let leafCertificate = decode(leaf) else { throw CPKError.invalid("the signer's certificate is not valid DER") }
        defer { X509_free(leafCertificate) }
        guard let store = X509_STORE_new() else { throw CPKError.io("cannot set up certificate verification") }
        defer { X509_STORE_free(store) }
        for anchor in anchors {
            guard let certificate = decode(anchor) else { continue }
            X509_STORE_add_cert(store, certificate)  // the store takes its own reference
            X509_free(certificate)
        }
        X509_STORE_set_flags(store, UInt(X509_V_FLAG_PARTIAL_CHAIN))
        guard let context = X509_STORE_CTX_new() else { throw CPKError.io("cannot set up certificate verification") }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, leafCertificate, nil) == 1 else {
            throw CPKError.io("cannot set up certificate verification")
        }
        let trusted = X509_verify_cert(context) == 1
        let code = X509_STORE_CTX_get_error(context)
        let reason = String(cString: X509_verify_cert_error_string(Int(code)))
        var anchorName: String? = nil
        if trusted, let chain = X509_STORE_CTX_get0_chain(context) {
            let count = OPENSSL_sk_num(chain)
            if count > 0, let top = OPENSSL_sk_value(chain, count - 1) {
                anchorName = subject(OpaquePointer(top))
            }
        }
        ERR_clear_error()
        return (trusted, reason, anchorName)
    }

    /// The subject of a DER certificate, one line (e.g. `/O=Acme/CN=Acme Release`).
    static func subject(ofDER der: [UInt8]) -> String? {
        guard let certificate = decode(der) else { return nil }
        defer { X509_free(certificate) }
        return subject(certificate)
    }

    private static func subject(_ certificate: OpaquePointer) -> String? {
        guard let name = X509_get_subject_name(certificate), let text = X509_NAME_oneline(name, nil, 0) else { return nil }
        defer { CRYPTO_free(text, nil, 0) }
        return String(cString: text)
    }

    private static func decode(_ der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            guard let certificate = d2i_X509(nil, &cursor, buffer.count) else {
                ERR_clear_error()
                return nil
            }
            guard let start = buffer.baseAddress, let end = cursor, end - start == buffer.count else {
                X509_free(certificate)
                return nil
            }
            return certificate
        }
    }

    private static func derCertificate(_ bytes: [UInt8]) -> [UInt8]? {
        guard let certificate = decode(bytes) else { return nil }
        X509_free(certificate)
        return bytes
    }

    private static func pemCertificates(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.withUnsafeBytes { raw -> [[UInt8]] in
            guard raw.count <= Int(Int32.max), let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return [] }
            defer { BIO_free(bio) }
            var found: [[UInt8]] = []
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                defer { X509_free(certificate) }
                let size = i2d_X509(certificate, nil)
                guard size > 0 else { continue }
                var der = [UInt8](repeating: 0, count: Int(size))
                _ = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    var cursor = buffer.baseAddress
                    return i2d_X509(certificate, &cursor)
                }
                found.append(der)
            }
            return found
        }
    }

    static func isPEM(_ bytes: [UInt8]) -> Bool {
        let marker = Array("-----BEGIN ".utf8)
        guard bytes.count >= marker.count else { return false }
        return (0...(bytes.count - marker.count)).contains { bytes[$0..<$0 + marker.count].elementsEqual(marker) }
    }
}
