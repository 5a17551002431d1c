import CPKCore
import CPKCrypto
import CPKFormat

/// A signature's signer as the package (or the caller) presents it: the key that must verify
/// the signature, the certificate chain that names it (leaf first; empty for a bare key), and
/// where both came from, for messages.
public struct SignerCredentials: Sendable {
    public let key: VerifyingKey
    public let chain: [X509Certificate]
    public let origin: String

    public init(key: VerifyingKey, chain: [X509Certificate], origin: String) {
        self.key = key
        self.chain = chain
        self.origin = origin
    }

    /// Why a signer cannot be found, for callers that must tell the cases apart.
    public enum ResolutionFailure: Error, Sendable, CustomStringConvertible {
        /// The embedded certificate or key cannot be read.
        case unreadable(String)
        /// The package names its signer only by URL or domain, or not at all, and no key or
        /// certificate given by the caller made the signature.
        case notEmbedded(String)
        /// The embedded key and the certificate given by the caller disagree.
        case mismatch(String)

        public var description: String {
            switch self {
            case .unreadable(let text), .notEmbedded(let text), .mismatch(let text): return text
            }
        }
    }

    /// The signer of one signature of a package: the embedded certificate or key; else the
    /// caller's certificate; else the first pinned key that verifies the signature.
    /// - Parameters:
    ///   - certificate: the manifest's `cert` of the signed section.
    ///   - stream: the bytes of a stream, once known.
    ///   - external: a certificate chain the caller gave for the signer (leaf first), if any.
    ///   - candidates: pinned keys to try when the package does not carry its signer's key.
    ///   - verifies: whether a key verifies the signature (for the candidates).
    public static func resolve(
        _ certificate: Certificate, stream: (Int) -> [UInt8]?, external: [X509Certificate] = [],
        candidates: [VerifyingKey] = [], verifies: (VerifyingKey) -> Bool
    ) throws -> SignerCredentials {
        let given = try external.first.map {
            SignerCredentials(key: try $0.publicKey, chain: external, origin: "the certificate given for the signer, \($0.subject)")
        }
        guard let index = certificate.stream, let bytes = stream(index) else {
            if let given { return given }
            if let key = candidates.first(where: verifies) {
                return SignerCredentials(key: key, chain: [], origin: "a pinned key")
            }
            throw ResolutionFailure.notEmbedded(
                "the package does not embed the signer's certificate or key (\(describe(certificate))), "
                    + "and no given certificate or pinned key made the signature")
        }
        let embedded = try embedded(certificate, bytes: bytes, index: index)
        if let given, !given.key.isSameKey(as: embedded.key) {
            throw ResolutionFailure.mismatch("\(embedded.origin) is for another key than the certificate given for the signer")
        }
        return embedded
    }

    private static func embedded(_ certificate: Certificate, bytes: [UInt8], index: Int) throws -> SignerCredentials {
        let form: String
        switch certificate {
        case .x509PEM, .publicKeyPEM: form = "PEM"
        default: form = "DER"
        }
        switch certificate {
        case .x509PEM, .x509DER:
            let origin = "the embedded certificate (stream \(index))"
            let chain: [X509Certificate]
            do {
                chain = try X509Certificate.chain(loading: bytes)
            } catch {
                throw ResolutionFailure.unreadable("\(origin) cannot be read as X.509 \(form): \(error)")
            }
            guard let leaf = chain.first else { throw ResolutionFailure.unreadable("\(origin) is empty") }
            do {
                return SignerCredentials(key: try leaf.publicKey, chain: chain, origin: "\(origin), \(leaf.subject)")
            } catch {
                throw ResolutionFailure.unreadable("\(origin): \(error)")
            }
        default:
            let origin = "the embedded public key (stream \(index))"
            do {
                if case .publicKeyPEM = certificate { try PEMText.requireOnlyBlocks(in: bytes, single: true) }
                return SignerCredentials(key: try VerifyingKey(loading: bytes), chain: [], origin: origin)
            } catch {
                throw ResolutionFailure.unreadable("\(origin) cannot be read as a \(form) public key: \(error)")
            }
        }
    }

    private static func describe(_ certificate: Certificate) -> String {
        switch certificate {
        case .none: return "none"
        case .url(let url): return "named by URL \(url)"
        case .targetDomain(let domain): return "named by target domain \(domain)"
        default: return "embedded"
        }
    }
}

/// Who a signer is, as compared across versions (signer continuity) and shown in reports: the
/// certificate's subject, or the key's fingerprint for a bare key.
public struct SignerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// `subject:CN=…,O=…` or `key:sha256:<hex>`.
    public let text: String
    /// Hex SHA-256 of the signer key's SubjectPublicKeyInfo.
    public let keyFingerprint: String

    public init(text: String, keyFingerprint: String) {
        self.text = text
        self.keyFingerprint = keyFingerprint
    }

    public init(_ signer: SignerCredentials) {
        let fingerprint = (try? signer.key.fingerprint).map(Hex.encode) ?? ""
        if let leaf = signer.chain.first {
            self.init(text: Self.subjectPrefix + leaf.subject, keyFingerprint: fingerprint)
        } else {
            self.init(text: "key:sha256:\(fingerprint)", keyFingerprint: fingerprint)
        }
    }

    public var description: String {
        text.hasPrefix(Self.subjectPrefix) ? Self.shown(text) : "key sha256:\(keyFingerprint.prefix(16))…"
    }

    private static let subjectPrefix = "subject:"

    /// A recorded identity's `text` for messages: a certificate's subject without its prefix;
    /// a key's text as it is.
    public static func shown(_ text: String) -> String {
        text.hasPrefix(subjectPrefix) ? String(text.dropFirst(subjectPrefix.count)) : text
    }
}

