import CPKCore
import CPKCrypto

/// The ocicrypt "cmd" key-provider protocol (ocicrypt 1.1, as skopeo 1.18 speaks it): one JSON
/// request on standard input, one JSON response on standard output.
///
/// The member names are those Go's encoding/json gives ocicrypt's structs: lower case where the
/// struct has tags (`op`, `keywrapparams`, `optsdata`, ...), Go's own field names where it has
/// none (`Parameters`, `DecryptConfig`). Every byte field is standard padded base64, and the
/// half of the request that does not apply has null members.
public enum KeyProviderRequest: Equatable, Sendable {
    /// `keywrap`: wrap `optsdata` (ocicrypt's layer-key bundle) for the provider's parameters.
    case wrap(parameters: [[UInt8]], optsData: [UInt8])
    /// `keyunwrap`: recover the optsdata from an annotation this kind of provider wrote.
    case unwrap(parameters: [[UInt8]], annotation: [UInt8])

    /// Requests are a few hundred bytes; the limit only keeps a wrong or hostile input from
    /// exhausting memory (the reader stops at limit + 1 bytes).
    public static let sizeLimit = 1 << 20

    /// Parses a request.
    /// - Parameter provider: the provider's name in the ocicrypt configuration, which keys its
    ///   entry in `Parameters` (an encrypt config carries every provider's parameters).
    public init(parsing bytes: [UInt8], provider: String) throws {
        guard bytes.count <= Self.sizeLimit else {
            throw CPKError.invalid("the key provider request is larger than \(Self.sizeLimit) bytes")
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: bytes)
        } catch let error as JSONSyntaxError {
            throw CPKError.invalid("the key provider request is not JSON (\(error))")
        }
        guard case .object = json else { throw CPKError.invalid("the key provider request is not a JSON object") }
        guard case .string(let op)? = json["op"] else {
            throw CPKError.invalid("the key provider request has no \"op\" (keywrap or keyunwrap)")
        }
        switch op {
        case "keywrap":
            let params = try Self.object(json["keywrapparams"], "keywrapparams")
            let config = try Self.object(params["ec"], "keywrapparams.ec")
            let parameters = try Self.parameters(config["Parameters"], provider: provider, at: "keywrapparams.ec.Parameters")
            guard let parameters else {
                throw CPKError(
                    .invalidInput, "keywrapparams.ec.Parameters has no entry for the provider \"\(provider)\"",
                    reason: .unknownKeyProvider)
            }
            let optsData = try Self.bytes(params["optsdata"], "keywrapparams.optsdata")
            self = .wrap(parameters: parameters, optsData: optsData)
        case "keyunwrap":
            let params = try Self.object(json["keyunwrapparams"], "keyunwrapparams")
            // ocicrypt asks every provider whose annotation is on a layer; the decrypt config's
            // entry (`Enabled`, or the user's parameters) may be absent for this one.
            var parameters: [[UInt8]] = []
            if let config = params["dc"], config != .null {
                let object = try Self.object(config, "keyunwrapparams.dc")
                parameters = try Self.parameters(object["Parameters"], provider: provider, at: "keyunwrapparams.dc.Parameters") ?? []
            }
            let annotation = try Self.bytes(params["annotation"], "keyunwrapparams.annotation")
            self = .unwrap(parameters: parameters, annotation: annotation)
        default:
            throw CPKError.invalid("unknown key provider op \"\(op)\"; expected keywrap or keyunwrap")
        }
    }

    private static func object(_ value: JSONValue?, _ name: String) throws -> JSONValue {
        guard let value, case .object = value else {
            throw CPKError.invalid("the key provider request's \(name) is missing or not an object")
        }
        return value
    }

    private static func bytes(_ value: JSONValue?, _ name: String) throws -> [UInt8] {
        guard case .string(let text)? = value else {
            throw CPKError.invalid("the key provider request's \(name) is missing or not a base64 string")
        }
        guard let bytes = Base64.decode(text) else {
            throw CPKError.invalid("the key provider request's \(name) is not valid base64")
        }
        return bytes
    }

    /// This provider's entry of a `Parameters` map (name to list of base64 strings), or nil.
    private static func parameters(_ value: JSONValue?, provider: String, at name: String) throws -> [[UInt8]]? {
        guard let value, value != .null else { return nil }
        guard case .object = value else { throw CPKError.invalid("\(name) is not an object") }
        guard let entry = value[provider], entry != .null else { return nil }
        guard case .array(let items) = entry else { throw CPKError.invalid("\(name).\(provider) is not a list") }
        return try items.map { item in
            guard case .string(let text) = item, let bytes = Base64.decode(text) else {
                throw CPKError.invalid("\(name).\(provider) holds a value that is not a base64 string")
            }
            return bytes
        }
    }
}

