import COpenSSL
import CPKCore

#if canImport(Glibc)
import Glibc
#endif

/// One OpenSSL `X509`, freed when the last reference goes. Never mutated after parsing.
final class X509Object: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { X509_free(pointer) }
}

/// An X.509 certificate: who it names, when it is valid, its key, and its DER bytes.
public struct X509Certificate: Sendable {
    let object: X509Object
    public let der: [UInt8]

    /// Reads one DER certificate, which must use every byte.
    public init(der: [UInt8]) throws {
        guard let (pointer, all) = derDecode(der, { d2i_X509(nil, $0, $1) }) else {
            throw CPKError.invalid("not an X.509 certificate (DER)")
        }
        object = X509Object(pointer)
        guard all else { throw CPKError.invalid("unexpected bytes after the certificate") }
        self.der = der
    }

    /// Reads a certificate file: PEM with one or more `CERTIFICATE` blocks (the leaf first, then
    /// the chain), or one DER certificate. Any other PEM block, a private key above all, is
    /// refused: whatever is read here may end up inside a package.
    public static func chain(loading bytes: [UInt8]) throws -> [X509Certificate] {
        guard looksLikePEM(bytes) else { return [try X509Certificate(der: bytes)] }
        try PEMText.requireOnlyBlocks(in: bytes)
        let blocks = try PEMBlock.all(in: bytes)
        guard !blocks.isEmpty, blocks.count == PEMBlock.beginLines(in: bytes) else {
            throw CPKError.invalid("the PEM text holds a block that cannot be read (damaged base64 or a missing END line?)")
        }
        return try blocks.map { block in
            guard ["CERTIFICATE", "X509 CERTIFICATE"].contains(block.label) else {
                let what = block.label.contains("PRIVATE KEY") ? "a private key" : "a \"\(block.label)\" block"
                throw CPKError.invalid("the certificate file holds \(what); it must hold certificates only")
            }
            return try X509Certificate(der: block.der)
        }
    }

    /// The certificate as PEM text.
    public func pem() throws -> String { try PEMBlock.encode(label: "CERTIFICATE", der: der) }

    /// The subject, e.g. `CN=Signer,O=Acme`.
    public var subject: String { Self.text(of: X509_get_subject_name(object.pointer)) }
    public var issuer: String { Self.text(of: X509_get_issuer_name(object.pointer)) }

    /// Start and end of the validity period, in seconds since 1970 (UTC).
    public var notBefore: Int? { Self.seconds(X509_get0_notBefore(object.pointer)) }
    public var notAfter: Int? { Self.seconds(X509_get0_notAfter(object.pointer)) }

    /// The certificate's public key.
    public var publicKey: VerifyingKey {
        get throws {
            guard let key = X509_get_pubkey(object.pointer) else {
                ERR_clear_error()
                throw CPKError.invalid("the certificate's public key cannot be read (an algorithm OpenSSL does not know?)")
            }
            return try VerifyingKey(adopting: EVPKey(key))
        }
    }

    /// False only when a key usage extension is present and lacks digitalSignature.
    public var allowsDigitalSignature: Bool {
        let usage = X509_get_key_usage(object.pointer)  // UINT32_MAX when there is no extension
        return usage == UInt32.max || usage & UInt32(KU_DIGITAL_SIGNATURE) != 0
    }

    /// False only when an extended key usage extension is present and allows neither code
    /// signing nor any usage: a TLS-server or e-mail certificate does not sign packages.
    public var allowsCodeSigning: Bool {
        let usage = X509_get_extended_key_usage(object.pointer)  // UINT32_MAX when there is no extension
        return usage == UInt32.max || usage & UInt32(XKU_CODE_SIGN | XKU_ANYEKU) != 0
    }

