import ArgumentParser
import CPKCLI
import CPKCore
import CPKCrypto
import CPKKeys
import CPKManager
import CPKPackage

#if canImport(Glibc)
import Glibc
#endif

struct ListApplications: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the installed applications: id, name, version, size, installed at.")

    @Flag(help: "Print JSON instead of text.") var json = false
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        let listing = try stateOptions.openManager().applicationListing()
        let applications = listing.applications
        if json {
            let damaged = listing.damaged.map { JSONValue.object([("id", .string($0.id)), ("damaged", .string($0.problem.message))]) }
            try Console.output(JSONValue.array(applications.map(Self.json) + damaged).compactText)
            try Self.requireUndamaged(listing)
            return
        }
        let listed = [["ID", "NAME", "VERSION", "SIZE", "INSTALLED AT"]]
            + applications.map { [$0.id, $0.description.name, $0.description.version.dotted, String($0.size), $0.installedAt] }
            + listing.damaged.map { [$0.id, "DAMAGED (see below)", "-", "-", "-"] }
        // names and ids come from packages: escaped, so a row stays a row on the terminal
        let rows = listed.map { $0.map(TerminalText.escaped) }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        try Console.output(rows.map { row in
            row.enumerated().map { column, text in
                column == 4 ? text : text + String(repeating: " ", count: widths[column] - text.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n"))
        try Self.requireUndamaged(listing)
    }

    /// The others are listed; a damaged record still fails the command, with its own error.
    private static func requireUndamaged(_ listing: ApplicationListing) throws {
        guard let first = listing.damaged.first else { return }
        let more = listing.damaged.count > 1 ? " (and \(listing.damaged.count - 1) more: cpk-install check-state)" : ""
        throw CPKError(first.problem.kind, first.problem.message + more)
    }

    static func json(_ application: InstalledApplication) -> JSONValue {
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
        ])
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove an installed application (its class key stays installed).")

    @Argument(help: "The application id.", completion: .custom(StateOptions.installedIDs)) var id: String
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try stateOptions.openManager().removeApplication(applicationID: id)
        messages.confirm("cpk-install", "removed \(TerminalText.escaped(id)) (its class key stays installed)")
    }
}

struct DevExportPlaintext: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-export-plaintext",
        abstract: "SIMULATOR ONLY, a development aid: write an installed application's plaintext.",
        discussion: """
            A real Package Manager never lets plaintext out; the simulator does, for tests and \
            debugging, after checking the stored bytes against their tag and digest. A file \
            appears only once checked.
            """)

    @Argument(help: "The application id.", completion: .custom(StateOptions.installedIDs)) var id: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        let manager = try stateOptions.openManager()
        _ = try manager.exportPlaintextForDevelopment(applicationID: id, to: try OutputFile(path: output, binary: true, secret: true))
    }
}
