import ArgumentParser
import CPKCLI
import CPKCore
import CPKCrypto
import CPKKeys
import CPKManager
import CPKPackage

#if canImport(Glibc)
import Glibc
#endif

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the Package Manager: contract version, supported calls, state, device key fingerprint.")

    @Flag(help: "Print JSON instead of text.") var json = false
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        let manager = try stateOptions.openManager()
        let version = try manager.ping()
        let operations = try ContractOperation.allCases.filter { try manager.isOperationSupported($0.rawValue) }.map(\.rawValue)
        let fingerprint = Hex.encode(try PublicKey(loading: try manager.exportDevicePublicKey()).fingerprint)
        let applications = try manager.installedApplications().count
        let document = JSONValue.object([
            ("backend", .string("simulator")), ("contract-version", .integer(version)),
            ("operations", .array(operations.map { .string($0) })), ("state", .string(manager.state.path)),
            ("device-key-sha256", .string(fingerprint)), ("applications", .integer(applications)),
        ])
        guard !json else { return try Console.output(document.compactText) }
        try Console.output([
            "Backend:            simulator (no TEE)", "Contract version:   \(version)",
            "Operations:         \(operations.joined(separator: ", "))", "State:              \(manager.state.path)",
            "Device key:         RSA-2048, sha256:\(fingerprint)", "Applications:       \(applications)",
        ].joined(separator: "\n"))
    }
}

struct CheckState: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-state",
        abstract: "Check the simulator's state: every class key opens, every application decrypts and matches its digest.")

    @OptionGroup var stateOptions: StateOptions
    @Flag(help: "Print the report as JSON.") var json = false

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try JSONErrors.reporting(json: json, tool: "cpk-install") {
            let report = try stateOptions.openManager().checkState()
            try Console.output(json ? report.json.compactText : report.summaryLine)
            guard report.isConsistent else {
                // the report (with its problems) is printed: no second JSON document
                throw JSONErrors.AlreadyReported(CPKError.check("the state is not consistent: " + report.problems.joined(separator: "; ")))
            }
        }
    }
}
