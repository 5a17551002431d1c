import ArgumentParser
import CPKAttestation
import CPKCLI
import CPKCore
import CPKCrypto
import CPKKeyProviderServer
import CPKKeyService
import CPKKeys
import Dispatch

#if canImport(Glibc)
import Glibc  // time()
#endif

/// `cpk-keyfetch`'s subcommands, one entry point each. Its own target, beside CPKCLI, because
/// only cpk-keyfetch links the network code (CPKKeyService): every other tool reaches a key
/// service through a cpk-keyfetch process. Like CPKCLI, this is the command-line layer, where
/// flags are named.
public enum KeyfetchFrontend {
    static let tool = "cpk-keyfetch"

    /// What `cpk-keyfetch fetch` is asked for.
    public struct Fetching {
        public var keyName: String
        /// The public key or certificate to wrap to; `-` is standard input.
        public var recipient: String
        public var store: KeyStoreOptions
        public var inline: String?
        public var twin: String?
        public var padding: KeyWrapPadding
        public var format: WrappedKeyFormat
        public var output: String
        public var json: Bool
        public var messages: MessageOptions

        public init(
            keyName: String, recipient: String, store: KeyStoreOptions, inline: String?, twin: String?, padding: KeyWrapPadding,
            format: WrappedKeyFormat, output: String, json: Bool, messages: MessageOptions
        ) {
            (self.keyName, self.recipient, self.store, self.inline, self.twin) = (keyName, recipient, store, inline, twin)
            (self.padding, self.format, self.output, self.json, self.messages) = (padding, format, output, json, messages)
        }
    }

    /// `cpk-keyfetch fetch`: the named key, wrapped to the recipient, in `format`; with
    /// `json`, the report (never the key) on standard output (`output`).
    public static func fetch(_ request: Fetching, output: DocumentOutput = Console.output) throws {
        try JSONErrors.reporting(json: request.json, tool: tool) { try fetchReporting(request, output) }
    }

    private static func fetchReporting(_ request: Fetching, _ output: DocumentOutput) throws {
        let name = request.keyName
        try KeyName.validate(name)
        let flags = request.store.flags
            + [request.inline.map(KeyStoreLocation.inline), request.twin.map(KeyStoreLocation.twin)].compactMap { $0 }
        let location = try KeyStoreLocation.select(flags: flags, environment: KeyStoreLocation.processEnvironment)
        try SmallInput.requireOneStandardInput([(request.recipient, "--to"), (location.inputPath ?? "", location.option)])
        let publicBytes = try SmallInput.read(request.recipient, limit: SmallInput.keyLimit, what: "the public key")
        let publicKey = try SmallInput.locating(request.recipient) { try PublicKey(loading: publicBytes) }
        let source = try location.source(
            timeout: request.store.timeout, transport: HTTPClient(caFile: request.store.trustedCAFile))
        let wrapped = try source.wrappedKey(named: name, to: publicKey, padding: request.padding)
        let (bytes, binary) = request.format.render(wrapped)
        try writeResult(bytes, to: request.output, binary: binary)
        if request.json { try output(wrapped.fetchReport(store: location.kind).compactText) }
        request.messages.step(
            tool,
            "wrote \(TerminalText.escaped(name)) from \(TerminalText.escaped(source.description)), wrapped with "
                + "\(request.padding.algorithmName) to the public key sha256:\(Hex.encode(try publicKey.fingerprint))")
    }

    /// `cpk-keyfetch provision`: a new random AES-256 key named `name`, in a file store
    /// (rewritten atomically, 0600) or through the ProvisionKey contract.
    public static func provision(name: String, store: KeyStoreOptions, force: Bool) throws {
        try KeyName.validate(name)
        switch try KeyStoreLocation.select(flags: store.flags, environment: KeyStoreLocation.processEnvironment) {
        case .file(let path):
            var key = try SecureRandom.bytes(classKeySize)
            defer { wipe(&key) }
            try FileKeyStore.provision(key, named: name, path: path, force: force)
        case .http(let url):
            if force { throw CPKError.usage("--force applies to file stores; the ProvisionKey contract has no overwrite") }
            try ProvisionKeyClient(base: url, timeout: store.timeout, transport: HTTPClient(caFile: store.trustedCAFile))
                .provision(named: name)
        case .inline, .twin:
            throw CPKError.usage("provision needs a file store or a key service")
        }
    }