/// A signer as signer continuity compares it: what the trust policy authenticated, not what
/// the certificate claims. Under an anchor that is the anchor (by the SHA-256 of its
/// certificate) together with the leaf's subject and subject alternative names, since any anchor
/// trusted for an application can issue any name; under a pinned key it is the key, since the
/// names of a certificate around a pinned key were vouched for by nobody.
public struct SignerContinuity: Sendable, Equatable, CustomStringConvertible {
    public enum Authority: Sendable, Equatable {
        /// A chain to the anchor whose certificate has this SHA-256 (hex); `names` are the
        /// leaf's subject alternative names (the subject is in `text`).
        case anchor(sha256: String, names: [String])
        /// A pinned key whose SubjectPublicKeyInfo has this SHA-256 (hex).
        case pinnedKey(sha256: String)
    }

    /// `SignerIdentity.text`: `subject:…` or `key:sha256:…`, all a record written before
    /// issue 24 kept.
    public let text: String
    /// Nil for such an earlier record: only `text` can be compared then.
    public let authority: Authority?
    /// The anchor's subject, for messages only (two anchors may share one).
    public let anchorSubject: String?
    /// Hex SHA-256 of the signer's key: compared only when one version was trusted through an
    /// anchor and the other through a pinned key (the same key is the same signer then).
    public let keySHA256: String?

    public init(text: String, authority: Authority?, anchorSubject: String? = nil, keySHA256: String? = nil) {
        self.text = text
        self.authority = authority
        self.anchorSubject = anchorSubject
        self.keySHA256 = keySHA256
    }

    /// True when `self` continues `previous`: the same authority and, under an anchor, the same
    /// names. A previous signer known by its text only (an earlier record) is compared by what
    /// it has, the text, and nothing more is assumed of it.
    public func isSameSigner(as previous: SignerContinuity) -> Bool {
        guard let before = previous.authority, let now = authority else { return previous.text == text }
        switch (before, now) {
        case (.pinnedKey(let a), .pinnedKey(let b)):
            return a == b
        case (.anchor(let a, let namesBefore), .anchor(let b, let namesNow)):
            return a == b && previous.text == text && namesBefore.sorted() == namesNow.sorted()
        // The trust input changed between versions; the holder of the same private key is the
        // same signer, whatever vouched for it (a name alone would not do).
        case (.pinnedKey(let pinned), .anchor):
            return keySHA256 == pinned
        case (.anchor, .pinnedKey(let pinned)):
            return previous.keySHA256 == pinned
        }
    }

    /// E.g. `CN=Release (SAN release@acme.example) under the anchor CN=Acme CA, sha256:0123456789abcdef…`.
    public var description: String {
        let name = SignerIdentity.shown(text)
        switch authority {
        case nil: return name
        case .pinnedKey(let sha256)?:
            return "the pinned key sha256:\(sha256.prefix(16))…" + (text.hasPrefix("key:") ? "" : " (certificate \(name))")
        case .anchor(let sha256, let names)?:
            let alternatives = names.isEmpty ? "" : " (SAN \(names.joined(separator: ", ")))"
            let anchor = anchorSubject.map { "\($0), " } ?? ""
            return "\(name)\(alternatives) under the anchor \(anchor)sha256:\(sha256.prefix(16))…"
        }
    }
}

/// An expected signer identity, like cosign's `--certificate-identity` (exact) and
/// `--certificate-identity-regexp` (a pattern the whole name must match). A certificate's
/// names are its subject (RFC 2253), its common name, and its subject alternative names
/// (e-mail, DNS, URI).
public struct IdentityRule: Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case exact, pattern }

    public let kind: Kind
    public let text: String
    private let regex: PatternBox?

    public init(exact text: String) {
        kind = .exact
        self.text = text
        regex = nil
    }

    /// Throws a `.usage` error when `pattern` is not a regular expression.
    public init(pattern: String) throws {
        kind = .pattern
        text = pattern
        do {
            regex = PatternBox(try Regex(pattern))
        } catch {
            throw CPKError.usage("\"\(pattern)\" is not a regular expression: \(error)")
        }
    }

    public func matches(_ names: [String]) -> Bool {
        switch kind {
        case .exact: return names.contains(text)
        case .pattern:
            guard let regex else { return false }
            return names.contains { (try? regex.regex.wholeMatch(in: $0)) != nil }
        }
    }

    public var description: String { kind == .exact ? "\"\(text)\"" : "/\(text)/" }

    static func names(of certificate: X509Certificate) -> [String] {
        [certificate.subject] + (certificate.commonName.map { [$0] } ?? []) + certificate.subjectAlternativeNames
    }
}

/// `Regex` is not Sendable; a compiled pattern is never mutated, so sharing it is safe.
private final class PatternBox: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>
    init(_ regex: Regex<AnyRegexOutput>) { self.regex = regex }
}
