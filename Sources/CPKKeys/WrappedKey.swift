import CPKCore
import CPKCrypto
import CPKCBOR

/// A symmetric key wrapped to an RSA public key, with what its consumer needs to check before
/// trying to unwrap it (docs/keys.md):
///
///     55799({ "cpk-wrapped-key": 1, "key-name": tstr, "algorithm": tstr,
///             "wrapped": bstr, "wrapping-key-sha256": bstr .size 32 })
public struct WrappedKey: Sendable, Equatable {
    public static let version: UInt64 = 1
    /// The largest RSA block accepted (a 16384-bit modulus, OpenSSL's limit).
    public static let maximumWrappedSize = 2048

    public var keyName: String
    public var padding: KeyWrapPadding
    public var wrapped: [UInt8]
    /// SHA-256 of the DER SubjectPublicKeyInfo of the key it is wrapped to.
    public var wrappingKeySHA256: [UInt8]

    public init(keyName: String, padding: KeyWrapPadding, wrapped: [UInt8], wrappingKeySHA256: [UInt8]) {
        self.keyName = keyName
        self.padding = padding
        self.wrapped = wrapped
        self.wrappingKeySHA256 = wrappingKeySHA256
    }

    /// Wraps `secret` to `publicKey`.
    public init(wrapping secret: [UInt8], named name: String, to publicKey: PublicKey, padding: KeyWrapPadding) throws {
        try KeyName.validate(name)
        self.init(
            keyName: name, padding: padding, wrapped: try publicKey.wrap(secret, padding: padding),
            wrappingKeySHA256: try publicKey.fingerprint)
    }

    /// Records bytes someone else wrapped to `publicKey` (a key service, a device twin), after
    /// checking they are one RSA block for that key.
    public init(received wrapped: [UInt8], named name: String, to publicKey: PublicKey, padding: KeyWrapPadding,
                from source: String) throws {
        guard wrapped.count == publicKey.modulusBytes else {
            throw CPKError.invalid(
                "\(source) gave a \(wrapped.count)-byte wrapped key, but a key wrapped to this \(publicKey.bits)-bit "
                    + "public key is \(publicKey.modulusBytes) bytes; it is truncated or wrapped to another key")
        }
        self.init(keyName: name, padding: padding, wrapped: wrapped, wrappingKeySHA256: try publicKey.fingerprint)
    }

    /// Unwraps with `privateKey`, first checking the document names that key pair, so a wrong
    /// key gives a clear message instead of a decryption failure.
    public func unwrap(with privateKey: RSAPrivateKey) throws -> [UInt8] {
        let fingerprint = try privateKey.publicKey.fingerprint
        guard fingerprint == wrappingKeySHA256 else {
            throw CPKError.check(
                "the key \"\(keyName)\" is wrapped to public key sha256:\(Hex.encode(wrappingKeySHA256).prefix(16))…, "
                    + "not to this private key (sha256:\(Hex.encode(fingerprint).prefix(16))…); give the matching private key")
        }
        return try privateKey.unwrap(wrapped, padding: padding)
    }
}

// MARK: - CBOR

extension WrappedKey {
    /// The document as CBOR, starting D9 D9 F7 like every self-describing item of the suite.
    public func encoded() -> [UInt8] {
        CBOREncoding.encode(
            .tagged(
                CBORValue.selfDescribeTag,
                .textMap([
                    ("cpk-wrapped-key", .unsigned(Self.version)),
                    ("key-name", .text(keyName)),
                    ("algorithm", .text(padding.algorithmName)),
                    ("wrapped", .bytes(wrapped)),
                    ("wrapping-key-sha256", .bytes(wrappingKeySHA256)),
                ])))
    }

    /// Reads a document strictly: the tag, exactly the five keys, known version and algorithm.
    public init(decoding bytes: [UInt8]) throws {
        let value: CBORValue
        do {
            value = try CBORValue(decoding: bytes)
        } catch {
            throw error.located(in: "wrapped-key document")
        }
        guard case .tagged(CBORValue.selfDescribeTag, let body) = value else {
            throw CPKError.invalid("not a wrapped-key document: expected a map tagged 55799")
        }
        var fields = try CBORMapReader(body, what: "wrapped-key document", keyFaults: .refusedFirst)
        guard case .unsigned(let version) = try fields.value("cpk-wrapped-key") else {
            throw CPKError.invalid("not a wrapped-key document: it has no cpk-wrapped-key version")
        }
        guard version == Self.version else {
            throw CPKError.invalid("unsupported wrapped-key document version \(version) (this tool reads \(Self.version))")
        }
        keyName = try fields.text("key-name")
        if let problem = KeyName.problem(with: keyName) { throw CPKError.invalid("wrapped-key document: \(problem)") }
        let algorithm = try fields.text("algorithm")
        guard let padding = KeyWrapPadding(algorithmName: algorithm) else {
            let known = KeyWrapPadding.allCases.map(\.algorithmName).joined(separator: ", ")
            throw CPKError.invalid("wrapped-key document: unknown algorithm \"\(algorithm)\" (known: \(known))")
        }
        self.padding = padding
        wrapped = try fields.bytes("wrapped", sizes: 1...Self.maximumWrappedSize)
        wrappingKeySHA256 = try fields.bytes("wrapping-key-sha256", sizes: 32...32)
        try fields.finish()
    }

