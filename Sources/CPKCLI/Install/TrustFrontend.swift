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

    /// `trust add --fleet`: the fleet operator's anchor, whose signed key releases this device
    /// applies, and the device's id in the fleet; prints the name it is listed under.
    public static func addFleet(file: String, deviceID: String, state: StateOptions, output: DocumentOutput = Console.output) throws {
        let manager = try state.openManager()
        let bytes = try SmallInput.read(file, limit: SmallInput.keyLimit * 4, what: "the fleet anchor")
        try FleetMembership.provision(anchor: bytes, source: SmallInput.displayName(file), deviceID: deviceID, in: manager.state)
        try output(fleetName)
    }

    /// The name `trust list` shows the fleet anchor under, and `trust remove` takes.
    static let fleetName = "fleet"

    /// `trust list`: lines per anchor (nothing when there is none), or a JSON array; the fleet
    /// anchor last.
    public static func list(json: Bool, state: StateOptions, output: DocumentOutput = Console.output) throws {
        try JSONErrors.reporting(json: json, tool: tool) {
            let manager = try state.openExistingManager()
            let entries = try TrustStore.entries(in: manager.state)
            let fleet = try FleetMembership.load(in: manager.state)
            if json {
                var items = entries.map(\.json)
                if let fleet { items.append(fleetJSON(fleet)) }
                return try output(JSONValue.array(items).compactText)
            }
            var lines = entries.flatMap(\.lines)
            if let fleet { lines += fleetLines(fleet) }
            if !lines.isEmpty { try output(lines.joined(separator: "\n")) }
        }
    }

    private static func fleetJSON(_ fleet: FleetMembership) -> JSONValue {
        .object([
            ("name", .string(fleetName)), ("kind", .string("fleet-" + fleet.kind)), ("ids", .null),
            ("device-id", .string(fleet.deviceID)),
            ("subjects", .array(fleet.anchor.certificates.map { .string($0.subject) })),
            ("sha256", .array(fleet.fingerprints.map { .string($0) })),
        ])
    }

    private static func fleetLines(_ fleet: FleetMembership) -> [String] {
        var lines = ["\(fleetName)  fleet-\(fleet.kind)  key releases for the device \(fleet.deviceID)"]
        let subjects = fleet.anchor.certificates.map(\.subject)
        for (index, fingerprint) in fleet.fingerprints.enumerated() {
            lines.append("  \(index < subjects.count ? subjects[index] : "public key")  sha256:\(fingerprint)")
        }
        return lines.map(TerminalText.escaped)
    }

    /// `trust remove`: by the name `trust list` shows (`fleet` for the fleet anchor).
    public static func remove(name: String, state: StateOptions) throws {
        let manager = try state.openExistingManager()
        if name == fleetName { return try FleetMembership.remove(in: manager.state) }
        try TrustStore.remove(named: name, in: manager.state)
    }
}