    /// What `cpk-keyfetch distribute` is asked to do.
    public struct Distribution {
        public var reports: [String]
        public var fileStore: String?
        /// The keys every authenticated device gets (or `policy`).
        public var keyNames: [String] = []
        /// A release policy file: which devices get which keys (or `keyNames`).
        public var policy: String?
        public var padding: KeyWrapPadding = .oaepSHA256
        /// Who is a device: fleet CA files, an allow-list file, or (never by default) anyone.
        public var fleetCAs: [String] = []
        public var allowList: String?
        public var insecureAnyDevice = false
        public var signingKey: SigningKeyReference
        public var signingCertificate: String?
        public var scheme: SignatureScheme?
        public var validity: ReleaseValidity = .default
        public var generation: UInt64?
        public var outputDirectory: String?
        public var output: String?
        public var json = false
        public var messages = MessageOptions()
        /// TPM attestation: the enrollment registry, the manufacturer CAs, the quotes' nonce (hex).
        public var tpmRegistry: String?
        public var ekCAs: [String] = []
        public var nonce: String?

        public init(reports: [String], fileStore: String?, signingKey: SigningKeyReference) {
            (self.reports, self.fileStore, self.signingKey) = (reports, fileStore, signingKey)
        }
    }

    /// `cpk-keyfetch distribute`: FleetDistributor over the reports; each refusal one line;
    /// exit status 1 when any device was refused (the others are written). With `json`, the
    /// summary on standard output (`output`).
    public static func distribute(_ request: Distribution, output: DocumentOutput = Console.output) throws {
        try JSONErrors.reporting(json: request.json, tool: tool) { try distributeReporting(request, output) }
    }

    private static func distributeReporting(_ request: Distribution, _ output: DocumentOutput) throws {
        let target: FleetDistributor.Output
        switch (request.outputDirectory, request.output) {
        case (let dir?, nil): target = .directory(dir)
        case (nil, let file): target = .lines(file ?? "-")
        case (.some, .some): throw CPKError.usage("give --output-dir DIR or -o FILE, not both")
        }
        if request.json && target == .lines("-") {
            throw CPKError.usage("--json needs standard output free: give --output-dir or -o FILE")
        }
        try requireDistributionChoices(request)
        try SmallInput.requireOneStandardInput(
            request.reports.map { ($0, "report") } + [(request.fileStore ?? "", "--file-store")] + request.fleetCAs.map { ($0, "--device-ca") }
                + request.ekCAs.map { ($0, "--ek-ca") } + request.signingKey.inputs
                + [(request.signingCertificate ?? "", "--cert"), (request.allowList ?? "", "--allow-list"),
                   (request.policy ?? "", "--policy")])
        let location = try KeyStoreLocation.select(
            flags: request.fileStore.map { [.file($0)] } ?? [], environment: KeyStoreLocation.processEnvironment)
        guard case .file(let store) = location else { throw CPKError.usage("distribute reads a file key store: give --file-store") }
        let authenticator = try deviceAuthenticator(request)
        let selection: FleetDistributor.KeySelection
        if let policy = request.policy {
            let bytes = try SmallInput.read(policy, limit: ReleasePolicy.sizeLimit, what: "the release policy")
            selection = .policy(try SmallInput.locating(policy) { try ReleasePolicy(parsing: bytes) })
        } else {
            selection = .named(request.keyNames)
        }
        let attestation = try releaseAttestation(request, selection: selection)
        let signer = try releaseSigner(request)
        let inputs = try request.reports.map(FleetDistributor.Input.init(path:))
        let terms = try FleetDistributor.Terms(padding: request.padding, validity: request.validity.seconds, generation: request.generation)
        let distributor = try FleetDistributor(
            fileStore: store, selection: selection, authenticator: authenticator, signer: signer, terms: terms, at: Int(time(nil)),
            attestation: attestation)
        if authenticator.anyDevice {
            // A security warning: printed even with --quiet, on every run.
            Console.error(
                "\(tool): warning: --insecure-any-device: every report is served without authentication; "
                    + "whoever can write a report gets the keys")
        }
        let summary = try distributor.run(inputs: inputs, output: target) { refusal in
            // The source is a file name from a directory listing: shown escaped, like every
            // name a tool did not choose.
            Console.error("\(tool): refused \(TerminalText.escaped(refusal.name)): \(TerminalText.escaped(refusal.error.message))")
        }
        if request.json { try output(summary.json.compactText) }
        request.messages.confirm(tool, "served \(summary.served.count) device(s), refused \(summary.refused.count)")
        if !summary.refused.isEmpty { throw ExitCode(1) }
    }

