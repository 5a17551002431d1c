import CPKCore
import CPKCrypto

/// Something that hands out class keys wrapped to a public key.
public protocol KeySource {
    /// How messages name the source, e.g. "the key store test.json".
    var description: String { get }

    /// The key called `name`, wrapped to `publicKey` with `padding`.
    func wrappedKey(named name: String, to publicKey: PublicKey, padding: KeyWrapPadding) throws -> WrappedKey

    /// The key called `name` itself, when this process reads it anyway (a local file store):
    /// then wrapping it to a key pair made for the occasion and unwrapping it again adds
    /// nothing but an RSA key generation. Nil for a source that only hands out wrapped keys.
    /// The caller wipes it.
    func localKey(named name: String) throws -> [UInt8]?
}

extension KeySource {
    public func localKey(named name: String) throws -> [UInt8]? { nil }
}

/// A file key store: the raw key is read here and wrapped locally, then forgotten.
public struct FileKeySource: KeySource {
    public let path: String

    public init(path: String) { self.path = path }

    public var description: String { "the key store \(path)" }

    public func wrappedKey(named name: String, to publicKey: PublicKey, padding: KeyWrapPadding) throws -> WrappedKey {
        var key = try FileKeyStore(path: path).key(named: name)
        defer { wipe(&key) }
        return try WrappedKey(wrapping: key, named: name, to: publicKey, padding: padding)
    }

    public func localKey(named name: String) throws -> [UInt8]? {
        try FileKeyStore(path: path).key(named: name)
    }
}

/// A wrapped key the caller already holds, as base64 (a file or standard input). The caller
/// vouches for the padding; the size is checked against the public key.
public struct InlineKeySource: KeySource {
    public let base64: [UInt8]
    public let description: String

    public init(base64: [UInt8], from name: String) {
        self.base64 = base64
        description = name
    }

    public func wrappedKey(named name: String, to publicKey: PublicKey, padding: KeyWrapPadding) throws -> WrappedKey {
        try KeyName.validate(name)
        guard let wrapped = Base64.decode(base64, ignoringWhitespace: true) else {
            throw CPKError.invalid("\(description): the inline wrapped key is not valid base64")
        }
        return try WrappedKey(received: wrapped, named: name, to: publicKey, padding: padding, from: description)
    }
}

/// A device-twin document in the DistributeKey desired-state model: the cloud writes
/// `confidential_package_keys` (key name to base64 wrapped key) into the desired properties.
/// Accepted at `properties.desired`, at `desired`, or at the top level of the document.
public struct DeviceTwinKeySource: KeySource {
    public static let keysProperty = "confidential_package_keys"

    public let document: [UInt8]
    public let description: String

    public init(document: [UInt8], from name: String) {
        self.document = document
        description = name
    }

    public func wrappedKey(named name: String, to publicKey: PublicKey, padding: KeyWrapPadding) throws -> WrappedKey {
        try KeyName.validate(name)
        let desired = try DesiredState(parsing: document, from: description)
        let names = desired.keys.map(\.name) + desired.unreadable.map(\.name)
        guard let stored = try KeyName.match(name, in: names) else {
            throw CPKError.invalid("\(description): \(Self.keysProperty) has no key named \"\(name)\"")
        }
        guard let wrapped = desired.keys.first(where: { $0.name == stored })?.wrapped else {
            throw CPKError.invalid("\(description): the wrapped key \"\(stored)\" is not a base64 string")
        }
        // A document that says how its keys are wrapped is believed over the caller's guess.
        if desired.declaresWrapping && desired.padding != padding {
            throw CPKError(
                .invalidInput, "\(description): the keys are wrapped with \(desired.padding.algorithmName), not \(padding.algorithmName)",
                reason: .documentPaddingDiffers, subject: desired.padding.rawValue)
        }
        if let fingerprint = desired.wrappingKeySHA256, fingerprint != (try publicKey.fingerprint) {
            throw CPKError.check("\(description): the keys are wrapped to another device's public key")
        }
        return try WrappedKey(received: wrapped, named: name, to: publicKey, padding: padding, from: description)
    }
}
