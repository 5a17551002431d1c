import CPKCore

// The manifest's JSON form: keys and key order exactly as docs/format.md shows them.

extension Manifest {
    /// The JSON document, keys in the reference order.
    public var json: JSONValue {
        .object([
            ("cp-id", .string(id)),
            ("cp-name", .string(name)),
            ("cp-vendor", .string(vendor)),
            ("payload", .object([
                ("data", .integer(payload.data)),
                ("target", .object([("arch", .string(payload.target.arch)), ("os", .string(payload.target.os))])),
                ("ver", .object([
                    ("maj", .integer(payload.version.major)),
                    ("min", .integer(payload.version.minor)),
                    ("rev", .integer(payload.version.revision)),
                    ("date", .string(payload.version.date)),
                ])),
                ("enc", payload.encryption.json),
                ("dig", payload.digest.json),
                ("sig", payload.signature.json),
                ("cert", payload.certificate.json),
            ])),
            ("package", .object([
                ("map", .array(package.map.map { .integer($0) })),
                ("dig", package.digest.json),
                ("sig", package.signature.json),
                ("cert", package.certificate.json),
            ])),
        ])
    }

    /// The bytes stored in the manifest stream: compact JSON, as the reference writer makes it.
    public var encoded: [UInt8] { Array(json.compactText.utf8) }

    /// Reads a manifest strictly: every key known, every scheme known, every number in range.
    public init(json: JSONValue) throws {
        var root = try ObjectReader(json, path: "manifest")
        id = try root.string("cp-id")
        name = try root.string("cp-name")
        vendor = try root.string("cp-vendor")

        var payloadReader = try ObjectReader(try root.value("payload"), path: "payload")
        let data = try payloadReader.streamIndex("data")
        var targetReader = try ObjectReader(try payloadReader.value("target"), path: "payload.target")
        let target = Target(arch: try targetReader.string("arch"), os: try targetReader.string("os"))
        try targetReader.finish()
        var versionReader = try ObjectReader(try payloadReader.value("ver"), path: "payload.ver")
        let version = Version(
            major: try versionReader.uint32("maj"), minor: try versionReader.uint32("min"),
            revision: try versionReader.uint32("rev"), date: try versionReader.string("date"))
        try versionReader.finish()
        payload = PayloadSection(
            data: data, target: target, version: version,
            encryption: try Encryption(json: try payloadReader.value("enc"), path: "payload.enc"),
            digest: try Digest(json: try payloadReader.value("dig"), path: "payload.dig"),
            signature: try Signature(json: try payloadReader.value("sig"), path: "payload.sig"),
            certificate: try Certificate(json: try payloadReader.value("cert"), path: "payload.cert"))
        try payloadReader.finish()

        var packageReader = try ObjectReader(try root.value("package"), path: "package")
        guard case .array(let items) = try packageReader.value("map") else {
            throw CPKError.invalid("manifest: package.map must be an array of stream indexes")
        }
        var map: [Int] = []
        for item in items { map.append(try ObjectReader.streamIndex(item, path: "package.map")) }
        package = PackageSection(
            map: map,
            digest: try Digest(json: try packageReader.value("dig"), path: "package.dig"),
            signature: try Signature(json: try packageReader.value("sig"), path: "package.sig"),
            certificate: try Certificate(json: try packageReader.value("cert"), path: "package.cert"))
        try packageReader.finish()
        try root.finish()
    }

    /// Parses manifest bytes (a JSON document).
    public init(encoded bytes: [UInt8]) throws {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: bytes)
        } catch {
            throw CPKError.invalid("manifest is not valid JSON: \(error)")
        }
        try self.init(json: json)
    }
}

// MARK: - Schemes

extension Encryption {
    var json: JSONValue {
        switch self {
        case .none: return .string("none")
        case let .aesGCM(keyName, keyStrength, nonce, tag):
            return .object([("aes-gcm", .object([
                ("key_name", .string(keyName)), ("key_strength", .integer(keyStrength)),
                ("nonce", .integer(nonce)), ("tag", .integer(tag)),
            ]))])
        }
    }

    init(json: JSONValue, path: String) throws {
        guard var (_, fields) = try SchemeReader.read(json, path: path, known: ["aes-gcm"]) else {
            self = .none
            return
        }
        let keyStrength = try fields.integer("key_strength", in: 1...65536)
        guard keyStrength == 256 else {
            throw CPKError.invalid("manifest: \(path): AES-GCM key strength \(keyStrength) is not supported (only 256)")
        }
        self = .aesGCM(
            keyName: try fields.string("key_name"), keyStrength: keyStrength,
            nonce: try fields.streamIndex("nonce"), tag: try fields.streamIndex("tag"))
        try fields.finish()
    }
}

extension Digest {
    var json: JSONValue {
        switch self {
        case .none: return .string("none")
        case .sha256(let data): return .object([("sha256", .object([("data", .integer(data))]))])
        }
    }

    init(json: JSONValue, path: String) throws {
        guard var (_, fields) = try SchemeReader.read(json, path: path, known: ["sha256"]) else {
            self = .none
            return
        }
        self = .sha256(data: try fields.streamIndex("data"))
        try fields.finish()
    }
}

extension Signature {
    static let variants = ["rsa-pkcs1v15", "rsa-pss", "ecdsa-p256", "ecdsa-p384", "ed25519"]

    var json: JSONValue {
        guard let data = stream else { return .string("none") }
        let fields: [(String, JSONValue)] = keyStrength.map { [("key_strength", .integer($0))] } ?? []
        return .object([(schemeName, .object(fields + [("data", .integer(data))]))])
    }

