import CPKCore
import CPKCrypto

/// The key provider itself: answers one ocicrypt request with CoCo-format annotations, the KEK
/// coming from a file key store (by `kid`) or from the file a `keypath` parameter names.
public struct KeyProvider {
    /// The provider's name in the ocicrypt configuration (`provider:<name>:...`).
    public let name: String
    /// The file key store that holds KEKs by name; nil when only `keypath` is usable.
    public let storePath: String?

    public init(name: String, storePath: String?) {
        self.name = name
        self.storePath = storePath
    }

    /// The response to `request`, or a `CPKError` whose one line ocicrypt passes on.
    public func respond(to request: [UInt8]) throws -> [UInt8] {
        switch try KeyProviderRequest(parsing: request, provider: name) {
        case .wrap(let entries, let optsData):
            let parameters = try KeyProviderParameters(parsing: entries)
            guard let kid = parameters.keyID else {
                throw CPKError(
                    .invalidInput, "keywrap needs a keyid parameter, e.g. provider:\(name):keyid=kbs:///default/key/key_id1")
            }
            var kek = try keyEncryptionKey(kid: kid, keyPath: parameters.keyPath)
            defer { wipe(&kek) }
            let annotation = try CoCoAnnotation.wrap(optsData, kid: kid, kek: kek, algorithm: parameters.algorithm)
            return KeyProviderResponse.wrapped(annotation: annotation.bytes)
        case .unwrap(let entries, let annotationBytes):
            // A keyid given at decryption is not needed: the annotation names its key.
            let parameters = try KeyProviderParameters(parsing: entries)
            let annotation = try CoCoAnnotation(parsing: annotationBytes)
            var kek = try keyEncryptionKey(kid: annotation.kid, keyPath: parameters.keyPath)
            defer { wipe(&kek) }
            var optsData = try annotation.unwrap(kek: kek)
            defer { wipe(&optsData) }
            return KeyProviderResponse.unwrapped(optsData: optsData)
        }
    }

    /// The 32-byte KEK: the `keypath` file when given (CoCo's way of naming a local key), else
    /// the store's key named `kid` (any spelling of the same KBS resource).
    func keyEncryptionKey(kid: String, keyPath: String?) throws -> [UInt8] {
        if let keyPath {
            var bytes = try SmallInput.read(keyPath, limit: 4096, what: "the keypath file")
            guard bytes.count == classKeySize else {
                let count = bytes.count
                wipe(&bytes)
                throw CPKError.invalid("the keypath file \(keyPath) holds \(count) bytes; a KEK is \(classKeySize) raw bytes")
            }
            return bytes
        }
        guard let storePath else {
            throw CPKError(
                .usage, "no key store for the key \"\(kid)\": set \(KeyStoreLocation.fileSourceVariable) or give a keypath parameter",
                reason: .noKeyStore)
        }
        return try FileKeyStore(path: storePath).key(named: kid)
    }

    /// Reads a request from `file`, at most `limit` + 1 bytes: a longer one is refused without
    /// reading (or holding) the rest of it.
    public static func readRequest(from file: FileDescriptor, limit: Int = KeyProviderRequest.sizeLimit) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        let count = try bytes.withUnsafeMutableBytes { try file.readFully(into: $0) }
        guard count <= limit else {
            throw CPKError.invalid("the key provider request on \(file.name) is larger than \(limit) bytes")
        }
        guard count > 0 else { throw CPKError.invalid("no key provider request on \(file.name) (it is empty)") }
        bytes.removeSubrange(count...)
        return bytes
    }
}
