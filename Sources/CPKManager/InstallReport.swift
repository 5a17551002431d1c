import CPKCore
import CPKCrypto
import CPKFormat
import CPKPackage

/// The checks an install makes, in the order it makes them.
public enum InstallCheck: String, CaseIterable, Sendable {
    /// Who signed: the payload's signer authenticated by the trust policy, and the same
    /// identity as the installed version's (host side, before any data).
    case signer
    /// What the manifest says (id, version, name, target) is covered by a trusted signature.
    case manifest
    /// Anti-rollback: not older than the installed version of the same id.
    case version
    /// The class key of the application is installed in the Package Manager.
    case classKey = "class-key"
    /// The AES-256-GCM tag authenticates the ciphertext under the class key.
    case tag
    /// The decrypted payload hashes to the package's SHA-256 digest.
    case digest
    /// The RSA PKCS#1 v1.5 signature of that digest verifies with the signer's key.
    case signature
    /// The package digest and signature, when the package has them: they cover the manifest
    /// (identity, version) and every mapped stream. Checked on the host side.
    case package

    /// The name messages use, e.g. "Digest check".
    public var title: String {
        switch self {
        case .signer: return "Signer check"
        case .manifest: return "Manifest check"
        case .version: return "Version check"
        case .classKey: return "Class key check"
        case .tag: return "Tag check"
        case .digest: return "Digest check"
        case .signature: return "Signature check"
        case .package: return "Package signature check"
        }
    }
}

public enum CheckOutcome: String, Sendable {
    case passed
    case failed
    /// Only for the signer and manifest checks: the device has no trust policy (development
    /// mode), so nothing is authenticated.
    case notAuthenticated = "not-authenticated"
    /// Only for the manifest check: not authenticated, and installed because that was asked for.
    case acceptedUnauthenticated = "accepted-unauthenticated"
    /// Not reached: an earlier step stopped the install.
    case notRun = "not-run"
    /// Only for the package signature check: the package has none to check.
    case absent
}

/// One signer as the trust policy judged it: who (from its certificate or key) and the verdict,
/// kept for a refused signer too, so a report can name the one that failed.
public struct SignerVerdict: Sendable, Equatable {
    public let identity: SignerIdentity
    public let verdict: TrustVerdict

    public init(identity: SignerIdentity, verdict: TrustVerdict) {
        self.identity = identity
        self.verdict = verdict
    }
}

/// What an install did, for people (`text`) and scripts (`json`).
public struct InstallReport {
    public let source: String
    public let manifest: Manifest
    public var payloadSize: UInt64?
    public var outcomes: [InstallCheck: CheckOutcome] = [:]
    /// The payload's signer, when the trust policy authenticated it.
    public var payloadSigner: TrustedSigner?
    /// The package signature's signer, when there is one and the trust policy authenticated it.
    public var packageSigner: TrustedSigner?
    /// Each signer's verdict under a trust policy, trusted or not (nil in development mode).
    public var payloadSignerVerdict: SignerVerdict?
    public var packageSignerVerdict: SignerVerdict?
    /// A signer certificate not valid at the checking time, said when the install goes on
    /// with it (development mode, or an expired one allowed); one line each.
    public var validityNotes: [String] = []
    /// True when a trusted signature covers the manifest.
    public var manifestAuthenticated = false
    /// True when the device has no trust policy: nothing is authenticated.
    public var developmentMode = false
    /// The installed version's signer, when it differs from this package's (allowed explicitly).
    public var previousSigner: String?
    /// The same, with what vouched for it (the anchor or the pinned key), for messages.
    public var previousSignerIdentity: SignerContinuity?
    /// The installed version's development floor, when a trust policy set it aside: no
    /// authenticated manifest set it (docs/format.md §8.3, rule 7).
    public var setAsideFloor: Version?

    /// The identity a device records and compares on upgrade: the package signer's when there
    /// is one (it vouches for the whole package, the payload signature included), else the
    /// payload signer's.
    public var recordedSigner: TrustedSigner? { packageSigner ?? payloadSigner }
    public var installed = false
    /// Why nothing was installed; nil on success.
    public var failure: Error?

    public init(source: String, manifest: Manifest) {
        self.source = source
        self.manifest = manifest
    }

    public func outcome(_ check: InstallCheck) -> CheckOutcome { outcomes[check] ?? .notRun }

    public var text: String { identityText + "\n" + resultText }

    /// The package's identity, known before its payload flows (a tool prints it first).
    public var identityText: String {
        let version = manifest.payload.version
        var lines = [
            "Package:   \(manifest.id) (\(source))",
            "Name:      \(manifest.name)",
            "Vendor:    \(manifest.vendor)",
            "Target:    \(manifest.payload.target.arch) / \(manifest.payload.target.os)",
            "Version:   \(version.dotted) (\(version.date))",
        ]
        if let payloadSize { lines.append("Size:      \(payloadSize) bytes") }
        return lines.map(TerminalText.escaped).joined(separator: "\n")
    }