    /// The subject's common name (the last CN), or nil.
    public var commonName: String? {
        guard let name = X509_get_subject_name(object.pointer) else { return nil }
        let index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry)
        else { return nil }
        return Self.text(ofString: data)
    }

    /// The e-mail addresses, DNS names and URIs of the subject alternative name extension, in
    /// order (other kinds of names are not identities a signer is matched by).
    public var subjectAlternativeNames: [String] { subjectAlternativeNames(of: [.email, .dns, .uri]) }

    /// The kinds of subject alternative names read as text.
    public enum AlternativeNameKind: Sendable {
        case email, dns, uri
    }

    /// The subject alternative names of the given kinds, in certificate order.
    public func subjectAlternativeNames(of kinds: Set<AlternativeNameKind>) -> [String] {
        guard let raw = X509_get_ext_d2i(object.pointer, NID_subject_alt_name, nil, nil) else { return [] }
        let names = OpaquePointer(raw)
        defer { GENERAL_NAMES_free(names) }
        return (0..<OPENSSL_sk_num(names)).compactMap { index -> String? in
            guard let value = OPENSSL_sk_value(names, index) else { return nil }
            let name = value.assumingMemoryBound(to: GENERAL_NAME.self).pointee
            switch name.type {
            case GEN_EMAIL where kinds.contains(.email): return name.d.rfc822Name.flatMap(Self.text(ofString:))
            case GEN_DNS where kinds.contains(.dns): return name.d.dNSName.flatMap(Self.text(ofString:))
            case GEN_URI where kinds.contains(.uri): return name.d.uniformResourceIdentifier.flatMap(Self.text(ofString:))
            default: return nil
            }
        }
    }

    /// The subject's organizational units (OU), in name order: a fleet's release policy may
    /// give keys by the unit a device certificate names.
    public var organizationalUnits: [String] {
        guard let name = X509_get_subject_name(object.pointer) else { return [] }
        var units: [String] = []
        var index = X509_NAME_get_index_by_NID(name, NID_organizationalUnitName, -1)
        while index >= 0 {
            if let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry),
                let text = Self.text(ofString: data)
            {
                units.append(text)
            }
            index = X509_NAME_get_index_by_NID(name, NID_organizationalUnitName, index)
        }
        return units
    }

    /// SHA-256 of the DER certificate.
    public var fingerprint: [UInt8] {
        get throws { try SHA256Hasher.digest(der) }
    }

    /// True when the certificate names itself as its issuer (a root, or a self-signed leaf).
    public var isSelfIssued: Bool {
        X509_NAME_cmp(X509_get_subject_name(object.pointer), X509_get_issuer_name(object.pointer)) == 0
    }

    /// True when `key` made this certificate's signature: the certificate is intact, and `key`
    /// is its issuer's.
    public func isSigned(by key: VerifyingKey) -> Bool {
        defer { ERR_clear_error() }
        return X509_verify(object.pointer, key.key.pointer) == 1
    }

    /// Where `time` falls in the validity period.
    public func validity(at time: Int) -> Validity {
        if let start = notBefore, time < start { return .notYetValid }
        if let end = notAfter, time > end { return .expired }
        return .valid
    }

    public enum Validity: String, Sendable {
        case valid
        case expired
        case notYetValid = "not-yet-valid"
    }

    private static func text(of name: OpaquePointer?) -> String {
        guard let name, let bio = try? MemoryBIO() else { return "" }
        // RFC 2253 form (CN=…,O=…), but UTF-8 kept readable instead of escaped.
        let flags = UInt(ASN1_STRFLGS_ESC_2253 | ASN1_STRFLGS_ESC_CTRL | ASN1_STRFLGS_UTF8_CONVERT)
            | UInt(ASN1_STRFLGS_DUMP_UNKNOWN | ASN1_STRFLGS_DUMP_DER) | UInt(XN_FLAG_SEP_COMMA_PLUS)
            | UInt(XN_FLAG_DN_REV) | UInt(XN_FLAG_DUMP_UNKNOWN_FIELDS)
        guard X509_NAME_print_ex(bio.pointer, name, 0, flags) >= 0, let bytes = try? bio.contents() else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func text(ofString string: UnsafeMutablePointer<ASN1_STRING>) -> String? {
        guard let bytes = ASN1_STRING_get0_data(string) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(string))), as: UTF8.self)
    }

    private static func seconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int? {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Int(timegm(&parts))
    }
}

/// Checks a certificate chain against trust anchors with OpenSSL's `X509_verify_cert`.
public enum CertificateChain {
    public enum Outcome: Sendable, Equatable {
        /// The chain from the leaf to an anchor, by subject, and the SHA-256 of the anchor that
        /// ended it (subjects can repeat across anchors; the anchor's bytes cannot).
        case trusted(path: [String], anchor: [UInt8])
        case untrusted(reason: String)
    }