    /// The choices distribute never makes for the operator: who is a device, and which keys
    /// go out. Checked before any file is read.
    private static func requireDistributionChoices(_ request: Distribution) throws {
        let authenticates = !request.fleetCAs.isEmpty || request.allowList != nil
        if request.insecureAnyDevice && authenticates {
            throw CPKError.usage("--insecure-any-device contradicts --device-ca and --allow-list: give one or the other")
        }
        if !request.insecureAnyDevice && !authenticates {
            throw CPKError.usage(
                "give --device-ca FILE or --allow-list FILE (which devices to serve), or --insecure-any-device to serve any report")
        }
        switch (request.keyNames.isEmpty, request.policy) {
        case (true, nil): throw CPKError.usage("give --key-name NAME or --policy FILE: which keys to release")
        case (false, .some): throw CPKError.usage("give --key-name or --policy, not both")
        default: break
        }
    }

    private static func deviceAuthenticator(_ request: Distribution) throws -> DeviceAuthenticator {
        if request.insecureAnyDevice { return .insecureAnyDevice }
        let anchors = try request.fleetCAs.flatMap { try TrustOptions.certificates($0, flag: "--device-ca") }
        let allowList = try request.allowList.map { path in
            let bytes = try SmallInput.read(path, limit: DeviceAllowList.sizeLimit, what: "the device allow list")
            return try SmallInput.locating(path) { try DeviceAllowList(parsing: bytes) }
        }
        return DeviceAuthenticator(fleetCAs: anchors, allowList: allowList)
    }

    /// The attestation flags, which make sense only together and with a policy requiring it.
    private static func releaseAttestation(_ request: Distribution, selection: FleetDistributor.KeySelection) throws -> ReleaseAttestation? {
        let requires: Bool
        let needsNonce: Bool
        if case .policy(let policy) = selection {
            (requires, needsNonce) = (policy.requiresAttestation, policy.requiresPCRs)
        } else {
            (requires, needsNonce) = (false, false)
        }
        guard requires else {
            if request.tpmRegistry != nil || !request.ekCAs.isEmpty || request.nonce != nil {
                throw CPKError.usage("--tpm-registry, --ek-ca and --nonce apply to a --policy whose rules require attestation")
            }
            return nil
        }
        guard let registry = request.tpmRegistry, !request.ekCAs.isEmpty else {
            throw CPKError.usage("the release policy requires TPM attestation: give --tpm-registry DIR and --ek-ca FILE")
        }
        let nonce = try request.nonce.map { text -> [UInt8] in
            guard let bytes = Hex.decode(Array(text.utf8), ignoringWhitespace: false), (1...64).contains(bytes.count) else {
                throw CPKError.usage("--nonce takes 1 to 64 bytes in hex")
            }
            return bytes
        }
        if needsNonce && nonce == nil { throw CPKError.usage("the release policy requires PCR values: give --nonce HEX, the quotes' nonce") }
        let anchors = try request.ekCAs.flatMap { try TrustOptions.certificates($0, flag: "--ek-ca") }
        return ReleaseAttestation(registry: TPMEnrollmentRegistry(path: registry), ekCAs: anchors, nonce: nonce)
    }

    private static func releaseSigner(_ request: Distribution) throws -> FleetDistributor.Signer {
        let key = try request.signingKey.load()
        let verifying = try key.verifyingKey
        let chain = try request.signingCertificate.map {
            try SigningKeyReference.chain($0, certifying: verifying, option: "--cert")
        }
        return FleetDistributor.Signer(
            key: key, scheme: try SignatureScheme.chosen(request.scheme, for: verifying), chain: chain ?? [])
    }

    /// What `cpk-keyfetch keyprovider` is asked to be.
    public struct KeyProviding: Sendable {
        /// The provider's name in the ocicrypt configuration; nil answers to CoCo's
        /// `attestation-agent` and to this provider's former name, `cpk`.
        public var name: String?
        public var fileStore: String?
        /// `HOST:PORT` to serve gRPC on; nil reads one request from standard input (cmd mode).
        public var listen: String?
        public var tlsCertificate: String?
        public var tlsKey: String?
        public var insecureListenAny = false
        public var allowSampleKey = false

        public init(name: String? = nil, fileStore: String? = nil) {
            (self.name, self.fileStore) = (name, fileStore)
        }
    }

