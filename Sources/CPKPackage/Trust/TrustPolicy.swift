import CPKCore
import CPKCrypto

/// Who may sign packages, and by which rules a signer is judged: the one trust decision that
/// `cpk-verify`, `cpk-install` and `cpk-unpack` share (docs/format.md, "Trust model").
///
/// Every signature that counts is judged the same way: a certificate must be valid at `time`
/// (or expired with `allowExpired`), allow digital signatures (key usage) and code signing
/// (extended key usage, or none), and form an intact chain; the signer is trusted when its key
/// is a pinned key, or its certificate chains to an anchor, either scoped to the package's
/// application id; and when identity rules are given, the certificate must match one.
public struct TrustPolicy: Sendable {
    /// The application ids a trust input may vouch for.
    public enum Scope: Sendable, Equatable {
        case anyApplication
        case applications([String])

        public func allows(_ id: String) -> Bool {
            switch self {
            case .anyApplication: return true
            case .applications(let ids): return ids.contains(id)
            }
        }
    }

    /// A CA certificate (root or intermediate) a signer's chain may end at.
    public struct Anchor: Sendable {
        public let certificate: X509Certificate
        public let scope: Scope

        public init(_ certificate: X509Certificate, scope: Scope = .anyApplication) {
            self.certificate = certificate
            self.scope = scope
        }
    }

    /// A signer's key trusted as it is.
    public struct PinnedKey: Sendable {
        public let key: VerifyingKey
        public let scope: Scope

        public init(_ key: VerifyingKey, scope: Scope = .anyApplication) {
            self.key = key
            self.scope = scope
        }
    }

    public var anchors: [Anchor] = []
    public var pinnedKeys: [PinnedKey] = []
    /// Certificates that may complete a chain without being trusted themselves (like
    /// `openssl verify -untrusted`).
    public var intermediates: [X509Certificate] = []
    /// When not empty, the signer's certificate must match one of these.
    public var identities: [IdentityRule] = []
    /// Seconds since 1970 at which certificates must be valid.
    public var time: Int
    /// Accept certificates whose validity period has ended (and only that).
    public var allowExpired = false

    public init(time: Int) { self.time = time }

    /// True when something can authenticate a signer: an anchor or a pinned key.
    public var hasTrustInput: Bool { !anchors.isEmpty || !pinnedKeys.isEmpty }

    /// Judges `signer` as the signer of a package of `applicationID`.
    public func evaluate(_ signer: SignerCredentials, applicationID: String) -> TrustVerdict {
        guard hasTrustInput else { return .noTrustInput }
        if let problem = certificateProblem(signer) { return .untrusted(problem) }
        if let problem = identityProblem(signer) { return .untrusted(problem) }
        let identity = SignerIdentity(signer)
        if let pinned = pinnedKeys.first(where: { $0.key.isSameKey(as: signer.key) }) {
            guard pinned.scope.allows(applicationID) else {
                return .untrusted(TrustFailure(.outOfScope, "the pinned key of \(identity) is not trusted for the application \"\(applicationID)\""))
            }
            return .trusted(TrustedSigner(
                identity: identity, basis: .pinnedKey(fingerprint: identity.keyFingerprint),
                continuity: SignerContinuity(
                    text: identity.text, authority: .pinnedKey(sha256: identity.keyFingerprint), keySHA256: identity.keyFingerprint)))
        }
        guard let leaf = signer.chain.first else {
            return .untrusted(TrustFailure(.noCertificate,
                anchors.isEmpty
                    ? "the signer's key (\(signer.origin)) is not a pinned key"
                    : "\(signer.origin) is a bare key, not a pinned one, and has no certificate to chain to an anchor"))
        }
        guard !anchors.isEmpty else {
            return .untrusted(TrustFailure(.notPinned, "the signer's key (\(signer.origin)) is not a pinned key"))
        }
        let scoped = anchors.filter { $0.scope.allows(applicationID) }
        let chained = chain(leaf, signer, to: scoped)
        if case .trusted(let path, let anchor) = chained {
            // Continuity is bound to what vouched for the name: any anchor trusted for this
            // application can issue "CN=Release", so the name alone proves nothing.
            let continuity = SignerContinuity(
                text: identity.text, authority: .anchor(sha256: Hex.encode(anchor), names: leaf.subjectAlternativeNames),
                anchorSubject: path.last, keySHA256: identity.keyFingerprint)
            return .trusted(TrustedSigner(identity: identity, basis: .anchor(path: path), continuity: continuity))
        }
        if scoped.count < anchors.count, case .trusted = chain(leaf, signer, to: anchors) {
            return .untrusted(TrustFailure(.outOfScope,
                "\(leaf.subject) chains to an anchor that is not trusted for the application \"\(applicationID)\""))
        }
        if case .untrusted(let reason) = chained {
            return .untrusted(TrustFailure(.untrustedChain, "\(leaf.subject) does not chain to a trusted anchor: \(reason)"))
        }
        return .untrusted(TrustFailure(.untrustedChain, "\(leaf.subject) does not chain to a trusted anchor"))
    }

