import CPKCore
import CPKCrypto
import CPKFormat

/// The checks `cpk-verify` reports, in the order it reports them; `--require` takes their names.
public enum VerificationCheck: String, CaseIterable, Sendable {
    case structure
    case payloadTag = "payload-tag"
    case payloadDigest = "payload-digest"
    case payloadSignature = "payload-signature"
    case payloadCertificate = "payload-certificate"
    case payloadTrust = "payload-trust"
    case packageDigest = "package-digest"
    case packageSignature = "package-signature"
    case packageCertificate = "package-certificate"
    case packageTrust = "package-trust"
    /// Whether a trusted package signature covers the manifest (id, version, name, target).
    case manifest

    public static func signature(_ target: SignatureTarget) -> Self { target == .payload ? .payloadSignature : .packageSignature }
    public static func certificate(_ target: SignatureTarget) -> Self { target == .payload ? .payloadCertificate : .packageCertificate }
    public static func trust(_ target: SignatureTarget) -> Self { target == .payload ? .payloadTrust : .packageTrust }

    public var isSignature: Bool { self == .payloadSignature || self == .packageSignature }
    public var isTrust: Bool { self == .payloadTrust || self == .packageTrust }
}

/// The outcome of one check.
public struct CheckResult: Sendable, Equatable {
    public enum Status: String, Sendable {
        case passed
        case failed
        case skipped
    }

    public let check: VerificationCheck
    public let status: Status
    /// What was checked and how it went, or why it failed or was skipped.
    public let detail: String
    /// Why a certificate or trust check failed, for callers that must tell failures apart.
    public var reason: TrustFailure.Reason? = nil

    public var name: String { check.rawValue }
}

/// What was established about a package.
public enum Verdict: String, Sendable {
    /// Every check that ran passed, and a trust input authenticated at least one signer.
    case authenticated
    /// Every check that ran passed, but nothing says who signed (an integrity-only check).
    case intact
    case notVerified = "not-verified"
}

/// Everything a verification found, for people and for scripts.
public struct VerificationReport: Sendable {
    public let input: String
    public var kind: InputKind?
    public var packageID: String?
    public let time: Int
    public var checks: [CheckResult] = []
    public var certificates: [CertificateInfo] = []
    /// True when a trust input (anchor or pinned key) was given.
    public var hadTrustInput = false

    /// A certificate's identity and validity, always reported.
    public struct CertificateInfo: Sendable {
        public let target: SignatureTarget
        public let certificate: X509Certificate
        public let validity: X509Certificate.Validity
    }

    public init(input: String, time: Int) {
        self.input = input
        self.time = time
    }

    mutating func add(_ check: VerificationCheck, _ status: CheckResult.Status, _ detail: String) {
        checks.append(CheckResult(check: check, status: status, detail: Self.oneLine(detail)))
    }

    mutating func add(_ check: VerificationCheck, failure: TrustFailure) {
        checks.append(CheckResult(check: check, status: .failed, detail: Self.oneLine(failure.message), reason: failure.reason))
    }

    public func result(_ check: VerificationCheck) -> CheckResult? { checks.first { $0.check == check } }

    public func passed(_ check: VerificationCheck) -> Bool { result(check)?.status == .passed }

    /// Details quote the package (URLs, names): control characters are shown escaped, so a
    /// hostile package can neither add a line of its own ("... PASSED") nor reach the terminal.
    static func oneLine(_ text: String) -> String {
        TerminalText.escaped(text)
    }

    /// The signatures that were checked and passed.
    public var signaturesChecked: Int { checks.filter { $0.check.isSignature && $0.status == .passed }.count }

    /// True when a trust input authenticated at least one signer.
    public var isAuthenticated: Bool { checks.contains { $0.check.isTrust && $0.status == .passed } }

    /// True when a trusted package signature covers the manifest.
    public var isManifestAuthenticated: Bool { passed(.manifest) }

    /// Why the package is not verified, empty when it is: a failed check, a required check
    /// that did not pass, no signature checked at all, or (unless `integrityOnly`) no signer
    /// authenticated by a trust input.
    public func problems(requiring required: [VerificationCheck], integrityOnly: Bool) -> [Problem] {
        var problems = checks.filter { $0.status == .failed }.map { Problem.failed($0.check) }
        for check in required {
            switch result(check)?.status {
            case nil: problems.append(.requiredNotRun(check))
            case .skipped: problems.append(.requiredSkipped(check))
            case .passed, .failed: break
            }
        }
        let structureFailed = result(.structure)?.status == .failed
        // "No signature was checked" only when none was: a signature that was checked and
        // failed is already the problem, and saying both would contradict the check lines.
        let signatureTried = checks.contains { $0.check.isSignature && $0.status != .skipped }
        if signaturesChecked == 0 && !structureFailed && !signatureTried {
            problems.append(.noSignature)
        } else if problems.isEmpty && !isAuthenticated && !integrityOnly && !hadTrustInput {
            problems.append(.noTrustInput)
        }
        return problems
    }

    public func verdict(requiring required: [VerificationCheck], integrityOnly: Bool) -> Verdict {
        guard problems(requiring: required, integrityOnly: integrityOnly).isEmpty else { return .notVerified }
        return isAuthenticated ? .authenticated : .intact
    }

    /// One reason a package is not verified.
    public enum Problem: Sendable, Equatable, CustomStringConvertible {
        case failed(VerificationCheck)
        case requiredNotRun(VerificationCheck)
        case requiredSkipped(VerificationCheck)
        case noSignature
        /// Signatures verified, but no anchor or pinned key was given to say who made them.
        case noTrustInput

        public var description: String {
            switch self {
            case .failed(let check): return "\(check.rawValue) failed"
            case .requiredNotRun(.manifest):
                return "manifest is required but not authenticated: only a package signature covers the manifest, and none was checked"
            case .requiredNotRun(let check): return "\(check.rawValue) is required but was not run"
            case .requiredSkipped(let check): return "\(check.rawValue) is required but was skipped"
            case .noSignature: return "no signature was checked"
            case .noTrustInput: return "no trust input: the signatures show the package is intact, not who signed it"
            }
        }
    }
}
