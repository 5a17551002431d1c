import CPKCore
import CPKCrypto

/// The ocicrypt "cmd" key-provider protocol (ocicrypt 1.1, as skopeo 1.18 speaks it): one JSON
/// request on standard input, one JSON response on standard output.
///
/// The member names are those Go's encoding/json gives ocicrypt's structs: lower case where the
/// struct has tags (`op`, `keywrapparams`, `optsdata`, ...), Go's own field names where it has
/// none (`Parameters`, `DecryptConfig`). The half of the request that does not apply has null
/// members. The same JSON travels in the gRPC mode's messages (CPKKeyProviderServer).
///
/// Byte fields come in two spellings: Go's ocicrypt writes standard padded base64 strings,
/// serde (ocicrypt-rs and CoCo's tools) writes arrays of numbers. Both are read wherever a byte
/// field appears (`optsdata`, `annotation`, each `Parameters` entry).
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
        try self.init(parsing: bytes, providers: [provider])
    }

    /// Parses a request for a provider known by any of `providers`: the first name with an entry
    /// in `Parameters` is this provider's (the default name, then its older spelling).
    public init(parsing bytes: [UInt8], providers: [String]) throws {
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
            let parameters = try Self.parameters(config["Parameters"], providers: providers, at: "keywrapparams.ec.Parameters")
            guard let parameters else {
                let names = providers.map { "\"\($0)\"" }.joined(separator: " or ")
                throw CPKError(
                    .invalidInput, "keywrapparams.ec.Parameters has no entry for the provider \(names)",
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
                parameters = try Self.parameters(object["Parameters"], providers: providers, at: "keyunwrapparams.dc.Parameters") ?? []
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
        guard let value, let bytes = try byteField(value, "the key provider request's \(name)") else {
            throw CPKError.invalid("the key provider request's \(name) is missing or not bytes (a base64 string or an array of numbers)")
        }
        return bytes
    }

    /// A byte field in either spelling: a base64 string (Go's encoding/json), or an array of
    /// integers 0-255 (serde's). Nil for any other JSON value; a malformed string or array is an
    /// error that says which.
    static func byteField(_ value: JSONValue, _ name: String) throws -> [UInt8]? {
        switch value {
        case .string(let text):
            guard let bytes = Base64.decode(text) else { throw CPKError.invalid("\(name) is not valid base64") }
            return bytes
        case .array(let items):
            var bytes: [UInt8] = []
            bytes.reserveCapacity(items.count)
            for item in items {
                // Only plain decimal integers: `1e2`, `-0` or `7.0` are no byte in serde's output.
                guard case .number(let literal) = item, literal.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                    literal.utf8.count <= 3, let byte = UInt8(literal)
                else {
                    throw CPKError.invalid("\(name) is an array holding something other than integers 0 to 255")
                }
                bytes.append(byte)
            }
            return bytes
        default:
            return nil
        }
    }

    /// This provider's entry of a `Parameters` map (name to list of byte strings), or nil: the
    /// entry of the first of `providers` present.
    private static func parameters(_ value: JSONValue?, providers: [String], at name: String) throws -> [[UInt8]]? {
        guard let value, value != .null else { return nil }
        guard case .object = value else { throw CPKError.invalid("\(name) is not an object") }
        guard let provider = providers.first(where: { value[$0].map { $0 != .null } ?? false }), let entry = value[provider] else {
            return nil
        }
        guard case .array(let items) = entry else { throw CPKError.invalid("\(name).\(provider) is not a list") }
        return try items.map { item in
            guard let bytes = try byteField(item, "\(name).\(provider)") else {
                throw CPKError.invalid("\(name).\(provider) holds a value that is not bytes (a base64 string or an array of numbers)")
            }
            return bytes
        }
    }
}

/// The answer ocicrypt parses (standard output in the cmd mode, the message's bytes in gRPC).
///
/// Byte fields are arrays of numbers, as CoCo's coco_keyprovider writes them: both Go's
/// ocicrypt (encoding/json reads a []byte from either form) and ocicrypt-rs (serde reads a
/// Vec<u8> only from an array) parse them; a base64 string is refused by ocicrypt-rs.
public enum KeyProviderResponse {
    /// `{"keywrapresults":{"annotation":[123,34,...]}}`
    public static func wrapped(annotation: [UInt8]) -> [UInt8] {
        Array(JSONValue.object([("keywrapresults", .object([("annotation", numbers(annotation))]))]).compactText.utf8)
    }

    /// `{"keyunwrapresults":{"optsdata":[123,34,...]}}`
    public static func unwrapped(optsData: [UInt8]) -> [UInt8] {
        Array(JSONValue.object([("keyunwrapresults", .object([("optsdata", numbers(optsData))]))]).compactText.utf8)
    }

    static func numbers(_ bytes: [UInt8]) -> JSONValue { .array(bytes.map { .integer($0) }) }
}

/// The key provider's parameters: `key=value` fields separated by `::`, read as CoCo's
/// coco_keyprovider reads them (`keyid=kbs:///default/key/key_id1::algorithm=A256GCM`).
///
/// Encryption: `keyid`, `keypath` and `algorithm` as CoCo has them; `sample=true` is recorded
/// for the provider to refuse (or, when started to allow it, warn about); a field CoCo would
/// ignore (an unknown name, a field without `=`) is ignored too, and listed in `ignored` for a
/// warning. Decryption: CoCo ignores the parameters (`offline_fs_kbc::null` names a guest's key
/// broker client); so does this provider, but for `keypath=FILE`, which names the KEK file.
public struct KeyProviderParameters: Equatable, Sendable {
    /// The KEK's name in the key store, written into the annotation as `kid`.
    public var keyID: String?
    /// A file holding the 32-byte KEK itself, instead of a key store.
    public var keyPath: String?
    public var algorithm: CoCoWrapType = .a256gcm
    /// `sample=true`: CoCo's sample mode, whose key is publicly known.
    public var sample = false
    /// The fields read but not used, as written (`colour=blue`, `offline_fs_kbc`): the command
    /// line warns about them, since a misspelt `keyid` is one of them.
    public var ignored: [String] = []

    public init(keyID: String? = nil, keyPath: String? = nil, algorithm: CoCoWrapType = .a256gcm) {
        self.keyID = keyID
        self.keyPath = keyPath
        self.algorithm = algorithm
    }

    /// Parses every entry of the provider's encryption parameter list (skopeo sends one; later
    /// entries may not contradict earlier ones: CoCo would take the last, but two different keys
    /// for one image are a mistake to stop at). `Enabled` alone means no parameters.
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
                    ignored.append(String(pair))  // CoCo drops a field without `=` too
                    continue
                }
                let key = String(pair[..<equals])
                let value = String(pair[pair.index(after: equals)...])
                switch key {
                case "keyid": try set(&keyID, value, key)
                case "keypath": try set(&keyPath, value, key)
                case "algorithm":
                    guard let algorithm = CoCoWrapType(rawValue: value) else {
                        throw CPKError.invalid("unknown algorithm \"\(value)\"; expected A256GCM")
                    }
                    self.algorithm = algorithm
                case "sample":
                    // CoCo reads anything but `true` as false.
                    if value == "true" { sample = true } else if value != "false" { ignored.append(String(pair)) }
                default:
                    ignored.append(String(pair))
                }
            }
        }
        if let keyID, let problem = KeyName.problem(with: keyID) { throw CPKError.invalid("keyid: \(problem)") }
    }

    /// The decryption parameters: nothing but `keypath=FILE` is used (the first, if several),
    /// and nothing is refused, as CoCo's provider refuses nothing there.
    public static func decryption(parsing entries: [[UInt8]]) -> KeyProviderParameters {
        var parameters = KeyProviderParameters()
        for entry in entries {
            guard let text = String(validating: entry, as: UTF8.self) else { continue }
            for pair in split(text) where pair.hasPrefix("keypath=") && pair.count > "keypath=".count {
                if parameters.keyPath == nil { parameters.keyPath = String(pair.dropFirst("keypath=".count)) }
            }
        }
        return parameters
    }

    private func set(_ field: inout String?, _ value: String, _ key: String) throws {
        guard !value.isEmpty else { throw CPKError.invalid("the key provider parameter \(key) is empty") }
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
