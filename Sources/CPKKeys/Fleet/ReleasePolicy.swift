import CPKAttestation
import CPKCore
import CPKCrypto

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
///
/// A rule may require TPM attestation, `"attestation": {"tpm": true, "pcrs": {"sha256": {"0": HEX}}}`
/// (pcrs optional); a top-level `attestation` is the requirement of every rule without its own.
/// A device matching a rule whose attestation fails is refused whole, naming the rule.
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

    /// What a rule requires of a device's TPM evidence (docs/keys.md §4.7).
    public struct Attestation: Sendable, Equatable {
        /// Required PCR values, checked in a quote over the run's nonce; nil: no quote needed.
        public let pcrs: TPMPCRRequirement?
    }

    public struct Rule: Sendable {
        public let match: Match
        public let keys: [String]
        /// The rule's own requirement, or the policy's.
        public let attestation: Attestation?
    }

    public let rules: [Rule]

    /// True when some rule requires TPM attestation.
    public var requiresAttestation: Bool { rules.contains { $0.attestation != nil } }
    /// True when some rule requires PCR values (a quote, so a nonce).
    public var requiresPCRs: Bool { rules.contains { $0.attestation?.pcrs != nil } }

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
            bytes, limit: Self.sizeLimit, version: (Self.versionMember, Self.version), members: ["rules", "attestation"], what: "the policy",
            malformed)
        guard case .array(let items)? = json["rules"], !items.isEmpty else { throw malformed("rules must be a non-empty array") }
        let common = try json["attestation"].map { try Self.attestation($0, place: "attestation", malformed) }
        rules = try items.enumerated().map { index, item in
            let place = "rules[\(index)]"
            try StrictJSON.requireMembers(of: item, allowed: ["match", "keys", "attestation"], what: place, malformed)
            let own = try item["attestation"].map { try Self.attestation($0, place: "\(place).attestation", malformed) }
            guard let match = item["match"] else { throw malformed("\(place) has no match") }
            let keys = try StrictJSON.strings(item["keys"] ?? .null, what: "\(place).keys", malformed)
            guard !keys.isEmpty else { throw malformed("\(place).keys names no key") }
            if let problem = keys.lazy.compactMap(KeyName.problem(with:)).first { throw malformed("\(place).keys: \(problem)") }
            return Rule(match: try Self.match(match, place: "\(place).match", malformed), keys: keys, attestation: own ?? common)
        }
    }

    /// `{"tpm": true}` with optional `"pcrs": {BANK: {INDEX: HEX}}`: banks sha256, sha384,
    /// sha512; indices 0 to 23; each value a digest of the bank's size in hex.
    private static func attestation(_ value: JSONValue, place: String, _ malformed: (String) -> CPKError) throws -> Attestation {
        try StrictJSON.requireMembers(of: value, allowed: ["tpm", "pcrs"], what: place, malformed)
        guard value["tpm"] == .bool(true) else { throw malformed("\(place).tpm must be true (TPM attestation is the one kind)") }
        guard let pcrs = value["pcrs"] else { return Attestation(pcrs: nil) }
        guard case .object(let banks) = pcrs, !banks.isEmpty else { throw malformed("\(place).pcrs must be an object of PCR banks") }
        var required: [TPMHash: [Int: [UInt8]]] = [:]
        for (bankName, indices) in banks {
            guard let bank = TPMHash.allCases.first(where: { $0.name.lowercased() == bankName }) else {
                throw malformed("\(place).pcrs has an unknown bank \"\(bankName)\" (sha256, sha384 or sha512)")
            }
            guard case .object(let entries) = indices, !entries.isEmpty else { throw malformed("\(place).pcrs.\(bankName) must name PCRs") }
            var values: [Int: [UInt8]] = [:]
            for (indexText, digest) in entries {
                guard let index = Int(indexText), String(index) == indexText, (0...23).contains(index) else {
                    throw malformed("\(place).pcrs.\(bankName) has \"\(indexText)\"; a PCR index is 0 to 23")
                }
                guard case .string(let hex) = digest, hex.utf8.count == 2 * bank.digestSize,
                    let bytes = Hex.decode(Array(hex.utf8), ignoringWhitespace: false)
                else { throw malformed("\(place).pcrs.\(bankName).\(indexText) must be \(2 * bank.digestSize) hex digits") }
                values[index] = bytes
            }
            required[bank] = values
        }
        return Attestation(pcrs: TPMPCRRequirement(banks: required))
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

    /// The rules `device` matches, with their places in the policy.
    public func matchingRules(for device: AuthenticatedDevice) -> [(index: Int, rule: Rule)] {
        rules.enumerated().filter { $0.element.match.matches(device) }.map { ($0.offset, $0.element) }
    }
}