/// The response ocicrypt parses from standard output.
public enum KeyProviderResponse {
    /// `{"keywrapresults":{"annotation":"<b64>"}}`
    public static func wrapped(annotation: [UInt8]) -> [UInt8] {
        Array(JSONValue.object([("keywrapresults", .object([("annotation", .string(Base64.encode(annotation)))]))]).compactText.utf8)
    }

    /// `{"keyunwrapresults":{"optsdata":"<b64>"}}`
    public static func unwrapped(optsData: [UInt8]) -> [UInt8] {
        Array(JSONValue.object([("keyunwrapresults", .object([("optsdata", .string(Base64.encode(optsData)))]))]).compactText.utf8)
    }
}

/// The key provider's parameters: `key=value` pairs separated by `::`, as CoCo's
/// coco_keyprovider reads them (`keyid=kbs:///default/key/key_id1::algorithm=A256GCM`).
public struct KeyProviderParameters: Equatable, Sendable {
    /// The KEK's name in the key store, written into the annotation as `kid`.
    public var keyID: String?
    /// A file holding the 32-byte KEK itself, instead of a key store.
    public var keyPath: String?
    public var algorithm: CoCoWrapType = .a256gcm

    public init(keyID: String? = nil, keyPath: String? = nil, algorithm: CoCoWrapType = .a256gcm) {
        self.keyID = keyID
        self.keyPath = keyPath
        self.algorithm = algorithm
    }

    /// Parses every entry of the provider's parameter list (skopeo sends one; later entries
    /// may not contradict earlier ones). `Enabled` alone, ocicrypt's value for a bare
    /// `--decryption-key provider:NAME`, means no parameters.
    public init(parsing entries: [[UInt8]]) throws {
        for entry in entries {
            guard let text = String(validating: entry, as: UTF8.self) else {
                throw CPKError.invalid("the key provider parameters are not UTF-8")
            }
            if text == "Enabled" || text.isEmpty { continue }
            // A split on the two-character separator: a value may itself hold single colons
            // (kbs://host:port/...).
            for pair in Self.split(text) {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw CPKError.invalid("the key provider parameter \"\(pair)\" is not key=value (pairs are separated by ::)")
                }
                let key = String(pair[..<equals])
                let value = String(pair[pair.index(after: equals)...])
                guard !value.isEmpty else { throw CPKError.invalid("the key provider parameter \(key) is empty") }
                switch key {
                case "keyid": try set(&keyID, value, key)
                case "keypath": try set(&keyPath, value, key)
                case "algorithm":
                    guard let algorithm = CoCoWrapType(rawValue: value) else {
                        throw CPKError.invalid("unknown algorithm \"\(value)\"; expected A256GCM")
                    }
                    self.algorithm = algorithm
                default:
                    throw CPKError.invalid("unknown key provider parameter \"\(key)\"; expected keyid, keypath or algorithm")
                }
            }
        }
        if let keyID, let problem = KeyName.problem(with: keyID) { throw CPKError.invalid("keyid: \(problem)") }
    }

    private func set(_ field: inout String?, _ value: String, _ key: String) throws {
        if let existing = field, existing != value {
            throw CPKError.invalid("the key provider parameter \(key) is given twice with different values")
        }
        field = value
    }

    static func split(_ text: String) -> [Substring] {
        var pairs: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if text[index] == ":", next < text.endIndex, text[next] == ":" {
                pairs.append(text[start..<index])
                index = text.index(after: next)
                start = index
            } else {
                index = next
            }
        }
        pairs.append(text[start...])
        return pairs.filter { !$0.isEmpty }
    }
}
