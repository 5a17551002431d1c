import CPKCore

/// The package failures a command line adds a hint to (the option that would help).
extension CPKError.Reason {
    /// The payload is encrypted and no key source was given.
    public static let keySourceNeeded = CPKError.Reason(rawValue: "key-source-needed")
    /// A detached signature cannot be checked: the package embeds no signer key, none was given.
    public static let signerKeyNeeded = CPKError.Reason(rawValue: "signer-key-needed")
}
