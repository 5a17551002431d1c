import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKKeys
import CPKManager

/// `cpk-install public-key`, `add-key` and `sync`: the device public key out, class keys wrapped to it in.
public enum KeysFrontend {
    static let tool = "cpk-install"

    /// `cpk-install public-key`: the device public key in `format`, to `output` (- is standard output).
    public static func publicKey(format: PublicKeyFormat, output: String, state: StateOptions) throws {
        let manager = try state.openManager()
        let exported = try manager.exportDevicePublicKey()
        guard exported.count == (try manager.devicePublicKeyDataSize()) else {
            throw CPKError.io("the Package Manager's public key size and export disagree")
        }
        let (bytes, binary) = try format.render(try PublicKey(loading: exported))
        try writeResult(bytes, to: output, binary: binary)
    }

    /// `cpk-install add-key`: a wrapped-key document or a bare wrapped key (which needs `id`), installed.
    public static func addKey(
        input: String, id: String?, json: Bool, state: StateOptions, messages: MessageOptions,
        output: DocumentOutput = Console.output
    ) throws {
        try JSONErrors.reporting(json: json, tool: tool) {
            let bytes = try SmallInput.read(input, limit: SmallInput.keyLimit, what: "the wrapped key")
            let installed = try ClassKeyInstallation.install(bytes, id: id, into: try state.openManager())
            if json { try output(installed.json.compactText) }
            messages.confirm(tool, "installed the class key of \(TerminalText.escaped(installed.applicationID))")
        }
    }

    /// What `cpk-install sync --id ID` asks for: one class key from a key store.
    public struct Sync {
        public var id: String
        public var store: KeyStoreOptions
        /// A device-twin document (`--twin`), one more key store.
        public var twin: String?
        public var state: StateOptions
        public var messages: MessageOptions

        public init(id: String, store: KeyStoreOptions, twin: String?, state: StateOptions, messages: MessageOptions) {
            (self.id, self.store, self.twin, self.state, self.messages) = (id, store, twin, state, messages)
        }
    }

    /// The key store (a flag, else the environment) wraps the class key to the device public
    /// key (RSA PKCS#1 v1.5, what the Package Manager takes); the device installs it.
    public static func sync(_ request: Sync) throws {
        try KeyName.validate(request.id)
        let flags = request.store.flags + [request.twin.map(KeyStoreLocation.twin)].compactMap { $0 }
        let location = try KeyStoreLocation.select(flags: flags, environment: KeyStoreLocation.processEnvironment)
        let source = try location.source { request.store.keyfetchBridge(endpoint: $0) }
        let manager = try request.state.openManager()
        let device = try PublicKey(loading: try manager.exportDevicePublicKey())
        let wrapped = try source.wrappedKey(named: request.id, to: device, padding: .pkcs1v15)
        try manager.installApplicationKey(applicationID: request.id, wrappedKey: wrapped.wrapped)
        request.messages.confirm(tool, "fetched and installed the class key of \(TerminalText.escaped(request.id))")
    }

    /// `cpk-install sync --twin DOC` without an id: every key of a desired-state document.
    /// One line (or, with `json`, an object) says what was applied and refused; exit status 1
    /// if any was refused.
    /// Only a release signed by the fleet operator is applied, unless `allowUnsigned` (for
    /// development: warned on every use).
    public static func apply(
        document twin: String, allowUnsigned: Bool, json: Bool, state: StateOptions, messages: MessageOptions,
        output: DocumentOutput = Console.output
    ) throws {
        var result = DesiredStateApplication()
        if allowUnsigned {
            Console.error("\(tool): warning: --insecure-unsigned-twin: an unsigned document's keys are installed from whoever wrote it")
        }
        try JSONErrors.reporting(json: json, tool: tool) {
            let document = try SmallInput.read(twin, limit: KeyRelease.sizeLimit, what: "the device twin")
            result = try DesiredStateApplication.apply(
                document, from: SmallInput.displayName(twin), to: try state.openManager(),
                acceptance: allowUnsigned ? .unsignedAllowed : .signedOnly, at: Int(time(nil)))
        }
        guard json else {
            if result.refused.isEmpty { return messages.confirm(tool, result.line) }
            Console.error("\(tool): " + result.line)
            throw ExitCode(1)
        }
        try output(result.json.compactText)
        if !result.refused.isEmpty {
            throw JSONErrors.AlreadyReported(CPKError(.checkFailed, result.line))
        }
    }
}
