import CPKCore

extension CPKError.Reason {
    /// The TPM cannot be reached: the TCTI does not load or connect, or ESAPI does not start.
    public static let tpmUnavailable = CPKError.Reason(rawValue: "tpm-unavailable")
    /// The TPM answered a command with an error (the message has the decoded return code).
    public static let tpmCommandFailed = CPKError.Reason(rawValue: "tpm-command-failed")
    /// A persistent handle holds an object that is not the key this code made there.
    public static let tpmHandleMismatch = CPKError.Reason(rawValue: "tpm-handle-mismatch")
    /// A `tpm:` key reference or a PCR selection that cannot be read.
    public static let tpmReference = CPKError.Reason(rawValue: "tpm-reference")
    /// The TPM has no endorsement key certificate in its NV index.
    public static let tpmNoEKCertificate = CPKError.Reason(rawValue: "tpm-no-ek-certificate")
}
