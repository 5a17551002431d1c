#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKKeys

/// What makes this device a member of a fleet: the fleet operator's anchor (whose signed key
/// releases it applies), its own device id, and the generation of the last release applied.
/// Kept in the state's `fleet/` (docs/keys.md §4.4):
///
///     fleet/anchor.crt | fleet/anchor.key    the anchor, as given (CA certificates or a public key)
///     fleet/device-id                        the id, one line
///     fleet/generation                       the last generation applied, decimal
///
/// Every file is read with the state's rules (a regular file of this user that nobody else can
/// write), since it decides whose keys the device takes.
public struct FleetMembership: Sendable {
    public let anchor: FleetAnchor
    public let deviceID: String
    /// "ca" or "key", for people.
    public var kind: String { anchor.key == nil ? "ca" : "key" }

    /// The membership provisioned in `state`, or nil when the device has none.
    public static func load(in state: StateDirectory) throws -> FleetMembership? {
        let directory = state.fleetPath
        let anchorBytes = try read(directory + "/anchor.crt", limit: SmallInput.keyLimit * 4)
            ?? read(directory + "/anchor.key", limit: SmallInput.keyLimit)
        guard let anchorBytes else { return nil }
        guard let idBytes = try read(directory + "/device-id", limit: 1024) else {
            throw CPKError.io("\(directory) holds an anchor but no device-id; provision the fleet again")
        }
        let id = String(decoding: idBytes, as: UTF8.self).trimmingNewline
        if let problem = ReportedState.problem(withDeviceID: id) { throw CPKError.io("\(directory)/device-id: \(problem)") }
        do {
            return FleetMembership(anchor: try FleetAnchor(loading: anchorBytes), deviceID: id)
        } catch let error as CPKError {
            throw CPKError.io("the fleet anchor in \(directory) cannot be read (\(error.message)); provision the fleet again")
        }
    }

    /// Provisions the fleet anchor (certificates, or a public key in any form) and the device's
    /// id, replacing an earlier membership. The last generation applied is kept: a new anchor
    /// does not reopen the door to an old release.
    @discardableResult
    public static func provision(anchor bytes: [UInt8], source: String, deviceID: String, in state: StateDirectory) throws
        -> FleetMembership
    {
        if let problem = ReportedState.problem(withDeviceID: deviceID) { throw CPKError.usage("the device id \"\(deviceID)\": \(problem)") }
        let anchor: FleetAnchor
        do {
            anchor = try FleetAnchor(loading: bytes)
        } catch let error as CPKError {
            throw CPKError.invalid("\(source) is neither certificates nor a public key: \(error.message)")
        }
        let directory = state.fleetPath
        let keep = anchor.key == nil ? "anchor.crt" : "anchor.key"
        try StateDirectory.writePrivateFile(Array((deviceID + "\n").utf8), to: directory + "/device-id")
        try StateDirectory.writePrivateFile(bytes, to: directory + "/" + keep)
        let other = directory + "/" + (keep == "anchor.crt" ? "anchor.key" : "anchor.crt")
        guard unlink(other) == 0 || errno == ENOENT else { throw FileDescriptor.systemError("cannot remove \(other)") }
        return FleetMembership(anchor: anchor, deviceID: deviceID)
    }

    /// Removes the anchor and the id (the generation stays, for the reason above).
    public static func remove(in state: StateDirectory) throws {
        guard try load(in: state) != nil else { throw CPKError.usage("no fleet anchor is provisioned") }
        for name in ["anchor.crt", "anchor.key", "device-id"] {
            let path = state.fleetPath + "/" + name
            guard unlink(path) == 0 || errno == ENOENT else { throw FileDescriptor.systemError("cannot remove \(path)") }
        }
    }

    /// The generation of the last release applied, or nil when none was.
    public static func lastGeneration(in state: StateDirectory) throws -> UInt64? {
        let path = state.fleetPath + "/generation"
        guard let bytes = try read(path, limit: 64) else { return nil }
        guard let value = UInt64(String(decoding: bytes, as: UTF8.self).trimmingNewline) else {
            throw CPKError.io("\(path) is not a generation number; the state is damaged: remove it only if no release was ever replayed")
        }
        return value
    }

    /// Records `generation` as the last one applied.
    static func record(generation: UInt64, in state: StateDirectory) throws {
        try StateDirectory.writePrivateFile(Array("\(generation)\n".utf8), to: state.fleetPath + "/generation")
    }

    /// The membership as `trust list` shows it.
    public var json: JSONValue {
        .object([
            ("device-id", .string(deviceID)), ("kind", .string(kind)),
            ("subjects", .array(anchor.certificates.map { .string($0.subject) })),
            ("sha256", .array(fingerprints.map { .string($0) })),
        ])
    }

    public var fingerprints: [String] {
        if let key = anchor.key { return [(try? key.fingerprint).map(Hex.encode) ?? ""] }
        return anchor.certificates.map { (try? $0.fingerprint).map(Hex.encode) ?? "" }
    }

    private static func read(_ path: String, limit: Int) throws -> [UInt8]? {
        try StateDirectory.readPrivateFile(path, limit: limit, what: path, tooLarge: "it is not what this device wrote")
    }
}

extension String {
    fileprivate var trimmingNewline: String {
        var text = self
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}
