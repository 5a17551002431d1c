import CPKCore

/// The key failures a command line adds a hint to (the option that would help).
extension CPKError.Reason {
    /// A file store already has a key of that name.
    public static let keyExists = CPKError.Reason(rawValue: "key-exists")
    /// The key name given is empty.
    public static let keyNameEmpty = CPKError.Reason(rawValue: "key-name-empty")
    /// No key store is named, by option or environment.
    public static let noKeyStore = CPKError.Reason(rawValue: "no-key-store")
    /// An ocicrypt request has no parameters for this provider's name.
    public static let unknownKeyProvider = CPKError.Reason(rawValue: "unknown-key-provider")
    /// A key-provider request asks for CoCo's publicly known sample key (`sample=true`).
    public static let sampleKeyRefused = CPKError.Reason(rawValue: "sample-key-refused")
    /// A key-provider server was asked to listen beyond loopback without TLS.
    public static let plaintextBeyondLoopback = CPKError.Reason(rawValue: "plaintext-beyond-loopback")
    /// A desired-state document declares another wrapping padding than the one asked for
    /// (the subject names the document's).
    public static let documentPaddingDiffers = CPKError.Reason(rawValue: "document-padding-differs")
}

/// The key-service failures (CPKKeyService throws them): declared here, below it, so that the
/// command line's hint table reaches them without linking the network code into every tool.
extension CPKError.Reason {
    /// The service did not answer within the timeout.
    public static let keyServiceTimeout = CPKError.Reason(rawValue: "key-service-timeout")
    /// The TLS handshake failed against the system's trusted CAs (no CA file was given).
    public static let systemCAsRefused = CPKError.Reason(rawValue: "system-cas-refused")
    /// The service wrapped with another padding than the one asked for.
    public static let wrappingAlgorithmMismatch = CPKError.Reason(rawValue: "wrapping-algorithm-mismatch")
}