    /// True when `bytes` start like a self-describing CBOR item (and so maybe a document).
    public static func looksLikeDocument(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: CBORValue.selfDescribePrefix)
    }
}

// MARK: - Reading and writing in every form

/// How a wrapped key is written out.
public enum WrappedKeyFormat: String, CaseIterable, Sendable {
    /// The CBOR document (the default): name, algorithm, wrapped bytes, key fingerprint.
    case document
    /// The bare RSA block, as `openssl pkeyutl -decrypt` and the Package Manager take it.
    case raw
    /// Base64 of the bare block, one line: what cloud contracts and device twins carry.
    case base64

    /// The bytes to write, and whether they are binary (never to a terminal).
    public func render(_ key: WrappedKey) -> (bytes: [UInt8], binary: Bool) {
        switch self {
        case .document: return (key.encoded(), true)
        case .raw: return (key.wrapped, true)
        case .base64: return (Array((Base64.encode(key.wrapped) + "\n").utf8), false)
        }
    }
}

extension WrappedKey {
    /// Checks that this document carries the key `expected` names (nil: whichever it names),
    /// and returns the name to file the key under: the document's own spelling, the one its
    /// key was wrapped under. Names are compared by `KeyName.canonical`, so the spellings of
    /// one KBS resource (`kbs:///r/t/k`, `kbs://host/r/t/k`, `/r/t/k`, `r/t/k`) are one key and
    /// any other names must be equal. Every tool that takes a document for a named key
    /// (cpk-install add-key, cpk-wrap unwrap, the cpk-keyfetch bridge) resolves it here, so
    /// they cannot disagree about what "the same key" is.
    public func resolvedName(expecting expected: String?) throws -> String {
        guard let expected else { return keyName }
        guard KeyName.canonical(expected) == KeyName.canonical(keyName) else {
            throw CPKError.check("the wrapped key is named \"\(keyName)\", not \"\(expected)\"")
        }
        return keyName
    }
}

/// A wrapped key as read from a file: a document, or bare bytes (raw or base64) that carry no
/// name, algorithm or fingerprint.
public enum WrappedKeyInput: Sendable {
    case document(WrappedKey)
    case bare([UInt8])

    /// Recognises the form: a document by its first bytes, base64 text when it decodes (a
    /// random RSA block is never all base64 symbols), else raw bytes.
    public init(parsing bytes: [UInt8]) throws {
        if WrappedKey.looksLikeDocument(bytes) {
            self = .document(try WrappedKey(decoding: bytes))
        } else if Base64.looksLikeBase64(bytes), let decoded = Base64.decode(bytes, ignoringWhitespace: true) {
            self = .bare(decoded)
        } else {
            self = .bare(bytes)
        }
    }

    /// The raw key: a document by its own padding (after checking it names this key pair),
    /// a bare block by `barePadding`.
    public func unwrap(with privateKey: RSAPrivateKey, barePadding: KeyWrapPadding) throws -> [UInt8] {
        switch self {
        case .bare(let bytes): return try privateKey.unwrap(bytes, padding: barePadding)
        case .document(let document): return try document.unwrap(with: privateKey)
        }
    }
}

extension WrappedKey {
    /// What `cpk-wrap show` prints (and `cpk-keyfetch --json` reports): every field but the
    /// wrapped bytes, which are given by size only. Member names and order are stable.
    public var summary: JSONValue {
        .object([
            ("key-name", .string(keyName)),
            ("algorithm", .string(padding.algorithmName)),
            ("wrapped-size", .integer(wrapped.count)),
            ("wrapping-key-sha256", .string(Hex.encode(wrappingKeySHA256))),
        ])
    }
}

extension WrappedKey {
    /// What `cpk-keyfetch --json` reports of a fetched key: the summary, the padding by its
    /// option name, and the kind of store it came from (file, http, inline, twin). Never the key.
    public func fetchReport(store: String) -> JSONValue {
        guard case .object(var members) = summary else { return summary }
        members.append(("padding", .string(padding.rawValue)))
        members.append(("store", .string(store)))
        return .object(members)
    }
}

extension KeyStoreLocation {
    /// The kind of store, for reports: file, http, inline or twin.
    public var kind: String {
        switch self {
        case .file: return "file"
        case .http: return "http"
        case .inline: return "inline"
        case .twin: return "twin"
        }
    }
}
