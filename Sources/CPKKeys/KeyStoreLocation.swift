import CPKCore

/// Where a key comes from: the store a user named on the command line or in the environment.
public enum KeyStoreLocation: Equatable, Sendable {
    /// A JSON file mapping key names to base64 raw keys (development).
    case file(String)
    /// An HTTP key service implementing the WrapKey / ProvisionKey contracts (production).
    case http(String)
    /// A wrapped key the caller already holds: base64 in a file or on standard input.
    case inline(String)
    /// A device-twin document carrying `confidential_package_keys`.
    case twin(String)

    public static let fileSourceVariable = "CP_FILE_KEY_SOURCE"
    public static let cloudSourceVariable = "CP_CLOUD_KEY_SOURCE"
    /// A PEM file of the CAs to trust for an https key service, instead of the system's.
    public static let caFileVariable = "CPK_KEY_SERVICE_CA"

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
    /// that says how to choose.
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
                "no key store: give --file-store FILE or --url URL, "
                    + "or set \(fileSourceVariable) or \(cloudSourceVariable)")
        }
    }
}

extension KeyStoreLocation {
    /// The file this location reads when asked for a key (`-` for standard input), if any.
    public var inputPath: String? {
        switch self {
        case .file(let path), .inline(let path), .twin(let path): return path
        case .http: return nil
        }
    }

    /// The key source at this location. Inline keys and twin documents are read now.
    /// - Parameter keyService: makes the source for an HTTP key service from its endpoint
    ///   (in-process in cpk-keyfetch, a cpk-keyfetch process elsewhere).
    public func source(keyService: (String) throws -> KeySource) throws -> KeySource {
        switch self {
        case .file(let path):
            return FileKeySource(path: path)
        case .http(let endpoint):
            return try keyService(endpoint)
        case .inline(let path):
            let bytes = try SmallInput.read(path, limit: SmallInput.keyLimit, what: "the inline wrapped key")
            return InlineKeySource(base64: bytes, from: Self.displayName(path))
        case .twin(let path):
            let bytes = try SmallInput.read(path, limit: SmallInput.documentLimit, what: "the device twin")
            return DeviceTwinKeySource(document: bytes, from: Self.displayName(path))
        }
    }

    private static func displayName(_ path: String) -> String { path == "-" ? "standard input" : path }
}
