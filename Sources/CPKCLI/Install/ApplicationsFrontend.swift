import CPKCore
import CPKCrypto
import CPKManager
import CPKPackage

/// `cpk-install list`, `remove` and `dev-export-plaintext`: the installed applications, as a
/// table or JSON; the rule that a damaged record fails the listing; removal and the
/// simulator-only plaintext export.
public enum ApplicationsFrontend {
    static let tool = "cpk-install"

    /// `cpk-install list`: every readable record is printed; a damaged one still fails the command.
    public static func list(json: Bool, state: StateOptions, output: DocumentOutput = Console.output) throws {
        let listing = try state.openExistingManager().applicationListing()
        try output(json ? document(listing).compactText : table(listing))
        // The JSON listing names the damaged records itself: no second document.
        if let failure = failure(of: listing) { throw json ? JSONErrors.AlreadyReported(failure) : failure }
    }

    /// The JSON listing: one object per application (`json(_:)`), then `{"id", "damaged"}`
    /// per record that cannot be read.
    public static func document(_ listing: ApplicationListing) -> JSONValue {
        let damaged = listing.damaged.map { JSONValue.object([("id", .string($0.id)), ("damaged", .string($0.problem.message))]) }
        return .array(listing.applications.map(json) + damaged)
    }

    /// The table: a header, a row per application and per damaged record, columns aligned
    /// (the last one not padded), every cell escaped.
    public static func table(_ listing: ApplicationListing) -> String {
        let listed = [["ID", "NAME", "VERSION", "SIZE", "INSTALLED AT"]]
            + listing.applications.map { [$0.id, $0.description.name, $0.description.version.dotted, String($0.size), $0.installedAt] }
            + listing.damaged.map { [$0.id, "DAMAGED (see below)", "-", "-", "-"] }
        // names and ids come from packages: escaped, so a row stays a row on the terminal
        let rows = listed.map { $0.map(TerminalText.escaped) }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, text in
                column == 4 ? text : text + String(repeating: " ", count: widths[column] - text.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// The others are listed; a damaged record still fails the command, with its own error
    /// (and how many more there are).
    public static func failure(of listing: ApplicationListing) -> CPKError? {
        guard let first = listing.damaged.first else { return nil }
        let more = listing.damaged.count > 1 ? " (and \(listing.damaged.count - 1) more: cpk-install check-state)" : ""
        return CPKError(first.problem.kind, first.problem.message + more)
    }

    /// One installed application in `list --json`: member names and order are stable.
    public static func json(_ application: InstalledApplication) -> JSONValue {
        let description = application.description
        return .object([
            ("id", .string(application.id)), ("name", .string(description.name)), ("vendor", .string(description.vendor)),
            ("target", .object([("arch", .string(description.target.arch)), ("os", .string(description.target.os))])),
            ("version", .string(description.version.dotted)), ("date", .string(description.version.date)),
            ("size", .integer(application.size)), ("installed-at", .string(application.installedAt)),
            ("sha256", .string(Hex.encode(application.sha256))),
            ("signer", description.provenance.signer.map { .string($0) } ?? .null),
            ("manifest-authenticated", .bool(description.provenance.manifestAuthenticated)),
            ("rollback-floor", .string(application.rollbackFloor.dotted)),
            ("authenticated-floor", application.authenticatedFloor.map { .string($0.dotted) } ?? .null),
        ])
    }

    /// `cpk-install remove`: the application goes, its class key stays, and so do its
    /// authenticated floor and signer unless `forgetHistory`; the confirmation says which.
    public static func remove(id: String, forgetHistory: Bool, state: StateOptions, messages: MessageOptions) throws {
        let removal = try state.openExistingManager().removeApplication(applicationID: id, forgetHistory: forgetHistory)
        var note = "its class key stays installed"
        if let kept = removal.kept {
            let floor = kept.authenticatedFloor.map { "its rollback floor \($0.dotted)" } ?? "no rollback floor"
            let signer = kept.description.provenance.signer.map { "its signer \(SignerIdentity.shown($0))" } ?? "no signer"
            note += "; \(floor) and \(signer) are kept: installing it again is held to them (--forget-history forgets them)"
        }
        if removal.forgotHistory { note += "; its rollback floor and signer are forgotten" }
        messages.confirm(tool, "removed \(TerminalText.escaped(id)) (\(TerminalText.escaped(note)))")
    }

    /// `cpk-install dev-export-plaintext` (simulator only): the stored plaintext, after its
    /// checks, to `output` (a secret file).
    public static func exportPlaintext(id: String, output: String, state: StateOptions) throws {
        let manager = try state.openExistingManager()
        _ = try manager.exportPlaintextForDevelopment(applicationID: id, to: try OutputFile(path: output, binary: true, secret: true))
    }
}