    /// What is wrong with the signer's certificate by the rules that hold with or without a
    /// trust input: validity, key usage, extended key usage, an intact chain. Nil for a bare key.
    public func certificateProblem(_ signer: SignerCredentials) -> TrustFailure? {
        guard let leaf = signer.chain.first else { return nil }
        if let broken = Self.brokenLink(in: signer.chain) { return TrustFailure(.brokenChain, broken) }
        guard leaf.allowsDigitalSignature else {
            return TrustFailure(.keyUsage, "\(leaf.subject): its key usage does not allow digital signatures")
        }
        guard leaf.allowsCodeSigning else {
            return TrustFailure(.extendedKeyUsage, "\(leaf.subject): its extended key usage does not allow code signing")
        }
        let at = "checked at \(Timestamp.format(secondsSinceEpoch: time))"
        switch leaf.validity(at: time) {
        case .valid: return nil
        case .expired where allowExpired: return nil
        case .expired:
            return TrustFailure(.expired, "\(leaf.subject) expired on \(Self.date(leaf.notAfter)) (\(at))")
        case .notYetValid:
            return TrustFailure(.notYetValid, "\(leaf.subject) is not valid before \(Self.date(leaf.notBefore)) (\(at))")
        }
    }

    /// The signer certificate's validity when it is not valid at `time` (expired or not yet
    /// valid), e.g. "CN=Release expired on 2022-01-01T00:00:00Z (checked at …)"; nil when it is
    /// valid or there is no certificate. For reports that accept such a signer (development
    /// mode, `allowExpired`) and must still say so.
    public func validityNote(_ signer: SignerCredentials) -> String? {
        guard let leaf = signer.chain.first else { return nil }
        let at = "checked at \(Timestamp.format(secondsSinceEpoch: time))"
        switch leaf.validity(at: time) {
        case .valid: return nil
        case .expired: return "\(leaf.subject) expired on \(Self.date(leaf.notAfter)) (\(at))"
        case .notYetValid: return "\(leaf.subject) is not valid before \(Self.date(leaf.notBefore)) (\(at))"
        }
    }

    private func identityProblem(_ signer: SignerCredentials) -> TrustFailure? {
        guard !identities.isEmpty else { return nil }
        guard let leaf = signer.chain.first else {
            return TrustFailure(.identityMismatch, "\(signer.origin) is a bare key: it has no certificate identity to match")
        }
        let names = IdentityRule.names(of: leaf)
        guard identities.contains(where: { $0.matches(names) }) else {
            return TrustFailure(.identityMismatch,
                "the signer's certificate (\(names.joined(separator: ", "))) matches none of the expected identities "
                    + identities.map(\.description).joined(separator: ", "))
        }
        return nil
    }

    private func chain(_ leaf: X509Certificate, _ signer: SignerCredentials, to anchors: [Anchor]) -> CertificateChain.Outcome {
        guard !anchors.isEmpty else { return .untrusted(reason: "no anchor is trusted for this application") }
        do {
            return try CertificateChain.verify(
                leaf: leaf, intermediates: Array(signer.chain.dropFirst()) + intermediates, anchors: anchors.map(\.certificate),
                at: time, allowExpired: allowExpired)
        } catch {
            return .untrusted(reason: "\(error)")
        }
    }

    /// Each certificate of a chain must be signed by the next, and a self-issued last one by
    /// itself: a changed byte anywhere in them is caught even without an anchor.
    static func brokenLink(in chain: [X509Certificate]) -> String? {
        for (certificate, issuer) in zip(chain, chain.dropFirst()) {
            guard let key = try? issuer.publicKey, certificate.isSigned(by: key) else {
                return "\(certificate.subject) is not signed by the next certificate of the chain, \(issuer.subject): altered or out of order"
            }
        }
        if let last = chain.last, last.isSelfIssued {
            guard let key = try? last.publicKey, last.isSigned(by: key) else {
                return "\(last.subject) is self-issued but its signature does not verify: the certificate was altered"
            }
        }
        return nil
    }

    static func date(_ seconds: Int?) -> String { seconds.map { Timestamp.format(secondsSinceEpoch: $0) } ?? "?" }
}

/// The outcome of `TrustPolicy.evaluate`.
public enum TrustVerdict: Sendable, Equatable {
    case trusted(TrustedSigner)
    case untrusted(TrustFailure)
    /// No anchor and no pinned key: the signature shows the package is intact, not who signed it.
    case noTrustInput

    public var trustedSigner: TrustedSigner? {
        if case .trusted(let signer) = self { return signer }
        return nil
    }
}

/// A signer the policy authenticated, and on what grounds.
public struct TrustedSigner: Sendable, Equatable {
    public enum Basis: Sendable, Equatable {
        case pinnedKey(fingerprint: String)
        /// The chain by subject, leaf first, ending at the anchor.
        case anchor(path: [String])
    }

    public let identity: SignerIdentity
    public let basis: Basis
    /// What an upgrade's signer is compared with (signer continuity).
    public let continuity: SignerContinuity

    public init(identity: SignerIdentity, basis: Basis, continuity: SignerContinuity) {
        self.identity = identity
        self.basis = basis
        self.continuity = continuity
    }

    /// E.g. "chain CN=Signer <- CN=Acme CA ends at a trusted anchor".
    public var explanation: String {
        switch basis {
        case .pinnedKey(let fingerprint): return "the signer's key is a pinned key (sha256:\(fingerprint.prefix(16))…)"
        case .anchor(let path): return "chain \(path.joined(separator: " <- ")) ends at a trusted anchor"
        }
    }
}

/// Why a signer is not trusted: a reason code for callers, a message for people.
public struct TrustFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case brokenChain = "broken-chain"
        case keyUsage = "key-usage"
        case extendedKeyUsage = "extended-key-usage"
        case expired
        case notYetValid = "not-yet-valid"
        case noCertificate = "no-certificate"
        case notPinned = "not-pinned"
        case untrustedChain = "untrusted-chain"
        case outOfScope = "out-of-scope"
        case identityMismatch = "identity-mismatch"
    }

    public let reason: Reason
    public let message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }
}
