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
        valueName: "file"))
    public var wrappedKey: String?

    @Option(help: ArgumentHelp("The private key (PEM, or a pkcs11: URI) that unwraps --wrapped-key.", valueName: "file"))
    public var unwrapKey: String?

    @OptionGroup public var token: TokenOptions

    @Option(help: ArgumentHelp("Padding of a bare wrapped key (a document records its own).", valueName: "padding"))
    public var padding = KeyWrapPadding.pkcs1v15

    @OptionGroup public var store: KeyStoreOptions

    @Option(help: ArgumentHelp("The key's name in the store (default: the package's key name, its cp-id).", valueName: "name"))
    public var key: String?

    @Flag(help: "Do not warn that an ephemeral agent key is for development.")
    public var quiet = false

    public init() {}

    /// True when the command line names any key source (the environment may still name one).
    public var isGiven: Bool { wrappedKey != nil || !store.flags.isEmpty }

    /// The class key called `name` (or `--key`), unwrapped in memory. The caller wipes it.
    public func classKey(defaultName name: String, tool: String) throws -> [UInt8] {
        let name = key ?? name
        if let wrappedKey {
            return try unwrapGivenKey(wrappedKey, name: name)
        }
        guard unwrapKey == nil else { throw CPKError.usage("--unwrap-key goes with --wrapped-key") }
        return try fetchThroughEphemeralAgent(name: name, tool: tool)
    }

    private func unwrapGivenKey(_ path: String, name: String) throws -> [UInt8] {
        guard let unwrapKey else {
            throw CPKError.usage("--wrapped-key needs --unwrap-key FILE, the private key it was wrapped to")
        }
        try SmallInput.requireOneStandardInput([(path, "--wrapped-key"), (unwrapKey, "--unwrap-key")])
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
    private func fetchThroughEphemeralAgent(name: String, tool: String) throws -> [UInt8] {
        let environment = KeyStoreLocation.processEnvironment
        if store.flags.isEmpty && environment.values.allSatisfy(\.isEmpty) {
            throw CPKError.usage(
                "the key \"\(name)\" is needed: give --wrapped-key with --unwrap-key, or a key store "
                    + "(--file-store FILE, --url URL, or \(KeyStoreLocation.fileSourceVariable) / \(KeyStoreLocation.cloudSourceVariable))")
        }
        let location = try KeyStoreLocation.select(flags: store.flags, environment: environment)
        let source = try location.source { store.keyfetchBridge(endpoint: $0) }
        if let key = try source.localKey(named: name) {
            // The store is a file this process reads: the key is in hand already, so no
            // ephemeral key pair is made to carry it (an RSA-2048 generation per run).
            if !quiet {
                Console.error(
                    "\(tool): warning: reading the key \"\(name)\" in clear from \(source.description); this is for development")
            }
            return try checkedKey(key, name: name)
        }
        if !quiet {
            Console.error(
                "\(tool): warning: using an ephemeral agent key to fetch \"\(name)\" from \(source.description); this is for development")
        }
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
