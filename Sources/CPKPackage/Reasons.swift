import CPKCore

/// The package failures a command line adds a hint to (the option that would help).
extension CPKError.Reason {
    /// The payload is encrypted and no key source was given.
    public static let keySourceNeeded = CPKError.Reason(rawValue: "key-source-needed")
    /// The tag check failed and the package's key check value is not the given or installed
    /// class key's: it was sealed with another key (rotated, not yet synced) (docs/format.md §4.1).
    public static let classKeyMismatch = CPKError.Reason(rawValue: "class-key-mismatch")
    /// The package already has the signature asked for (re-signing replaces it).
    public static let alreadySigned = CPKError.Reason(rawValue: "already-signed")
    /// Replacing or stripping would leave a signature that covers the changed one broken.
    public static let coverageWouldDrop = CPKError.Reason(rawValue: "coverage-would-drop")
    /// A detached signature cannot be checked: the package embeds no signer key, none was given.
    public static let signerKeyNeeded = CPKError.Reason(rawValue: "signer-key-needed")
}
