import CPKCore

/// The Package Manager's failures a command line adds a hint to (the option or step that helps).
extension CPKError.Reason {
    /// No class key is installed for the application id (the subject).
    public static let classKeyMissing = CPKError.Reason(rawValue: "class-key-missing")
    /// The package is older than the installed version (anti-rollback).
    public static let downgrade = CPKError.Reason(rawValue: "downgrade")
    /// An upgrade's signer is not the installed (or removed) version's (signer continuity).
    public static let signerChange = CPKError.Reason(rawValue: "signer-change")
    /// A wrapped class key uses a padding the Package Manager does not take.
    public static let devicePaddingNeeded = CPKError.Reason(rawValue: "device-padding-needed")
    /// A bare wrapped key names no application.
    public static let applicationIDNeeded = CPKError.Reason(rawValue: "application-id-needed")
    /// No state directory is named and none can be derived.
    public static let noStateDirectory = CPKError.Reason(rawValue: "no-state-directory")
    /// The AES-GCM tag does not authenticate the payload (altered, or another class key).
    public static let tagMismatch = CPKError.Reason(rawValue: "tag-mismatch")
    /// A command that only reads the state was pointed at a state that does not exist.
    public static let stateMissing = CPKError.Reason(rawValue: "state-missing")
}
