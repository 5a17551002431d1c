import CPKCore
import CPKCrypto
import CPKManager

/// `cpk-install status` and `check-state`: what the Package Manager is, and whether its state holds together.
public enum StatusFrontend {
    static let tool = "cpk-install"

    /// What `status` shows.
    public struct Status: Equatable, Sendable {
        public var contractVersion: Int
        public var operations: [String]
        public var state: String
        /// SHA-256 of the device key's SubjectPublicKeyInfo, hex.
        public var deviceKeySHA256: String
        public var applications: Int

        public init(contractVersion: Int, operations: [String], state: String, deviceKeySHA256: String, applications: Int) {
            (self.contractVersion, self.operations, self.state) = (contractVersion, operations, state)
            (self.deviceKeySHA256, self.applications) = (deviceKeySHA256, applications)
        }

        /// Asks `manager` through the contract.
        public init(of manager: PackageManagerSimulator) throws {
            let version = try manager.ping()
            let operations = try ContractOperation.allCases.filter { try manager.isOperationSupported($0.rawValue) }.map(\.rawValue)
            let fingerprint = Hex.encode(try PublicKey(loading: try manager.exportDevicePublicKey()).fingerprint)
            self.init(
                contractVersion: version, operations: operations, state: manager.state.path, deviceKeySHA256: fingerprint,
                applications: try manager.installedApplications().count)
        }

        /// `status --json`: member names and order are stable.
        public var json: JSONValue {
            .object([
                ("backend", .string("simulator")), ("contract-version", .integer(contractVersion)),
                ("operations", .array(operations.map { .string($0) })), ("state", .string(state)),
                ("device-key-sha256", .string(deviceKeySHA256)), ("applications", .integer(applications)),
            ])
        }

        public var text: String {
            [
                "Backend:            simulator (no TEE)", "Contract version:   \(contractVersion)",
                "Operations:         \(operations.joined(separator: ", "))", "State:              \(state)",
                "Device key:         RSA-2048, sha256:\(deviceKeySHA256)", "Applications:       \(applications)",
            ].joined(separator: "\n")
        }
    }

    /// `cpk-install status`.
    public static func status(json: Bool, state: StateOptions, output: DocumentOutput = Console.output) throws {
        let status = try Status(of: try state.openExistingManager())
        try output(json ? status.json.compactText : status.text)
    }

    /// `cpk-install check-state`: the report's line (or JSON); exit status 1 when the state is not consistent.
    public static func checkState(json: Bool, state: StateOptions, output: DocumentOutput = Console.output) throws {
        try JSONErrors.reporting(json: json, tool: tool) {
            let report = try state.openExistingManager().checkState()
            try output(json ? report.json.compactText : report.summaryLine)
            guard report.isConsistent else {
                // the report (with its problems) is printed: no second JSON document
                throw JSONErrors.AlreadyReported(CPKError.check("the state is not consistent: " + report.problems.joined(separator: "; ")))
            }
        }
    }
}
