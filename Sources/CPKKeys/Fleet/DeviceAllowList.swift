import CPKCore
import CPKCrypto

/// The operator's list of known devices: each device id with the fingerprint of the one key it
/// may report, and the groups a release policy gives keys by.
///
///     {"cpk_device_allow_list": 1,
///      "devices": [{"device_id": "dev-01", "device_public_key_sha256": "<64 hex>", "groups": ["canary"]}]}
public struct DeviceAllowList: Sendable {
    public static let versionMember = "cpk_device_allow_list"
    public static let version = 1
    /// The largest list read: about half a million devices.
    public static let sizeLimit = 64 << 20

    public struct Entry: Sendable {
        public let keySHA256: [UInt8]
        public let groups: [String]
    }

    /// By device id: one entry each.
    private let entries: [String: Entry]

    public var count: Int { entries.count }

    /// Reads a list strictly: unknown members, a device listed twice, an id a report could not
    /// carry, or a fingerprint that is not 64 hex digits are refused with one line.
    public init(parsing bytes: [UInt8]) throws {
        func malformed(_ text: String) -> CPKError { CPKError(.invalidInput, "the device allow list: " + text) }
        let json = try StrictJSON.document(
            bytes, limit: Self.sizeLimit, version: (Self.versionMember, Self.version), members: ["devices"], what: "the list", malformed)
        guard case .array(let devices)? = json["devices"] else { throw malformed("devices must be an array") }
        var entries: [String: Entry] = [:]
        for (index, device) in devices.enumerated() {
            let place = "devices[\(index)]"
            try StrictJSON.requireMembers(
                of: device, allowed: [ReportedState.deviceIDProperty, "device_public_key_sha256", "groups"], what: place, malformed)
            guard case .string(let id)? = device[ReportedState.deviceIDProperty] else { throw malformed("\(place) has no device_id text") }
            if let problem = ReportedState.problem(withDeviceID: id) { throw malformed("\(place): \(problem)") }
            guard case .string(let hex)? = device["device_public_key_sha256"], hex.utf8.count == 64,
                let fingerprint = Hex.decode(Array(hex.utf8), ignoringWhitespace: false)
            else { throw malformed("\(place): device_public_key_sha256 must be 64 hex digits") }
            let groups = try StrictJSON.strings(device["groups"] ?? .array([]), what: "\(place).groups", malformed)
            guard entries.updateValue(Entry(keySHA256: fingerprint, groups: groups), forKey: id) == nil else {
                throw malformed("the device \"\(id)\" is listed twice")
            }
        }
        self.entries = entries
    }

    /// The entry for `deviceID` when it lists exactly the key `keySHA256`.
    public func entry(deviceID: String, keySHA256: [UInt8]) -> Entry? {
        guard let entry = entries[deviceID], entry.keySHA256 == keySHA256 else { return nil }
        return entry
    }

    /// Why a device is not on the list, in words.
    func absence(deviceID: String) -> String {
        entries[deviceID] == nil ? "the device id is not on the allow list" : "the allow list gives this device id another key"
    }
}

/// A report whose device id and key were vouched for, with what a release policy matches on.
public struct AuthenticatedDevice: Sendable {
    public let report: DeviceReport
    /// The allow-list groups of the device (empty when it was not authenticated by the list).
    public let groups: [String]
    /// The device certificate, only when it was verified against the fleet CA and names the
    /// device: an unverified certificate is the reporter's word and is never matched.
    public let certificate: X509Certificate?

    public var deviceID: String { report.deviceID }
}

/// Decides which reports are from real devices: a device certificate from the fleet CA that
/// names the device, or an allow-list entry for that id and key; or, only when the operator
/// says so, anyone.
public struct DeviceAuthenticator: Sendable {
    public let fleetCAs: [X509Certificate]
    public let allowList: DeviceAllowList?
    /// Every well-formed report is served: for development fleets only.
    public let anyDevice: Bool

    /// Authenticates reports against the fleet CAs and the allow list (either may be empty).
    public init(fleetCAs: [X509Certificate], allowList: DeviceAllowList?) {
        (self.fleetCAs, self.allowList, self.anyDevice) = (fleetCAs, allowList, false)
    }

    private init(anyDevice: Void) {
        (self.fleetCAs, self.allowList, self.anyDevice) = ([], nil, true)
    }

    /// Authenticates nobody: any report is served under the id it claims.
    public static let insecureAnyDevice = DeviceAuthenticator(anyDevice: ())

    /// True when nothing could authenticate a device (no CA, no list): a configuration to
    /// refuse, since it would serve nobody.
    public var isEmpty: Bool { !anyDevice && fleetCAs.isEmpty && allowList == nil }

    /// The device, when the report passes the CA or the list; else an `untrustedDevice` error
    /// saying why each way failed.
    public func authenticate(_ report: DeviceReport, at time: Int) throws -> AuthenticatedDevice {
        if anyDevice { return AuthenticatedDevice(report: report, groups: [], certificate: nil) }
        var reasons: [String] = []
        var certificate: X509Certificate? = nil
        if !fleetCAs.isEmpty {
            do {
                try report.requireCertificate(chainingTo: fleetCAs, at: time)
                certificate = report.certificate
            } catch let error as CPKError {
                reasons.append(error.message)
            }
        }
        var listed: DeviceAllowList.Entry? = nil
        if let allowList {
            listed = allowList.entry(deviceID: report.deviceID, keySHA256: try report.publicKey.fingerprint)
            if listed == nil { reasons.append(allowList.absence(deviceID: report.deviceID)) }
        }
        guard certificate != nil || listed != nil else {
            throw CPKError(.checkFailed, "not an authenticated device: " + reasons.joined(separator: "; "), reason: .untrustedDevice)
        }
        return AuthenticatedDevice(report: report, groups: listed?.groups ?? [], certificate: certificate)
    }
}

/// Strict reading of the operator's JSON files: unknown members and wrong types are refused,
/// so a typo never silently widens what is released.
enum StrictJSON {
    /// A whole operator file: at most `limit` bytes of JSON, an object with the version member
    /// at `version.value` and no member but it and `members`.
    static func document(
        _ bytes: [UInt8], limit: Int, version: (member: String, value: Int), members: Set<String>, what: String,
        _ malformed: (String) -> CPKError
    ) throws -> JSONValue {
        guard bytes.count <= limit else { throw malformed("larger than \(limit) bytes") }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: bytes)
        } catch let error as JSONSyntaxError {
            throw malformed("not JSON (\(error))")
        }
        try requireMembers(of: json, allowed: members.union([version.member]), what: what, malformed)
        guard json[version.member] == .integer(version.value) else { throw malformed("\(version.member) must be \(version.value)") }
        return json
    }

    static func requireMembers(
        of value: JSONValue, allowed: Set<String>, what: String, _ malformed: (String) -> CPKError
    ) throws {
        guard case .object(let members) = value else { throw malformed("\(what) must be a JSON object") }
        if let unknown = members.first(where: { !allowed.contains($0.0) }) {
            throw malformed("\(what) has an unknown member \"\(unknown.0)\"")
        }
    }

    static func strings(_ value: JSONValue, what: String, _ malformed: (String) -> CPKError) throws -> [String] {
        guard case .array(let items) = value else { throw malformed("\(what) must be an array of text") }
        return try items.map { item in
            guard case .string(let text) = item else { throw malformed("\(what) must be an array of text") }
            return text
        }
    }
}