    /// - Parameters:
    ///   - leaf: the certificate whose key made the signature.
    ///   - intermediates: certificates that may complete the chain (untrusted themselves).
    ///   - anchors: the trusted certificates (`--ca`); any of them may end a chain.
    ///   - time: the time to check validity at, in seconds since 1970.
    ///   - allowExpired: accept certificates whose validity period has ended, and only that.
    public static func verify(
        leaf: X509Certificate, intermediates: [X509Certificate], anchors: [X509Certificate], at time: Int,
        allowExpired: Bool
    ) throws -> Outcome {
        guard let store = X509_STORE_new() else { throw OpenSSLError.failure("cannot make a certificate store") }
        defer { X509_STORE_free(store) }
        for anchor in anchors where X509_STORE_add_cert(store, anchor.object.pointer) != 1 {
            ERR_clear_error()  // the same anchor twice: harmless
        }
        guard let untrusted = OPENSSL_sk_new_null() else { throw OpenSSLError.failure("cannot make a certificate list") }
        defer { OPENSSL_sk_free(untrusted) }  // the certificates stay owned by their objects
        for certificate in intermediates {
            _ = OPENSSL_sk_push(untrusted, UnsafeRawPointer(certificate.object.pointer))
        }
        guard let context = X509_STORE_CTX_new() else { throw OpenSSLError.failure("cannot make a verification context") }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, leaf.object.pointer, untrusted) == 1 else {
            throw OpenSSLError.failure("cannot start certificate verification")
        }
        let parameters = X509_STORE_CTX_get0_param(context)
        X509_VERIFY_PARAM_set_time(parameters, time_t(time))
        // An anchor need not be self-signed: trusting an intermediate given with --ca is a choice.
        X509_VERIFY_PARAM_set_flags(parameters, UInt(X509_V_FLAG_PARTIAL_CHAIN))
        if allowExpired { X509_STORE_CTX_set_verify_cb(context, forgiveExpiry) }
        let verified = X509_verify_cert(context) == 1
        defer { ERR_clear_error() }
        guard verified else {
            let code = X509_STORE_CTX_get_error(context)
            let reason = X509_verify_cert_error_string(Int(code)).map { String(cString: $0) } ?? "error \(code)"
            let depth = X509_STORE_CTX_get_error_depth(context)
            let culprit = X509_STORE_CTX_get_current_cert(context).map { X509Certificate.subjectOf($0) } ?? ""
            return .untrusted(reason: "\(reason) (at depth \(depth)\(culprit.isEmpty ? "" : ", \(culprit)"))")
        }
        return .trusted(path: chainSubjects(context), anchor: anchorFingerprint(context))
    }

    /// The SHA-256 of the chain's last certificate, the anchor (empty if OpenSSL has no chain).
    private static func anchorFingerprint(_ context: OpaquePointer) -> [UInt8] {
        guard let stack = X509_STORE_CTX_get0_chain(context), OPENSSL_sk_num(stack) > 0,
            let last = OPENSSL_sk_value(stack, OPENSSL_sk_num(stack) - 1), let copy = X509_dup(OpaquePointer(last))
        else { return [] }
        return (try? X509Certificate(adopting: copy).fingerprint) ?? []
    }

    private static func chainSubjects(_ context: OpaquePointer) -> [String] {
        guard let stack = X509_STORE_CTX_get0_chain(context) else { return [] }
        return (0..<OPENSSL_sk_num(stack)).compactMap { index in
            OPENSSL_sk_value(stack, index).map { X509Certificate.subjectOf(OpaquePointer($0)) }
        }
    }
}

/// Verification callback that turns "certificate has expired" into success, and leaves every
/// other verdict alone (a not-yet-valid certificate stays an error).
private let forgiveExpiry: @convention(c) (Int32, OpaquePointer?) -> Int32 = { ok, context in
    if ok == 0, let context, X509_STORE_CTX_get_error(context) == X509_V_ERR_CERT_HAS_EXPIRED {
        X509_STORE_CTX_set_error(context, X509_V_OK)
        return 1
    }
    return ok
}

extension X509Certificate {
    static func subjectOf(_ pointer: OpaquePointer) -> String {
        guard let copy = X509_dup(pointer) else { return "" }
        return X509Certificate(adopting: copy).subject
    }

    fileprivate init(adopting pointer: OpaquePointer) {
        object = X509Object(pointer)
        der = (try? derEncode("the certificate") { i2d_X509(pointer, $0) }) ?? []
    }
}

