import CPKCore
import CPKCrypto
import CPKFormat

/// The checks an install makes, in the order it makes them.
public enum InstallCheck: String, CaseIterable, Sendable {
    /// Who signed: the signer authenticated by a trust anchor (host side, before any data).
    case signer
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
    /// Only for the signer check: no trust anchor, so the signer is not authenticated.
    case notAuthenticated = "not-authenticated"
    /// Not reached: an earlier step stopped the install.
    case notRun = "not-run"
    /// Only for the package signature check: the package has none to check.
    case absent
}

/// What an install did, for people (`text`) and scripts (`json`).
public struct InstallReport {
    public let source: String
    public let manifest: Manifest
    public var payloadSize: UInt64?
    public var outcomes: [InstallCheck: CheckOutcome] = [:]
    public var signer: SignerAuthentication?
    public var installed = false
    /// Why nothing was installed; nil on success.
    public var failure: Error?

    public init(source: String, manifest: Manifest) {
        self.source = source
        self.manifest = manifest
    }

    public func outcome(_ check: InstallCheck) -> CheckOutcome { outcomes[check] ?? .notRun }

    public var text: String {
        let version = manifest.payload.version
        var lines = [
            "Package:   \(manifest.id) (\(source))",
            "Name:      \(manifest.name)",
            "Vendor:    \(manifest.vendor)",
            "Target:    \(manifest.payload.target.arch) / \(manifest.payload.target.os)",
            "Version:   \(version.dotted) (\(version.date))",
        ]
        if let payloadSize { lines.append("Size:      \(payloadSize) bytes") }
        for check in InstallCheck.allCases { lines.append(line(for: check)) }
        if installed {
            lines.append("Installed \(manifest.id) \(version.dotted)")
        } else {
            lines.append("NOT INSTALLED: nothing of \(manifest.id) \(version.dotted) was kept")
        }
        return lines.joined(separator: "\n")
    }

    private func line(for check: InstallCheck) -> String {
        switch (check, outcome(check)) {
        case (.signer, .notAuthenticated):
            return "Signer check NOT AUTHENTICATED: no trust anchor was given (--ca, --trusted-key, cpk-install trust add); "
                + "the signature is checked against the key the package itself carries, so it proves the package "
                + "is intact, not who signed it"
        case (.signer, .passed):
            return "Signer check PASSED (\(signerText))"
        case (_, .absent): return "\(check.title): none (the package has no package signature)"
        case (_, .passed): return "\(check.title) PASSED"
        case (_, .failed): return "\(check.title) FAILED"
        case (_, .notRun), (_, .notAuthenticated): return "\(check.title) not run"
        }
    }

    private var signerText: String {
        switch signer {
        case .trustedKey(let fingerprint): return "a trusted key, sha256:\(fingerprint.prefix(16))…"
        case .trustedCA(let subject): return "its certificate chains to the trusted \(subject)"
        case .notAuthenticated, nil: return "not authenticated"
        }
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
            ("signer", signerJSON),
            ("error", failure.map { .string(($0 as? CPKError)?.message ?? "\($0)") } ?? .null),
        ])
    }

    private var signerJSON: JSONValue {
        switch signer {
        case .trustedKey(let fingerprint):
            return .object([("authenticated", .bool(true)), ("trusted-key-sha256", .string(fingerprint))])
        case .trustedCA(let subject):
            return .object([("authenticated", .bool(true)), ("trusted-ca", .string(subject))])
        case .notAuthenticated:
            return .object([("authenticated", .bool(false)), ("reason", .string("no trust anchor"))])
        case nil:
            return .null
        }
    }
}
