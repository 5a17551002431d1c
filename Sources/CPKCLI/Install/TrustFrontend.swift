import CPKCore
import CPKKeys
import CPKManager
import CPKPackage

/// `cpk-install trust add|list|remove`: the trust anchors provisioned in the simulator's state.
public enum TrustFrontend {
    static let tool = "cpk-install"

    /// `trust add`: prints the name the anchor is provisioned under. No `ids`: it vouches for every application.
    public static func add(file: String, ids: [String], state: StateOptions, output: DocumentOutput = Console.output) throws {
        let manager = try state.openManager()
        let bytes = try SmallInput.read(file, limit: SmallInput.documentLimit, what: "the trust anchor")
        let scope: TrustPolicy.Scope = ids.isEmpty ? .anyApplication : .applications(ids)
        try output(try TrustStore.provision(bytes, name: file, scope: scope, in: manager.state).name)
    }

    /// `trust list`: lines per anchor (nothing when there is none), or a JSON array.
    public static func list(json: Bool, state: StateOptions, output: DocumentOutput = Console.output) throws {
        try JSONErrors.reporting(json: json, tool: tool) {
            let entries = try TrustStore.entries(in: try state.openManager().state)
            if json { return try output(JSONValue.array(entries.map(\.json)).compactText) }
            let lines = entries.flatMap(\.lines)
            if !lines.isEmpty { try output(lines.joined(separator: "\n")) }
        }
    }

    /// `trust remove`: by the name `trust list` shows.
    public static func remove(name: String, state: StateOptions) throws {
        try TrustStore.remove(named: name, in: try state.openManager().state)
    }
}
