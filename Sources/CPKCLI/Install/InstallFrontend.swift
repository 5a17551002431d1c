import CPKCore
import CPKKeys
import CPKManager
import CPKPackage

/// Where a frontend writes the document it prints: standard output for the tools, a buffer
/// in a test. Each call is one document (a newline is added when missing).
public typealias DocumentOutput = (String) throws -> Void

/// `cpk-install install`'s one entry point: the tool declares and validates its options;
/// opening the package and the state, the device's trust policy, the progress and identity
/// lines, the report and the exit status happen here, the checks in `PackageInstaller`.
public enum InstallFrontend {
    static let tool = "cpk-install"

    /// What the options of `cpk-install install` ask for.
    public struct Request {
        public var input: String
        public var trust: TrustOptions
        public var acceptUnauthenticatedManifest: Bool
        public var allowSignerChange: Bool
        public var allowDowngrade: Bool
        public var json: Bool
        public var state: StateOptions
        public var messages: MessageOptions

        public init(
            input: String, trust: TrustOptions, acceptUnauthenticatedManifest: Bool, allowSignerChange: Bool,
            allowDowngrade: Bool, json: Bool, state: StateOptions, messages: MessageOptions
        ) {
            (self.input, self.trust, self.acceptUnauthenticatedManifest) = (input, trust, acceptUnauthenticatedManifest)
            (self.allowSignerChange, self.allowDowngrade, self.json) = (allowSignerChange, allowDowngrade, json)
            (self.state, self.messages) = (state, messages)
        }
    }

    /// Prints the report (text, or JSON); exit status 1 when a check failed, and nothing is installed then.
    public static func install(_ request: Request, output: @escaping DocumentOutput = Console.output) throws {
        try JSONErrors.reporting(json: request.json, tool: tool) { try installReporting(request, output) }
    }

    private static func installReporting(_ request: Request, _ output: @escaping DocumentOutput) throws {
        try SmallInput.requireOneStandardInput([(request.input, "input")] + request.trust.inputs)
        let package = try openPackage(request.input)  // first: a wrong input must not create a state
        let manager = try request.state.openManager()
        let installer = PackageInstaller(manager: manager, options: try options(request, state: manager.state))
        if request.messages.showsProgress {
            installer.progress = ProgressLine(tool: tool, verb: "deploying", id: package.head.manifest.id).show
        }
        // The identity first, before the payload streams: a user sees what is being installed
        // while it flows, and the checks follow it.
        var identityShown = false
        if !request.json && !request.messages.quiet {
            installer.beforePayload = { report in
                identityShown = (try? output(report.identityText)) != nil
            }
        }
        let report = installer.install(package)
        if request.json {
            try output(report.json.compactText)
        } else if request.messages.quiet {
            try output(VerifyFrontend.verdictLine(of: report.resultText))
        } else {
            try output(identityShown ? report.resultText : report.text)
        }
        if let failure = report.failure as? CPKError { throw JSONErrors.AlreadyReported(failure) }
        if let failure = report.failure { throw failure }
    }

    /// The device's trust policy is the command line's anchors and those provisioned in its state.
    static func options(_ request: Request, state: StateDirectory) throws -> InstallOptions {
        var options = InstallOptions(trust: try request.trust.policy(), allowDowngrade: request.allowDowngrade)
        try TrustStore.add(in: state, to: &options.trust)
        options.acceptUnauthenticatedManifest = request.acceptUnauthenticatedManifest
        options.allowSignerChange = request.allowSignerChange
        return options
    }
}
