import CPKCore
import CPKCrypto

/// The key provider itself: answers one ocicrypt request with CoCo-format annotations, the KEK
/// coming from a file key store (by `kid`) or from the file a `keypath` parameter names. The
/// same for both of ocicrypt's ways of reaching it: a process per request ("cmd") and the
/// gRPC service (CPKKeyProviderServer).
public struct KeyProvider: Sendable {
    /// The name Confidential Containers gives its provider, and so the annotation a CoCo guest
    /// looks for (`org.opencontainers.image.enc.keys.provider.attestation-agent`).
    public static let defaultName = "attestation-agent"
    /// This provider's name before it took CoCo's: answered to as well when no name is chosen,
    /// so that an ocicrypt configuration written for it keeps working.
    public static let formerName = "cpk"
    /// CoCo's key id for its sample mode (`sample=true`).
    public static let sampleKeyID = "kbs:///default/test-key/1"

    /// The names this provider answers to in the ocicrypt configuration (`provider:<name>:...`),
    /// the first preferred when a request carries parameters for several.
    public let names: [String]
    /// The file key store that holds KEKs by name; nil when only `keypath` is usable.
    public let storePath: String?
    /// Whether `sample=true` is read (as the store's key of CoCo's sample id), not refused.
    public let allowsSample: Bool

    /// The provider's first name.
    public var name: String { names.first ?? Self.defaultName }

    public init(name: String, storePath: String?, allowsSample: Bool = false) {
        self.init(names: [name], storePath: storePath, allowsSample: allowsSample)
    }

    public init(names: [String], storePath: String?, allowsSample: Bool = false) {
        self.names = names.isEmpty ? [Self.defaultName] : names
        self.storePath = storePath
        self.allowsSample = allowsSample
    }

    public enum Operation: String, Sendable {
        case wrap = "keywrap"
        case unwrap = "keyunwrap"
    }

    /// One answered request: the response bytes, and what a log line says of it (never a key).
    public struct Answer: Sendable {
        public var response: [UInt8]
        public var operation: Operation
        /// The annotation's `kid`: the one written (wrap) or read (unwrap).
        public var keyID: String
        /// Things the operator should know, one line each: ignored parameters, a kid rewritten
        /// into the form a CoCo guest resolves, an unauthenticated A256CTR annotation.
        public var warnings: [String]
    }

    /// The response to `request`, or a `CPKError` whose one line ocicrypt passes on.
    public func respond(to request: [UInt8]) throws -> [UInt8] {
        try answer(request).response
    }

    /// Answers `request`.
    /// - Parameter expected: the operation the request must be (gRPC has a method for each).
    public func answer(_ request: [UInt8], expected: Operation? = nil) throws -> Answer {
        let parsed = try KeyProviderRequest(parsing: request, providers: names)
        switch (parsed, expected) {
        case (.wrap, .unwrap?), (.unwrap, .wrap?):
            let (op, method) = expected == .wrap ? ("keyunwrap", "WrapKey") : ("keywrap", "UnWrapKey")
            throw CPKError.invalid("the request's op is \(op), but it was sent to \(method)")
        default: break
        }
        switch parsed {
        case .wrap(let entries, let optsData):
            return try wrap(entries: entries, optsData: optsData)
        case .unwrap(let entries, let annotationBytes):
            // CoCo's decryption parameters are for the guest's key broker client: nothing to
            // refuse, nothing to warn about; the annotation names its key.
            let parameters = KeyProviderParameters.decryption(parsing: entries)
            let annotation = try CoCoAnnotation(parsing: annotationBytes)
            var warnings: [String] = []
            if annotation.wrapType == CoCoWrapType.a256ctr.rawValue {
                warnings.append(
                    "the annotation of \"\(annotation.kid)\" is A256CTR, which is unauthenticated: a changed annotation "
                        + "is not detected; re-encrypt the image with A256GCM")
            }
            var kek = try keyEncryptionKey(kid: annotation.kid, keyPath: parameters.keyPath)
            defer { wipe(&kek) }
            var optsData = try annotation.unwrap(kek: kek)
            defer { wipe(&optsData) }
            return Answer(
                response: KeyProviderResponse.unwrapped(optsData: optsData), operation: .unwrap, keyID: annotation.kid,
                warnings: warnings)
        }
    }

    private func wrap(entries: [[UInt8]], optsData: [UInt8]) throws -> Answer {
        let parameters = try KeyProviderParameters(parsing: entries)
        var warnings = parameters.ignored.map { "ignored the key provider parameter \"\($0)\" (CoCo's provider ignores it too)" }
        var keyID = parameters.keyID
        if parameters.sample {
            guard allowsSample else {
                throw CPKError(
                    .invalidInput,
                    "sample=true asks for CoCo's sample key, which is publicly known: anyone could decrypt the layers; "
                        + "use keypath=FILE (a 32-byte key) or keyid=kbs:///REPO/TYPE/TAG from the key store",
                    reason: .sampleKeyRefused)
            }
            keyID = keyID ?? Self.sampleKeyID
            warnings.append(
                "sample=true: wrapping with the key \"\(keyID ?? "")\" of \(parameters.keyPath == nil ? "the key store" : "the keypath file"); "
                    + "sample keys are for demonstrations, never for images that matter")
        }
        guard let keyID else {
            throw CPKError(
                .invalidInput, "keywrap needs a keyid parameter, e.g. provider:\(name):keyid=kbs:///default/key/key_id1")
        }
        try CoCoAnnotation.requireWritable(parameters.algorithm.rawValue)
        let (kid, note) = Self.annotationKeyID(keyID)
        if let note { warnings.append(note) }
        var kek = try keyEncryptionKey(kid: keyID, keyPath: parameters.keyPath)
        defer { wipe(&kek) }
        let annotation = try CoCoAnnotation.wrap(optsData, kid: kid, kek: kek, algorithm: parameters.algorithm)
        return Answer(response: KeyProviderResponse.wrapped(annotation: annotation.bytes), operation: .wrap, keyID: kid, warnings: warnings)
    }

    /// The `kid` to write for a `keyid` parameter: a KBS resource in the `kbs:///repo/type/tag`
    /// form a CoCo guest resolves (its confidential data hub asks the KBS it is configured with
    /// for the path), and a note when that is not the form it was given in.
    public static func annotationKeyID(_ keyID: String) -> (kid: String, note: String?) {
        guard let resource = KBSResourceURI(parsing: keyID) else {
            return (keyID, "the keyid \"\(keyID)\" is not a KBS resource (kbs:///REPO/TYPE/TAG): it is written as given, "
                + "and a CoCo guest cannot fetch its key")
        }
        if keyID.hasPrefix("kbs://") { return (keyID, nil) }  // kbs:///r/t/g, or kbs://host/r/t/g: as given
        let kid = "kbs:///" + resource.path
        let host = resource.host.map { " (without the host \"\($0)\": a guest asks the KBS it is configured with)" } ?? ""
        return (kid, "the keyid \"\(keyID)\" is written as \(kid), the form a CoCo guest resolves\(host)")
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
