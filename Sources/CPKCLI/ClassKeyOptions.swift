import ArgumentParser
import CPKCore
import CPKCrypto
import CPKKeys

/// Where the AES-256 class key of a package comes from (cpk-seal, cpk-unpack), never in clear
/// on the command line: a wrapped key plus the private key that unwraps it, or a key store
/// asked to wrap the key to an ephemeral key pair made for this one run.
public struct ClassKeyOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A wrapped key from cpk-keyfetch (its document, or a bare block as raw bytes or base64).",
        valueName: "file"), completion: .file())
    public var wrappedKey: String?

    @Option(
        name: .customLong("key"),
        help: ArgumentHelp("The private key (PEM or DER, or a pkcs11: URI) that unwraps --wrapped-key.", valueName: "file"),
        completion: .file())
    public var keyFile: String?

    /// The spelling of --key before the tools shared one vocabulary; costs nothing to keep.
    @Option(name: .customLong("unwrap-key"), help: .hidden, completion: .file())
    public var unwrapKeyAlias: String?

    @OptionGroup public var token: TokenOptions

    @Option(help: ArgumentHelp("Padding of a bare wrapped key (a document records its own).", valueName: "padding"))
    public var padding = KeyWrapPadding.oaepSHA256

    @OptionGroup public var store: KeyStoreOptions

    @Option(
        help: ArgumentHelp("The key's name in the store (default: the package's key name, its cp-id).", valueName: "name"),
        completion: .custom(KeyNameCompletion.fromFileStore))
    public var keyName: String?

    public init() {}

    /// The private key that unwraps --wrapped-key (--key, or its old spelling --unwrap-key).
    public var unwrapKey: String? { keyFile ?? unwrapKeyAlias }

    public func validate() throws {
        if keyFile != nil && unwrapKeyAlias != nil { throw ValidationError("give --key once (--unwrap-key is its old name)") }
    }

    /// True when the command line names any key source (the environment may still name one).
    public var isGiven: Bool { wrappedKey != nil || !store.flags.isEmpty }

    /// The class key called `name` (or `--key-name`), unwrapped in memory. The caller wipes it.
    /// `messages` says whether to warn about an ephemeral agent key (not with -q).
    public func classKey(defaultName name: String, tool: String, messages: MessageOptions) throws -> [UInt8] {
        let name = keyName ?? name
        if let wrappedKey {
            return try unwrapGivenKey(wrappedKey, name: name)
        }
        guard unwrapKey == nil else { throw CPKError.usage("--key goes with --wrapped-key") }
        return try fetchThroughEphemeralAgent(name: name, tool: tool, messages: messages)
    }

    private func unwrapGivenKey(_ path: String, name: String) throws -> [UInt8] {
        guard let unwrapKey else {
            throw CPKError.usage("--wrapped-key needs --key FILE, the private key it was wrapped to")
        }
        try SmallInput.requireOneStandardInput([(path, "--wrapped-key"), (unwrapKey, "--key")])
        let privateKey = try token.rsaPrivateKey(unwrapKey, what: "the unwrap key")
        let input = try WrappedKeyInput(parsing: try SmallInput.read(path, limit: SmallInput.keyLimit, what: "the wrapped key"))
        let wrapped: WrappedKey
        switch input {
        case .document(let document):
            guard document.keyName == name else {
                throw CPKError.check("the wrapped key is \"\(document.keyName)\", but the package needs \"\(name)\"")
            }
            wrapped = document
        case .bare(let bytes):
            wrapped = try WrappedKey(
                received: bytes, named: name, to: privateKey.publicKey, padding: padding, from: "--wrapped-key \(path)")
        }
        return try checkedKey(try wrapped.unwrap(with: privateKey), name: name)
    }

    /// Like the reference tool's `local` method: a key pair made in memory for this run only,
    /// to which the store wraps the key.
    private func fetchThroughEphemeralAgent(name: String, tool: String, messages: MessageOptions) throws -> [UInt8] {
        let environment = KeyStoreLocation.processEnvironment
        if store.flags.isEmpty && environment.values.allSatisfy(\.isEmpty) {
            throw CPKError.usage(
                "the key \"\(name)\" is needed: give --wrapped-key with --key, or a key store "
                    + "(--file-store FILE, --url URL, or \(KeyStoreLocation.fileSourceVariable) / \(KeyStoreLocation.cloudSourceVariable))")
        }
        let location = try KeyStoreLocation.select(flags: store.flags, environment: environment)
        let source = try location.source { store.keyfetchBridge(endpoint: $0) }
        if let key = try source.localKey(named: name) {
            // The store is a file this process reads: the key is in hand already, so no
            // ephemeral key pair is made to carry it (an RSA-2048 generation per run).
            messages.warning(tool, "reading the key \"\(name)\" in clear from \(source.description); this is for development")
            return try checkedKey(key, name: name)
        }
        messages.warning(tool, "using an ephemeral agent key to fetch \"\(name)\" from \(source.description); this is for development")
        let agent = try RSAPrivateKey.generate(bits: 2048)
        let wrapped = try source.wrappedKey(named: name, to: agent.publicKey, padding: .pkcs1v15)
        return try checkedKey(try wrapped.unwrap(with: agent), name: name)
    }

    private func checkedKey(_ key: [UInt8], name: String) throws -> [UInt8] {
        guard key.count == AESGCM.keySize else {
            var key = key
            wipe(&key)
            throw CPKError.invalid("the key \"\(name)\" is \(key.count) bytes; an AES-256 class key is 32")
        }
        return key
    }
}
