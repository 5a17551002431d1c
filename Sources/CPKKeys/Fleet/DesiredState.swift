import CPKCore
import CPKCrypto

/// The desired-state document of the DistributeKey contract (docs/keys.md §4.4): the class
/// keys wrapped to one device, as the cloud writes them for its twin.
///
///     {"device_id": "dev-01",
///      "desired": {"confidential_package_keys": {"<key name>": "<base64 wrapped key>"},
///                  "confidential_package_keys_wrapping": {"algorithm": "rsa-oaep-sha256",
///                                                         "device_public_key_sha256": "<hex>"}}}
///
/// `confidential_package_keys` is the contract's own property; the `_wrapping` sibling is this
/// suite's extension, saying how the keys are wrapped and to which key, so a device refuses a
/// document meant for another one before decrypting. Without it a reader assumes the
/// reference contract: RSA PKCS#1 v1.5, to whichever key reads it.
public struct DesiredState: Sendable {
    public static let keysProperty = "confidential_package_keys"
    public static let wrappingProperty = "confidential_package_keys_wrapping"

    /// The keys in document order: name and wrapped RSA block.
    public var keys: [(name: String, wrapped: [UInt8])]
    /// Entries that are not base64 text: name and what is wrong.
    public var unreadable: [(name: String, problem: String)]
    public var padding: KeyWrapPadding
    /// The fingerprint of the key they are wrapped to, when the document says.
    public var wrappingKeySHA256: [UInt8]?
    /// True when the document has the `_wrapping` property (else `padding` is the assumed default).
    public var declaresWrapping: Bool

    public init(keys: [(name: String, wrapped: [UInt8])], padding: KeyWrapPadding, wrappingKeySHA256: [UInt8]?) {
        self.keys = keys
        self.unreadable = []
        self.padding = padding
        self.wrappingKeySHA256 = wrappingKeySHA256
        self.declaresWrapping = true
    }

    /// The document for `deviceID`, with its keys in the order given.
    public func json(deviceID: String) -> JSONValue {
        var wrapping: [(String, JSONValue)] = [("algorithm", .string(padding.algorithmName))]
        if let wrappingKeySHA256 { wrapping.append(("device_public_key_sha256", .string(Hex.encode(wrappingKeySHA256)))) }
        return .object([
            (ReportedState.deviceIDProperty, .string(deviceID)),
            ("desired", .object([
                (Self.keysProperty, .object(keys.map { ($0.name, .string(Base64.encode($0.wrapped))) })),
                (Self.wrappingProperty, .object(wrapping)),
            ])),
        ])
    }

    /// True when `json` is a twin document with an unsigned `confidential_package_keys`.
    public static func isUnsigned(_ json: JSONValue) -> Bool {
        [json["properties"]?["desired"], json["desired"], json].contains { $0?[keysProperty] != nil }
    }

    /// Reads a twin document: `confidential_package_keys` at `properties.desired`, at
    /// `desired`, or at the top level, in that order, and its `_wrapping` sibling.
    /// - Parameter source: how messages name the document.
    public init(parsing document: [UInt8], from source: String) throws {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: document)
        } catch let error as JSONSyntaxError {
            throw CPKError.invalid("\(source): the device twin is not JSON (\(error))")
        }
        let places = [json["properties"]?["desired"], json["desired"], json].compactMap { $0 }
        guard let place = places.first(where: { $0[Self.keysProperty] != nil }), let members = place[Self.keysProperty] else {
            throw CPKError.invalid(
                "\(source): no \(Self.keysProperty) at properties.desired, desired or the top level of the device twin")
        }
        guard case .object(let entries) = members else {
            throw CPKError.invalid("\(source): \(Self.keysProperty) must be an object of key name to base64 wrapped key")
        }
        var keys: [(name: String, wrapped: [UInt8])] = []
        var unreadable: [(name: String, problem: String)] = []
        for (name, value) in entries {
            if let problem = KeyName.problem(with: name) {
                unreadable.append((name, problem))
            } else if case .string(let text) = value, let wrapped = Base64.decode(text, ignoringWhitespace: true), !wrapped.isEmpty {
                keys.append((name, wrapped))
            } else {
                unreadable.append((name, "the wrapped key is not a base64 string"))
            }
        }
        var padding = KeyWrapPadding.pkcs1v15
        var fingerprint: [UInt8]? = nil
        if let wrapping = place[Self.wrappingProperty] {
            guard case .object = wrapping, case .string(let algorithm)? = wrapping["algorithm"],
                let named = KeyWrapPadding(algorithmName: algorithm)
            else {
                let known = KeyWrapPadding.allCases.map(\.algorithmName).joined(separator: " or ")
                throw CPKError.invalid("\(source): \(Self.wrappingProperty) must name an algorithm, \(known)")
            }
            padding = named
            switch wrapping["device_public_key_sha256"] {
            case nil: break
            case .string(let hex)?:
                guard let bytes = Hex.decode(Array(hex.utf8), ignoringWhitespace: false), bytes.count == 32 else {
                    throw CPKError.invalid("\(source): device_public_key_sha256 must be 64 hex digits")
                }
                fingerprint = bytes
            default:
                throw CPKError.invalid("\(source): device_public_key_sha256 must be 64 hex digits")
            }
        }
        self.keys = keys
        self.unreadable = unreadable
        self.padding = padding
        self.wrappingKeySHA256 = fingerprint
        self.declaresWrapping = place[Self.wrappingProperty] != nil
    }
}
