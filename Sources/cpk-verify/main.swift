import ArgumentParser
import CPKCLI
import CPKCore
import CPKCrypto
import CPKKeys
import CPKPackage

#if canImport(Glibc)
import Glibc
#endif

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-verify",
        abstract: "Check the digests, signatures and certificates of a package.",
        discussion: """
            Reads an envelope or a .cpk and reports each check on a line of its own, \
            "NAME PASSED: ...", "NAME FAILED: reason" or "NAME SKIPPED: why", then a verdict \
            line; --json prints one JSON document instead (schema in cpk-verify(1)). The \
            checks: structure; payload-tag and payload-digest (an encrypted payload only with \
            a key source, as for cpk-seal); payload-signature, payload-certificate (validity \
            period, key usage, an intact chain), payload-trust (a chain to a --ca anchor, or \
            the --public-key pin); and the same for the package signature over package.map, \
            after package-digest.

            A certificate's validity is always checked at the current time, or at --at TIME. \
            An expired certificate fails unless --allow-expired says to accept it (packages \
            of the reference tool carry a demo certificate that expired in 2022).

            Examples:
              cpk-verify app.cpk
              cpk-verify --ca root.pem --require payload-signature,payload-trust app.cpk
              cpk-verify --json --public-key signer.pub app.cpk | jq .verified
              cpk-verify --allow-expired reference.cpk
              cpk-verify --file-store test.json --quiet --require payload-digest app.cpk

            Exit status: 0 only when every check that ran passed, every --require check ran \
            and passed, and at least one signature was checked; 1 when a check failed or the \
            input is not a valid package; 2 usage or I/O error.
            """)

    @OptionGroup var input: PackageInputArgument

    @Option(help: ArgumentHelp(
        "A trust anchor: certificate chains must end at one of the certificates in FILE (PEM or DER); repeatable.",
        valueName: "file"))
    var ca: [String] = []

    @Option(help: ArgumentHelp(
        "Pin the signer's key: a public key or certificate (PEM or DER) the signer's key must be.", valueName: "file"))
    var publicKey: String?

    @Option(name: .customLong("cert"), help: ArgumentHelp(
        "The signer's certificate (and chain) when the package only names it by URL or domain.", valueName: "file"))
    var certificate: String?

    @Option(help: ArgumentHelp(
        "Check certificates at TIME: RFC 3339, YYYY-MM-DD, or @SECONDS (default: now).", valueName: "time"))
    var at: String?

    @Flag(help: "Accept certificates whose validity period has ended (it is still reported).")
    var allowExpired = false

    @Option(help: ArgumentHelp(
        "Checks that must run and pass, comma-separated (e.g. payload-signature,payload-trust); repeatable.",
        valueName: "checks"))
    var require: [String] = []

    @Flag(help: "Print one JSON document instead of lines.")
    var json = false

    @OptionGroup var keySource: ClassKeyOptions

    var requiredChecks: [String] {
        require.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: " ") } }.filter { !$0.isEmpty }
    }

    func validate() throws {
        if let unknown = requiredChecks.first(where: { !Verifier.checkNames.contains($0) }) {
            throw ValidationError("--require: unknown check \"\(unknown)\" (known: \(Verifier.checkNames.joined(separator: ", ")))")
        }
        if let at, CheckTime.parse(at) == nil {
            throw ValidationError("--at: \"\(at)\" is not a time (RFC 3339, YYYY-MM-DD or @SECONDS)")
        }
    }

    func run() throws {
        try SmallInput.requireOneStandardInput(
            [(input.input, "input"), (publicKey ?? "", "--public-key"), (certificate ?? "", "--cert")]
                + ca.map { ($0, "--ca") })
        var policy = try makePolicy()
        let report = try verify(with: &policy)
        let problems = report.problems(requiring: requiredChecks)
        try Console.output(json ? ReportFormat.json(report, problems: problems) : ReportFormat.text(report, problems: problems))
        if !problems.isEmpty { throw ExitCode(1) }
    }

    /// An input that is not a package is a failed structure check (exit 1), not an error.
    private func verify(with policy: inout VerifyPolicy) throws -> VerificationReport {
        let package: PackageInput
        do {
            package = try input.open()
        } catch let error as CPKError where error.kind == .invalidInput {
            return Verifier.structureFailure(input.input == "-" ? "standard input" : input.input, error, time: policy.time)
        }
        policy.classKey = try classKey(for: package)
        defer { if policy.classKey != nil { wipe(&policy.classKey!) } }
        return try Verifier.verify(package, policy: policy)
    }

    /// The class key, when a key source is given and the payload is encrypted. Its failures
    /// are the key source's (exit 1 or 2), not a verdict on the package.
    private func classKey(for package: PackageInput) throws -> [UInt8]? {
        guard keySource.isGiven, case .aesGCM(let keyName, _, _, _) = package.head.manifest.payload.encryption else {
            return nil
        }
        return try keySource.classKey(defaultName: keyName, tool: "cpk-verify")
    }

    private func makePolicy() throws -> VerifyPolicy {
        var policy = VerifyPolicy(time: at.flatMap(CheckTime.parse) ?? Int(time(nil)))
        policy.allowExpired = allowExpired
        policy.anchors = try ca.flatMap { try certificates($0, what: "the --ca certificates") }
        if let certificate { policy.certificates = try certificates(certificate, what: "the --cert certificate") }
        if let publicKey {
            let bytes = try SmallInput.read(publicKey, limit: 1 << 20, what: "the --public-key key")
            do {
                policy.pinnedKey = try VerifyingKey(loading: bytes)
            } catch let error as CPKError {
                throw CPKError.usage("--public-key \(publicKey): \(error.message)")
            }
        }
        return policy
    }

    /// Certificates from a file given on the command line: a bad file is a usage error (exit 2),
    /// not a verdict about the package.
    private func certificates(_ path: String, what: String) throws -> [X509Certificate] {
        let bytes = try SmallInput.read(path, limit: 1 << 20, what: what)
        do {
            return try X509Certificate.chain(loading: bytes)
        } catch let error as CPKError {
            throw CPKError.usage("\(path): \(error.message)")
        }
    }
}

