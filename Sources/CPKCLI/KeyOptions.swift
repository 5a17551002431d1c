import ArgumentParser
import CPKCore
import CPKCrypto
import CPKKeys

#if canImport(Glibc)
import Glibc
#endif

// Shared command-line pieces of the key tools (cpk-wrap, cpk-keyfetch, and later cpk-seal and
// cpk-install): padding and format choices, key-store selection, and outputs for secrets.

extension KeyWrapPadding: ExpressibleByArgument {}
extension WrappedKeyFormat: ExpressibleByArgument {}
extension SignatureScheme: ExpressibleByArgument {}

/// Which key store to ask, from the command line or else the environment, like the reference
/// tool: `CP_FILE_KEY_SOURCE` names a file store, `CP_CLOUD_KEY_SOURCE` a WrapKey endpoint.
public struct KeyStoreOptions: ParsableArguments {
    @Option(
        name: .customLong("file-store"),
        help: ArgumentHelp("A JSON key store file: key name to base64 key.", valueName: "file"), completion: .file())
    public var fileStore: String?

    @Option(
        help: ArgumentHelp(
            "An HTTP key service: the WrapKey endpoint for fetch, the base URL for provision.",
            valueName: "url"))
    public var url: String?

    @Option(help: ArgumentHelp("Seconds to wait for the key service.", valueName: "seconds"))
    public var timeout: Double = 30

    @Option(
        name: .customLong("ca-file"),
        help: ArgumentHelp(
            "PEM CA certificates to trust for an https key service instead of the system's (default: $CPK_KEY_SERVICE_CA).",
            valueName: "file"), completion: .file())
    public var caFile: String?

    public init() {}

    public func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
    }

    /// The CA file for an https key service: --ca-file, else CPK_KEY_SERVICE_CA, else none
    /// (the system's trusted CAs).
    public var trustedCAFile: String? {
        if let caFile { return caFile }
        guard let value = getenv(KeyStoreLocation.caFileVariable), value.pointee != 0 else { return nil }
        return String(cString: value)
    }

    /// The key service reached through a cpk-keyfetch process, with these options.
    public func keyfetchBridge(endpoint: String) -> KeyfetchBridge {
        KeyfetchBridge(endpoint: endpoint, timeout: timeout, caFile: trustedCAFile)
    }

    /// The flags given on the command line, for `KeyStoreLocation.select`.
    public var flags: [KeyStoreLocation] {
        [fileStore.map(KeyStoreLocation.file), url.map(KeyStoreLocation.http)].compactMap { $0 }
    }
}

extension KeyStoreLocation {
    /// The option that names this kind of store, for messages.
    public var option: String {
        switch self {
        case .file: return "--file-store"
        case .http: return "--url"
        case .inline: return "--inline"
        case .twin: return "--twin"
        }
    }

    /// Picks the store: exactly one flag, else one of the environment variables, else an error
    /// that says how to choose. (Here, not in CPKKeys: choosing among flags is the command line's.)
    public static func select(flags: [KeyStoreLocation], environment: [String: String]) throws -> KeyStoreLocation {
        guard flags.count <= 1 else {
            throw CPKError.usage("give one key store, not \(flags.map(\.option).joined(separator: " and "))")
        }
        if let flag = flags.first { return flag }
        let file = environment[fileSourceVariable].flatMap { $0.isEmpty ? nil : $0 }
        let cloud = environment[cloudSourceVariable].flatMap { $0.isEmpty ? nil : $0 }
        switch (file, cloud) {
        case (let file?, nil): return .file(file)
        case (nil, let cloud?): return .http(cloud)
        case (.some, .some):
            throw CPKError.usage(
                "both \(fileSourceVariable) and \(cloudSourceVariable) are set; choose with --file-store or --url")
        case (nil, nil):
            throw CPKError.usage(
                "no key store: give --file-store FILE or --url URL (or --inline/--twin), "
                    + "or set \(fileSourceVariable) or \(cloudSourceVariable)")
        }
    }

    /// The process environment's key-store variables.
    public static var processEnvironment: [String: String] {
        var values: [String: String] = [:]
        for name in [fileSourceVariable, cloudSourceVariable] {
            if let value = getenv(name) { values[name] = String(cString: value) }
        }
        return values
    }
}

/// Writes secret bytes (an unwrapped key, a private key) only where the user explicitly asked:
/// a file created 0600, or standard output when it is not a terminal.
public func writeSecret(_ bytes: [UInt8], to path: String, what: String) throws {
    let output = try openSecretOutput(path, what: what)
    try output.descriptor.write(bytes)
    try output.commit()
}

/// The output for a secret, opened (or refused: a planted FIFO or symlink, a terminal) before
/// anything else is written, so a refusal leaves nothing behind.
public func openSecretOutput(_ path: String, what: String) throws -> OutputFile {
    if OutputFile.inheritedDescriptorNumber(path) == 1 && FileDescriptor.standardOutput.isTerminal {
        throw CPKError.usage("refusing to write \(what) to a terminal; redirect standard output or use --output FILE")
    }
    return try OutputFile(path: path, binary: true, secret: true)
}

/// Writes a tool's (non-secret) result; binary results never go to a terminal.
public func writeResult(_ bytes: [UInt8], to path: String, binary: Bool) throws {
    let output = try OutputFile(path: path, binary: binary)
    try output.descriptor.write(bytes)
    try output.commit()
}
