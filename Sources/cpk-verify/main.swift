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

            Trust must be explicit, as with cosign: give a trust anchor (--ca, with \
            --untrusted intermediates), a pinned key (--public-key), and optionally the \
            signer's identity (--certificate-identity, --certificate-identity-regexp). Without \
            any, cpk-verify exits 1 ("no trust input") unless --integrity-only asks for an \
            integrity check only. The verdict says what was established: "authenticated" (a \
            trusted signer vouches for the package) or "intact"; and the manifest check says \
            whether a trusted package signature covers the manifest (id, version, name, \
            vendor, target). A payload signature alone covers only the payload digest.

            A certificate's validity is always checked at the current time, or at --at TIME. \
            An expired certificate fails unless --allow-expired says to accept it (packages \
            of the reference tool carry a demo certificate that expired in 2022). Signer \
            certificates must allow digital signatures and, when they have an extended key \
            usage, code signing.

            Examples:
              cpk-verify --ca root.pem app.cpk
              cpk-verify --ca root.pem --certificate-identity release@acme.example \\
                --require manifest app.cpk
              cpk-verify --json --public-key signer.pub app.cpk | jq -r .verdict
              cpk-verify --integrity-only --allow-expired reference.cpk
              cpk-verify --integrity-only --file-store test.json \\
                --require payload-digest app.cpk

            Exit status: 0 only when every check that ran passed, every --require check ran \
            and passed, at least one signature was checked, and a trust input authenticated a \
            signer (or --integrity-only was given); 1 when a check failed, nothing was \
            authenticated, or the input is not a valid package; 2 usage or I/O error.
            """,
        version: ToolVersion.line("cpk-verify"))

    @OptionGroup var input: PackageInputArgument
    @OptionGroup var trust: TrustOptions

    @Option(name: .customLong("cert"), help: ArgumentHelp(
        "The signer's certificate (and chain) when the package only names it by URL or domain.", valueName: "file"), completion: .file())
    var certificate: String?

    @Flag(help: "Check integrity only: exit 0 for an intact package even when no trust input says who signed it.")
    var integrityOnly = false

    @Option(help: ArgumentHelp(
        "Checks that must run and pass, comma-separated (e.g. payload-signature,manifest); repeatable.",
        valueName: "checks"), completion: .list(VerificationCheck.allCases.map(\.rawValue)))
    var require: [String] = []

    @Flag(help: "Print one JSON document instead of lines.")
    var json = false

    @OptionGroup var keySource: ClassKeyOptions

    @OptionGroup var messages: MessageOptions

    /// The names given with --require, split at commas.
    private var requiredNames: [String] {
        require.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: " ") } }.filter { !$0.isEmpty }
    }

    /// Known names only: `validate` has refused the others.
    var requiredChecks: [VerificationCheck] { requiredNames.compactMap(VerificationCheck.init(rawValue:)) }

    func validate() throws {
        if let unknown = requiredNames.first(where: { VerificationCheck(rawValue: $0) == nil }) {
            let known = VerificationCheck.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("--require: unknown check \"\(unknown)\" (known: \(known))")
        }
    }

    func run() throws {
        try JSONErrors.reporting(json: json, tool: "cpk-verify", verifyInput)
    }

    private func verifyInput() throws {
        try SmallInput.requireOneStandardInput([(input.input, "input"), (certificate ?? "", "--cert")] + trust.inputs)
        var policy = VerifyPolicy(trust: try trust.policy())
        if let certificate { policy.certificates = try TrustOptions.certificates(certificate, flag: "--cert", limit: 1 << 20) }
        let report = try verify(with: &policy)
        try Console.output(
            json ? report.json(requiring: requiredChecks, integrityOnly: integrityOnly)
                : report.text(requiring: requiredChecks, integrityOnly: integrityOnly, hint: Self.hint))
        let problems = report.problems(requiring: requiredChecks, integrityOnly: integrityOnly)
        if problems.contains(.noTrustInput) && !json {
            Console.error("cpk-verify: no trust input: give --ca or --public-key, or --integrity-only to check integrity only")
        }
        if !problems.isEmpty { throw ExitCode(1) }
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
    private func verify(with policy: inout VerifyPolicy) throws -> VerificationReport {
        let package: PackageInput
        do {
            package = try input.open()
        } catch let error as CPKError where error.kind == .invalidInput {
            return Verifier.structureFailure(SmallInput.displayName(input.input), error, time: policy.time)
        }
        policy.classKey = try classKey(for: package)
        defer { if policy.classKey != nil { wipe(&policy.classKey!) } }
        let progress = messages.watch(package, tool: "cpk-verify", verb: "checking")
        defer { progress?.finish() }
        return try Verifier.verify(package, policy: policy)
    }

    /// The class key, when a key source is given and the payload is encrypted. Its failures
    /// are the key source's (exit 1 or 2), not a verdict on the package.
    private func classKey(for package: PackageInput) throws -> [UInt8]? {
        guard keySource.isGiven, case .aesGCM(let keyName, _, _, _) = package.head.manifest.payload.encryption else {
            return nil
        }
        return try keySource.classKey(defaultName: keyName, tool: "cpk-verify", messages: messages)
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        String(drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }
}

Verify.runTool()