    /// The checks and the verdict, known once the payload has flowed.
    public var resultText: String {
        let version = manifest.payload.version
        var lines: [String] = []
        // Checks that did not run after a refusal share one line, not one each.
        var notRun: [String] = []
        for check in InstallCheck.allCases {
            if outcome(check) == .notRun {
                notRun.append(check.title)
                continue
            }
            if !notRun.isEmpty { lines.append(notRun.joined(separator: ", ") + " not run") }
            notRun = []
            lines.append(line(for: check))
            if check == .signer, installed || outcome(check) != .failed {
                lines += validityNotes.map { "Signer certificate: \($0)" }
            }
        }
        if !notRun.isEmpty {
            lines.append(notRun.count == InstallCheck.allCases.count ? "No check ran" : notRun.joined(separator: ", ") + " not run")
        }
        if installed {
            let note = developmentMode ? " (development mode: nothing was authenticated)"
                : manifestAuthenticated ? "" : " (its manifest is not authenticated; the anti-rollback floor did not move)"
            lines.append("Installed \(manifest.id) \(version.dotted)" + note)
        } else {
            lines.append("NOT INSTALLED: nothing of \(manifest.id) \(version.dotted) was kept")
        }
        // The manifest and the certificates are the package's words: escaped, they cannot forge a line.
        return lines.map(TerminalText.escaped).joined(separator: "\n")
    }

    private func line(for check: InstallCheck) -> String {
        switch (check, outcome(check)) {
        case (.signer, .notAuthenticated):
            return "Signer check NOT AUTHENTICATED: development mode, the device has no trust policy (no trust anchor or "
                + "pinned key); the signature is checked against the key the package itself carries, so it proves the "
                + "package is intact, not who signed it"
        case (.signer, .passed):
            return "Signer check PASSED (\(signerText))"
        case (.manifest, .notAuthenticated):
            return "Manifest check NOT AUTHENTICATED: development mode; the id, version and names are the package's word"
        case (.manifest, .passed):
            return "Manifest check PASSED (the package signature by the trusted \(packageSigner?.identity.description ?? "?") covers it)"
        case (.version, .passed) where setAsideFloor != nil:
            return "Version check PASSED (the floor \(setAsideFloor?.dotted ?? "?") was set by a version no authenticated "
                + "manifest vouched for, so it does not bind under the trust policy"
                + (installed && manifestAuthenticated ? "; the floor is now \(manifest.payload.version.dotted))" : ")")
        case (.manifest, .acceptedUnauthenticated):
            return "Manifest check NOT AUTHENTICATED, accepted as asked: no trusted signature covers the manifest; "
                + "the version does not move the anti-rollback floor"
        case (_, .absent): return "\(check.title): none (the package has no package signature)"
        case (_, .passed): return "\(check.title) PASSED"
        case (_, .failed): return "\(check.title) FAILED"
        case (_, .notRun), (_, .notAuthenticated), (_, .acceptedUnauthenticated): return "\(check.title) not run"
        }
    }

    private var signerText: String {
        guard let payloadSigner else { return "not authenticated" }
        var text = "\(payloadSigner.identity): \(payloadSigner.explanation)"
        if let previousSigner {
            let vouched = previousSignerIdentity.map { " (\($0))" } ?? ""
            text += "; the installed version was signed by \(SignerIdentity.shown(previousSigner))\(vouched), a change allowed as asked"
        }
        return text
    }

    public var json: JSONValue {
        let version = manifest.payload.version
        return .object([
            ("installed", .bool(installed)),
            ("package", .string(source)),
            ("id", .string(manifest.id)),
            ("name", .string(manifest.name)),
            ("vendor", .string(manifest.vendor)),
            ("target", .object([("arch", .string(manifest.payload.target.arch)), ("os", .string(manifest.payload.target.os))])),
            ("version", .string(version.dotted)),
            ("date", .string(version.date)),
            ("size", payloadSize.map { .integer($0) } ?? .null),
            ("checks", .object(InstallCheck.allCases.map { ($0.rawValue, .string(outcome($0).rawValue)) })),
            ("development-mode", .bool(developmentMode)),
            ("manifest-authenticated", .bool(manifestAuthenticated)),
            ("signer", Self.json(payloadSignerVerdict, trusted: payloadSigner)),
            ("package-signer", Self.json(packageSignerVerdict, trusted: packageSigner)),
            ("previous-signer", previousSigner.map { .string($0) } ?? .null),
            ("set-aside-floor", setAsideFloor.map { .string($0.dotted) } ?? .null),
            ("validity-notes", .array(validityNotes.map { .string($0) })),
            ("error", failure.map { .string(($0 as? CPKError)?.message ?? "\($0)") } ?? .null),
        ])
    }

    /// A signer with its verdict: `trusted` with what trusted it, or `untrusted` with the
    /// reason code and message; null when no trust policy judged it.
    private static func json(_ judged: SignerVerdict?, trusted: TrustedSigner?) -> JSONValue {
        if case .untrusted(let failure)? = judged?.verdict, let judged {
            return .object([
                ("identity", .string(judged.identity.text)), ("key-sha256", .string(judged.identity.keyFingerprint)),
                ("verdict", .string("untrusted")), ("reason", .string(failure.reason.rawValue)),
                ("message", .string(failure.message)),
            ])
        }
        guard case .object(var fields) = json(trusted) else { return .null }
        fields.insert(("verdict", .string("trusted")), at: 2)
        return .object(fields)
    }

    private static func json(_ signer: TrustedSigner?) -> JSONValue {
        guard let signer else { return .null }
        var fields: [(String, JSONValue)] = [
            ("identity", .string(signer.identity.text)), ("key-sha256", .string(signer.identity.keyFingerprint)),
        ]
        switch signer.basis {
        case .pinnedKey: fields.append(("trusted-by", .string("pinned-key")))
        case .anchor(let path):
            fields.append(("trusted-by", .string("anchor")))
            fields.append(("chain", .array(path.map { .string($0) })))
            if case .anchor(let sha256, _)? = signer.continuity.authority { fields.append(("anchor-sha256", .string(sha256))) }
        }
        return .object(fields)
    }
}