/// Time for certificate checks: RFC 3339 (`2030-01-01T00:00:00Z`), a date (`2030-01-01`,
/// midnight UTC), or `@SECONDS` since 1970.
public enum CheckTime {
    public static func parse(_ text: String) -> Int? {
        if text.hasPrefix("@") { return Int(text.dropFirst()) }
        let full = text.count == 10 ? text + "T00:00:00Z" : text
        guard Timestamp.isRFC3339(full) else { return nil }
        let chars = Array(full.utf8)
        func number(_ range: Range<Int>) -> Int32 { Int32(String(decoding: chars[range], as: UTF8.self)) ?? 0 }
        var parts = tm()
        parts.tm_year = number(0..<4) - 1900
        parts.tm_mon = number(5..<7) - 1
        parts.tm_mday = number(8..<10)
        parts.tm_hour = number(11..<13)
        parts.tm_min = number(14..<16)
        parts.tm_sec = number(17..<19)
        var seconds = Int(timegm(&parts))
        if let sign = full.lastIndex(where: { $0 == "+" || $0 == "-" }), full.distance(from: sign, to: full.endIndex) == 6 {
            let zone = full[full.index(after: sign)...].split(separator: ":").compactMap { Int($0) }
            guard zone.count == 2 else { return nil }
            let offset = zone[0] * 3600 + zone[1] * 60
            seconds += full[sign] == "+" ? -offset : offset
        }
        return seconds
    }
}

/// Checks on PEM text as a whole.
public enum PEMText {
    /// PEM text may hold its blocks and whitespace, nothing else: OpenSSL's reader skips other
    /// text, so any other byte would be a change that no signature notices.
    /// Works on bytes, not `String` lines: a PEM file is ASCII, and a `Character` view would
    /// cost a tool's start more than the rest of reading a certificate (and would take CRLF,
    /// one `Character`, for no line break at all).
    public static func requireOnlyBlocks(in bytes: [UInt8], single: Bool = false) throws {
        var inside = false
        var blocks = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let text = trimmed(line)
            if inside {
                if text.starts(with: endMarker) && text.reversed().starts(with: dashes) { inside = false }
            } else if text.starts(with: beginMarker) && text.reversed().starts(with: dashes) {
                inside = true
                blocks += 1
            } else if !text.isEmpty {
                throw CPKError.invalid("the PEM text holds something outside its blocks")
            }
        }
        guard !inside, blocks >= 1, !single || blocks == 1 else {
            throw CPKError.invalid(single ? "not well-formed PEM: one block expected" : "not well-formed PEM")
        }
    }

    private static let beginMarker = Array("-----BEGIN ".utf8)
    private static let endMarker = Array("-----END ".utf8)
    private static let dashes = Array("-----".utf8)

    /// A line without the spaces, tabs and carriage returns around it.
    private static func trimmed(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
        guard let first = line.firstIndex(where: { !blank($0) }), let last = line.lastIndex(where: { !blank($0) }) else {
            return []
        }
        return line[first...last]
    }
}

extension PEMBlock {
    /// How many `-----BEGIN ` lines the text has: each must be a readable block.
    static func beginLines(in bytes: [UInt8]) -> Int {
        let marker = Array("-----BEGIN ".utf8)
        guard bytes.count >= marker.count else { return 0 }
        return (0...(bytes.count - marker.count)).filter { bytes[$0] == marker[0] && bytes[$0..<$0 + marker.count].elementsEqual(marker) }.count
    }

    /// Every PEM block in `bytes`, in order; text between blocks is ignored.
    static func all(in bytes: [UInt8]) throws -> [PEMBlock] {
        try bytes.withUnsafeBytes { raw -> [PEMBlock] in
            let bio = try MemoryBIO(readingFrom: raw)
            var blocks: [PEMBlock] = []
            while true {
                var name: UnsafeMutablePointer<CChar>? = nil
                var header: UnsafeMutablePointer<CChar>? = nil
                var data: UnsafeMutablePointer<UInt8>? = nil
                var length = 0
                defer {
                    CRYPTO_free(name, nil, 0)
                    CRYPTO_free(header, nil, 0)
                    CRYPTO_free(data, nil, 0)
                }
                guard PEM_read_bio(bio.pointer, &name, &header, &data, &length) == 1, let name else {
                    ERR_clear_error()  // the end of the text, or a damaged block: checked below
                    return blocks
                }
                let der = data.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
                blocks.append(PEMBlock(label: String(cString: name), der: der, isEncrypted: false))
            }
        }
    }
}