/// The two renderings of a report. The JSON schema is documented in cpk-verify(1) and kept
/// stable: keys are only ever added.
enum ReportFormat {
    static func text(_ report: VerificationReport, problems: [String]) -> String {
        var lines = report.checks.map { "\($0.name) \($0.status.rawValue.uppercased()): \($0.detail)" }
        for info in report.certificates {
            let certificate = info.certificate
            lines.append(
                "\(info.target.rawValue) certificate: \(certificate.subject), issued by \(certificate.issuer), "
                    + "valid \(date(certificate.notBefore)) to \(date(certificate.notAfter)): \(info.validity.rawValue)")
        }
        if problems.isEmpty {
            let passed = report.checks.filter { $0.status == .passed }.count
            lines.append("VERIFIED: \(passed) checks passed, \(report.signaturesChecked) signature(s) checked")
        } else {
            lines.append("NOT VERIFIED: \(problems.joined(separator: "; "))")
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ report: VerificationReport, problems: [String]) -> String {
        let certificates: [JSONValue] = report.certificates.map { info in
            .object([
                ("for", .string(info.target.rawValue)),
                ("subject", .string(info.certificate.subject)),
                ("issuer", .string(info.certificate.issuer)),
                ("not-before", info.certificate.notBefore.map { .string(Timestamp.format(secondsSinceEpoch: $0)) } ?? .null),
                ("not-after", info.certificate.notAfter.map { .string(Timestamp.format(secondsSinceEpoch: $0)) } ?? .null),
                ("validity", .string(info.validity.rawValue)),
            ])
        }
        let document = JSONValue.object([
            ("cpk-verify", .integer(1)),
            ("input", .string(report.input)),
            ("format", report.kind.map { .string($0.rawValue) } ?? .null),
            ("id", report.packageID.map { .string($0) } ?? .null),
            ("checked-at", .string(Timestamp.format(secondsSinceEpoch: report.time))),
            ("verified", .bool(problems.isEmpty)),
            ("signatures-checked", .integer(report.signaturesChecked)),
            ("checks", .array(report.checks.map {
                .object([("check", .string($0.name)), ("result", .string($0.status.rawValue)), ("detail", .string($0.detail))])
            })),
            ("certificates", .array(certificates)),
            ("problems", .array(problems.map { .string($0) })),
        ])
        return document.compactText
    }

    private static func date(_ seconds: Int?) -> String { seconds.map { Timestamp.format(secondsSinceEpoch: $0) } ?? "?" }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        String(drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }
}

Verify.runTool()
