import CPKCore
import CPKKeys
import CPKManager
import CPKPackage

/// The command line's half of an error message: libraries say what is wrong (a typed
/// `CPKError.Reason`), and this table adds the option that would help, so that no library
/// knows a flag's name (scripts/check-flag-names.py checks it). One place to change when a
/// flag is renamed.
public enum Hints {
    /// The hint for a reason, appended to the library's message.
    static let table: [CPKError.Reason: @Sendable (CPKError) -> String] = [
        .terminalOutput: { _ in " or use --output FILE" },
        .keyServiceTimeout: { _ in " (--timeout)" },
        .systemCAsRefused: { _ in " (or give --ca-file)" },
        .wrappingAlgorithmMismatch: { _ in "; use --padding pkcs1v15 with a service that only follows the reference contract" },
        .keyExists: { _ in "; use --force to replace it (the old key is lost)" },
        .keyNameEmpty: { _ in ", e.g. --name test" },
        .documentPaddingDiffers: { error in " (--padding \(error.subject ?? ""))" },
        .noKeyStore: { _ in ", or give --file-store FILE" },
        .unknownKeyProvider: { _ in " (give --provider with the name used in the ocicrypt configuration)" },
        .plaintextBeyondLoopback: { _ in " (--tls-cert FILE --tls-key FILE, or --insecure-listen-any)" },
        .classKeyMissing: { error in " (cpk-install sync --id \(error.subject ?? "ID") ...)" },
        // The installer names the application (a device syncs); cpk-unpack names none (the
        // key store given holds another key, which its message says).
        .classKeyMismatch: { error in error.subject.map { " (cpk-install sync --id \($0) ..., or sync --twin)" } ?? "" },
        .downgrade: { _ in "; give --allow-downgrade to install it anyway" },
        .signerChange: { _ in "; give --allow-signer-change to accept the new signer" },
        .noStateDirectory: { _ in " or give --state DIR" },
        .stateMissing: { _ in " (check --state or CPK_CPM_STATE; a state is made by cpk-install public-key, sync or an install)" },
        .devicePaddingNeeded: { _ in " (cpk-keyfetch --padding pkcs1v15)" },
        .applicationIDNeeded: { _ in ": give --id" },
        .keySourceNeeded: { _ in " (see --help)" },
        .signerKeyNeeded: { _ in " (--cert or --public-key)" },
        .alreadySigned: { _ in "; cpk-sign --replace replaces it" },
        .noFleetAnchor: { _ in ": provision it with cpk-install trust add --fleet FILE --device-id ID" },
        .unsignedRelease: { _ in " (--insecure-unsigned-twin applies it, for development only)" },
        .coverageWouldDrop: { _ in " (cpk-sign --replace, or cpk-sign strip --package)" },
    ]

    /// The message a user sees for `error`: the library's, and the hint for its reason.
    public static func message(for error: CPKError) -> String {
        guard let reason = error.reason, let hint = table[reason] else { return error.message }
        return error.message + TerminalText.escaped(hint(error))
    }
}
