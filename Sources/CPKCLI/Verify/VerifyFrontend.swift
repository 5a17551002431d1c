import ArgumentParser
import CPKCore
import CPKCrypto
import CPKKeys
import CPKPackage

/// `cpk-verify`'s one entry point: the tool declares and validates its options; reading the
/// inputs they name, asking `Verifier` (which holds the rules), rendering the report and
/// choosing the exit status happen here.
public enum VerifyFrontend {
    static let tool = "cpk-verify"

    /// What the options of `cpk-verify` ask for.
    public struct Request {
        public var input: String
        public var trust: TrustOptions
        /// The signer's certificate file, for a package that names it only by URL or domain.
        public var certificate: String?
        public var integrityOnly: Bool
        public var required: [VerificationCheck]
        public var json: Bool
        public var keySource: ClassKeyOptions
        public var messages: MessageOptions

        public init(
            input: String, trust: TrustOptions, certificate: String?, integrityOnly: Bool, required: [VerificationCheck],
            json: Bool, keySource: ClassKeyOptions, messages: MessageOptions
        ) {
            (self.input, self.trust, self.certificate, self.integrityOnly) = (input, trust, certificate, integrityOnly)
            (self.required, self.json, self.keySource, self.messages) = (required, json, keySource, messages)
        }
    }

    /// Prints the report (lines or JSON) on standard output (`output`); exit status 1 when it has problems.
    public static func verify(_ request: Request, output: DocumentOutput = Console.output) throws {
        try JSONErrors.reporting(json: request.json, tool: tool) { try verifyReporting(request, output) }
    }

    private static func verifyReporting(_ request: Request, _ output: DocumentOutput) throws {
        try SmallInput.requireOneStandardInput([(request.input, "input"), (request.certificate ?? "", "--cert")] + request.trust.inputs)
        var policy = VerifyPolicy(trust: try request.trust.policy())
        policy.judgesValidity = !(request.integrityOnly && !policy.trust.hasTrustInput)
        if let certificate = request.certificate {
            policy.certificates = try TrustOptions.certificates(certificate, flag: "--cert", limit: 1 << 20)
        }
        let report = try run(request, policy: &policy)
        let (required, integrityOnly) = (request.required, request.integrityOnly)
        if request.json {
            try output(report.json(requiring: required, integrityOnly: integrityOnly))
        } else {
            let text = report.text(requiring: required, integrityOnly: integrityOnly, hint: hint)
            try output(request.messages.quiet ? verdictLine(of: text) : text)
        }
        let problems = report.problems(requiring: required, integrityOnly: integrityOnly)
        if problems.contains(.noTrustInput) && !request.json {
            Console.error("\(tool): no trust input: give --ca or --public-key, or --integrity-only to check integrity only")
        }
        if !problems.isEmpty { throw ExitCode(1) }
    }

    /// With -q, only the last line of a report: its verdict (VERIFIED / NOT VERIFIED, Installed /
    /// NOT INSTALLED), as minisign and `openssl verify` print one line.
    static func verdictLine(of text: String) -> String {
        String(text.split(separator: "\n", omittingEmptySubsequences: true).last ?? "")
    }

    /// The checks `--require` names: comma-separated, repeatable, blanks around a name
    /// ignored; an unknown name is a usage error that lists the known ones.
    public static func requiredChecks(_ values: [String]) throws -> [VerificationCheck] {
        let names = values.flatMap { $0.split(separator: ",").map { trimmingSpaces(String($0)) } }.filter { !$0.isEmpty }
        return try names.map { name in
            guard let check = VerificationCheck(rawValue: name) else {
                let known = VerificationCheck.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--require: unknown check \"\(name)\" (known: \(known))")
            }
            return check
        }
    }

    private static func trimmingSpaces(_ text: String) -> String {
        String(text.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }

    /// What the user can do about a failed check, in this tool's flags.
    static func hint(_ result: CheckResult) -> String? {
        switch result.reason {
        case .expired: return "check at its time with --at, or accept it with --allow-expired"
        case .identityMismatch: return "see --certificate-identity"
        case .notPinned, .noCertificate: return "pin the signer's key with --public-key, or give its CA with --ca"
        case .untrustedChain: return "give the CA with --ca, and intermediates with --untrusted"
        default: return nil
        }
    }

    /// An input that is not a package is a failed structure check (exit 1), not an error.
    private static func run(_ request: Request, policy: inout VerifyPolicy) throws -> VerificationReport {
        let package: PackageInput
        do {
            package = try openPackage(request.input)
        } catch let error as CPKError where error.kind == .invalidInput {
            return Verifier.structureFailure(SmallInput.displayName(request.input), error, time: policy.time)
        }
        policy.classKey = try classKey(for: package, request)
        defer { if policy.classKey != nil { wipe(&policy.classKey!) } }
        let progress = request.messages.watch(package, tool: tool, verb: "checking")
        defer { progress?.finish() }
        return try Verifier.verify(package, policy: policy)
    }

    /// The class key, when a key source is given and the payload is encrypted. Its failures
    /// are the key source's (exit 1 or 2), not a verdict on the package.
    private static func classKey(for package: PackageInput, _ request: Request) throws -> [UInt8]? {
        guard request.keySource.isGiven, case .aesGCM(let keyName, _, _, _) = package.head.manifest.payload.encryption else {
            return nil
        }
        return try request.keySource.classKey(defaultName: keyName, tool: tool, messages: request.messages)
    }
}