    /// `cpk-keyfetch keyprovider`: one ocicrypt request from standard input and its answer on
    /// standard output, or (with `listen`) the gRPC service until SIGINT or SIGTERM; the
    /// key-encryption keys from the file store (`fileStore`, else CP_FILE_KEY_SOURCE).
    public static func keyProvider(_ request: KeyProviding) throws {
        let environment = KeyStoreLocation.processEnvironment
        var storePath: String? = request.fileStore
        if storePath == nil, environment[KeyStoreLocation.fileSourceVariable].map({ !$0.isEmpty }) == true {
            storePath = try KeyStoreLocation.select(flags: [], environment: environment).inputPath
        }
        let names = request.name.map { [$0] } ?? [KeyProvider.defaultName, KeyProvider.formerName]
        let provider = KeyProvider(names: names, storePath: storePath, allowsSample: request.allowSampleKey)
        if request.allowSampleKey {
            // A security warning: printed on every start, and on every use (the answer's warnings).
            Console.error("\(tool): warning: --allow-sample-key: sample=true wraps with the store's \(KeyProvider.sampleKeyID), a demonstration key")
        }
        guard let listen = request.listen else {
            if request.tlsCertificate != nil || request.tlsKey != nil || request.insecureListenAny {
                throw CPKError.usage("--tls-cert, --tls-key and --insecure-listen-any apply to --listen")
            }
            // Standard input carries the request, so the store cannot be read from it too.
            if storePath == "-" { throw CPKError.usage("--file-store cannot be standard input: the request is read from it") }
            let answer = try provider.answer(try KeyProvider.readRequest(from: .standardInput))
            for warning in answer.warnings { Console.error("\(tool): warning: \(TerminalText.escaped(warning))") }
            try FileDescriptor.standardOutput.write(answer.response)
            return
        }
        if storePath == "-" { throw CPKError.usage("--file-store cannot be standard input for a server: it is read at each request") }
        let security: KeyProviderListener.Security
        switch (request.tlsCertificate, request.tlsKey) {
        case (nil, nil): security = .plaintext
        case (let certificate?, let key?):
            if request.insecureListenAny { throw CPKError.usage("--insecure-listen-any contradicts --tls-cert: give one or the other") }
            // Opened (and closed) here for a message that names the file: the TLS library's own
            // is a bare "failedToLoadCertificate".
            for path in [certificate, key] { _ = try FileDescriptor.open(forReading: path) }
            security = .tls(certificate: certificate, key: key)
        default: throw CPKError.usage("give --tls-cert FILE and --tls-key FILE together")
        }
        let listener = try KeyProviderListener(parsing: listen, security: security, plaintextBeyondLoopback: request.insecureListenAny)
        if request.insecureListenAny && !listener.isLoopback {
            Console.error(
                "\(tool): warning: --insecure-listen-any: layer keys are served in plaintext on \(listener.text) to whoever reaches it")
        }
        try runServer(provider: provider, listener: listener)
    }

    /// Runs the async server from this synchronous command line: the main thread waits while the
    /// server's tasks run on Swift's cooperative pool.
    private static func runServer(provider: KeyProvider, listener: KeyProviderListener) throws {
        /// Written by the task before it signals, read after the wait: the semaphore orders the two.
        final class Outcome: @unchecked Sendable { var error: (any Error)? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        guard #available(macOS 15.0, *) else { throw CPKError.usage("--listen needs macOS 15 or later (gRPC Swift 2)") }
        Task {
            do {
                try await KeyProviderServer.serve(
                    provider: provider, listener: listener,
                    log: { Console.error("\(tool): \($0)") },
                    describe: { Hints.message(for: $0) },
                    expire: { exit(1) })
            } catch {
                outcome.error = error
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }
}

/// How long a key release is valid: whole seconds, or a number with `m`, `h` or `d` (`90m`,
/// `12h`, `7d`); at most 366 days.
public struct ReleaseValidity: ExpressibleByArgument, Sendable {
    public let seconds: Int

    public static let `default` = ReleaseValidity(seconds: 7 * 86400)

    private init(seconds: Int) { self.seconds = seconds }

    /// How help shows a value: whole days, hours or minutes when it is one, else seconds.
    public var defaultValueDescription: String {
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] where seconds % size == 0 { return "\(seconds / size)\(unit)" }
        return String(seconds)
    }

    public init?(argument: String) {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var digits = Substring(argument)
        var unit = 1
        if let last = argument.last, let scale = units[last] {
            digits = digits.dropLast()
            unit = scale
        }
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(digits) else {
            return nil
        }
        let seconds = count * unit
        guard (1...FleetDistributor.Terms.maximumValidity).contains(seconds) else { return nil }
        self.seconds = seconds
    }
}