    init(json: JSONValue, path: String) throws {
        guard var (variant, fields) = try SchemeReader.read(json, path: path, known: Self.variants) else {
            self = .none
            return
        }
        switch variant {
        case "rsa-pkcs1v15", "rsa-pss":
            let bits = try fields.integer("key_strength", in: 1024...16384)
            guard bits % 8 == 0 else {
                throw CPKError.invalid("manifest: \(path): RSA key strength \(bits) is not a whole number of bytes")
            }
            let data = try fields.streamIndex("data")
            self = variant == "rsa-pss" ? .rsaPSS(keyStrength: bits, data: data) : .rsaPKCS1v15(keyStrength: bits, data: data)
        case "ecdsa-p256": self = .ecdsaP256(data: try fields.streamIndex("data"))
        case "ecdsa-p384": self = .ecdsaP384(data: try fields.streamIndex("data"))
        default: self = .ed25519(data: try fields.streamIndex("data"))
        }
        try fields.finish()
    }
}

extension Certificate {
    static let embeddedVariants = [
        "embedded-x509-pem", "embedded-x509-der", "embedded-public-key-pem", "embedded-public-key-der",
    ]

    var json: JSONValue {
        func embedded(_ variant: String, _ data: Int) -> JSONValue {
            .object([(variant, .object([("data", .integer(data))]))])
        }
        switch self {
        case .none: return .string("none")
        case .targetDomain(let domain): return .object([("target", .object([("domain", .string(domain))]))])
        case .url(let url): return .object([("url", .object([("url", .string(url))]))])
        case .x509PEM(let data): return embedded("embedded-x509-pem", data)
        case .x509DER(let data): return embedded("embedded-x509-der", data)
        case .publicKeyPEM(let data): return embedded("embedded-public-key-pem", data)
        case .publicKeyDER(let data): return embedded("embedded-public-key-der", data)
        }
    }

    init(json: JSONValue, path: String) throws {
        let known = ["target", "url"] + Self.embeddedVariants
        guard let (variant, reader) = try SchemeReader.read(json, path: path, known: known) else {
            self = .none
            return
        }
        var fields = reader
        switch variant {
        case "target": self = .targetDomain(try fields.string("domain"))
        case "url": self = .url(try fields.string("url"))
        case "embedded-x509-pem": self = .x509PEM(data: try fields.streamIndex("data"))
        case "embedded-x509-der": self = .x509DER(data: try fields.streamIndex("data"))
        case "embedded-public-key-pem": self = .publicKeyPEM(data: try fields.streamIndex("data"))
        default: self = .publicKeyDER(data: try fields.streamIndex("data"))
        }
        try fields.finish()
    }
}

/// Reads a scheme: the string "none", or an object with exactly one known variant name.
enum SchemeReader {
    static func read(_ json: JSONValue, path: String, known: [String]) throws -> (String, ObjectReader)? {
        let knownList = (["none"] + known).joined(separator: ", ")
        switch json {
        case .string("none"):
            return nil
        case .string(let other):
            throw CPKError.invalid("manifest: \(path): unknown scheme \"\(other)\" (known: \(knownList))")
        case .object(let members) where members.count == 1:
            let (variant, body) = members[0]
            guard known.contains(variant) else {
                throw CPKError.invalid("manifest: \(path): unknown scheme \"\(variant)\" (known: \(knownList))")
            }
            return (variant, try ObjectReader(body, path: "\(path).\(variant)"))
        default:
            throw CPKError.invalid("manifest: \(path) must be \"none\" or an object with one scheme (known: \(knownList))")
        }
    }
}

/// Reads an object's members by name, and at the end rejects any member nobody asked for.
struct ObjectReader {
    let path: String
    let members: [(String, JSONValue)]
    var used: Set<String> = []

    init(_ json: JSONValue, path: String) throws {
        guard case .object(let members) = json else { throw CPKError.invalid("manifest: \(path) must be a JSON object") }
        self.members = members
        self.path = path
    }

    mutating func value(_ key: String) throws -> JSONValue {
        guard let value = members.first(where: { $0.0 == key })?.1 else {
            throw CPKError.invalid("manifest: \(path) has no \"\(key)\"")
        }
        used.insert(key)
        return value
    }

    mutating func string(_ key: String) throws -> String {
        guard case .string(let text) = try value(key) else {
            throw CPKError.invalid("manifest: \(path).\(key) must be a string")
        }
        return text
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int {
        try Self.integer(try value(key), path: "\(path).\(key)", in: range)
    }

    mutating func uint32(_ key: String) throws -> UInt32 {
        UInt32(try integer(key, in: 0...Int(UInt32.max)))
    }

    mutating func streamIndex(_ key: String) throws -> Int {
        try Self.streamIndex(try value(key), path: "\(path).\(key)")
    }

    static func streamIndex(_ json: JSONValue, path: String) throws -> Int {
        try integer(json, path: path, in: 0...Int(UInt16.max))
    }

    static func integer(_ json: JSONValue, path: String, in range: ClosedRange<Int>) throws -> Int {
        guard case .number(let literal) = json, let value = Int(literal) else {
            throw CPKError.invalid("manifest: \(path) must be a whole number")
        }
        guard range.contains(value) else {
            throw CPKError.invalid("manifest: \(path) is \(value), outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func finish() throws {
        if let unknown = members.first(where: { !used.contains($0.0) }) {
            throw CPKError.invalid("manifest: \(path) has an unknown key \"\(unknown.0)\"")
        }
    }
}
