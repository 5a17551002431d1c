import CPKCore

/// Which class keys go to which authenticated device, as the operator writes it:
///
///     {"cpk_release_policy": 1,
///      "rules": [{"match": {"group": "canary"}, "keys": ["app", "app-next"]},
///                {"match": {"any": true}, "keys": ["app"]}]}
///
/// A match is exactly one of `{"any": true}`, `{"group": G}` (an allow-list group),
/// `{"ou": U}` (an OU of the verified device certificate's subject), `{"san-uri": U}` (a URI
/// subject alternative name of that certificate) or `{"device_id": ID}`. A device gets the
/// keys of every rule it matches; one that matches none gets nothing and is refused.
public struct ReleasePolicy: Sendable {
    public static let versionMember = "cpk_release_policy"
    public static let version = 1
    public static let sizeLimit = 1 << 20

    public enum Match: Sendable, Equatable {
        case any
        case group(String)
        case organizationalUnit(String)
        case uri(String)
        case deviceID(String)

        /// True when `device` is what this match names. Certificate matches look only at a
        /// certificate verified against the fleet CA.
        func matches(_ device: AuthenticatedDevice) -> Bool {
            switch self {
            case .any: return true
            case .group(let group): return device.groups.contains(group)
            case .organizationalUnit(let unit): return device.certificate?.organizationalUnits.contains(unit) ?? false
            case .uri(let uri): return device.certificate?.subjectAlternativeNames(of: [.uri]).contains(uri) ?? false
            case .deviceID(let id): return device.deviceID == id
            }
        }
    }

    public struct Rule: Sendable {
        public let match: Match
        public let keys: [String]
    }

    public let rules: [Rule]

    /// Every key some rule names, each once, in first-mention order.
    public var keyNames: [String] {
        var seen: Set<String> = []
        return rules.flatMap(\.keys).filter { seen.insert($0).inserted }
    }

    /// Reads a policy strictly: unknown members, a match of no kind or of two, an empty key
    /// list or an invalid key name are refused, so a typo never widens a release.
    public init(parsing bytes: [UInt8]) throws {
        func malformed(_ text: String) -> CPKError { CPKError(.invalidInput, "the release policy: " + text) }
        let json = try StrictJSON.document(
            bytes, limit: Self.sizeLimit, version: (Self.versionMember, Self.version), members: ["rules"], what: "the policy", malformed)
        guard case .array(let items)? = json["rules"], !items.isEmpty else { throw malformed("rules must be a non-empty array") }
        rules = try items.enumerated().map { index, item in
            let place = "rules[\(index)]"
            try StrictJSON.requireMembers(of: item, allowed: ["match", "keys"], what: place, malformed)
            guard let match = item["match"] else { throw malformed("\(place) has no match") }
            let keys = try StrictJSON.strings(item["keys"] ?? .null, what: "\(place).keys", malformed)
            guard !keys.isEmpty else { throw malformed("\(place).keys names no key") }
            if let problem = keys.lazy.compactMap(KeyName.problem(with:)).first { throw malformed("\(place).keys: \(problem)") }
            return Rule(match: try Self.match(match, place: "\(place).match", malformed), keys: keys)
        }
    }

    private static func match(_ value: JSONValue, place: String, _ malformed: (String) -> CPKError) throws -> Match {
        guard case .object(let members) = value, members.count == 1, let (kind, operand) = members.first else {
            throw malformed("\(place) must be an object of exactly one of any, group, ou, san-uri, device_id")
        }
        if kind == "any" {
            guard operand == .bool(true) else { throw malformed("\(place).any must be true") }
            return .any
        }
        guard case .string(let text) = operand, !text.isEmpty else { throw malformed("\(place).\(kind) must be non-empty text") }
        switch kind {
        case "group": return .group(text)
        case "ou": return .organizationalUnit(text)
        case "san-uri": return .uri(text)
        case ReportedState.deviceIDProperty:
            // An id no report can carry would match nothing: a typo, refused like the others.
            if let problem = ReportedState.problem(withDeviceID: text) { throw malformed("\(place).device_id: \(problem)") }
            return .deviceID(text)
        default: throw malformed("\(place) has an unknown member \"\(kind)\" (any, group, ou, san-uri or device_id)")
        }
    }

    /// The names of the keys every rule matching `device` gives.
    public func keyNames(for device: AuthenticatedDevice) -> Set<String> {
        Set(rules.filter { $0.match.matches(device) }.flatMap(\.keys))
    }
}
