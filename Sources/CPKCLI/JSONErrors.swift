import CPKCore

/// With `--json`, a script piping to `jq` gets a JSON document even when the tool fails
/// before it has a report (exit 2: an unreadable file, a bad option value): the error, as an
/// object on standard output, as well as the one line on standard error.
public enum JSONErrors {
    /// Runs `body`; when it throws a `CPKError` and `json` is set, prints
    /// `{"<tool>": 1, "error": {"kind": …, "exit": …, "message": …}}` first, then throws it as
    /// rethrows it. (`runTool` prints the same document for a CPKError of a command line with
    /// --json when none was printed, so no subcommand can forget it.)
    public static func reporting(json: Bool, tool: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CPKError where json {
            printDocument(tool: tool, error)
            throw error
        }
    }

    /// Prints the error document on standard output, once per process.
    public static func printDocument(tool: String, _ error: CPKError) {
        guard !documentPrinted else { return }
        documentPrinted = true
        try? Console.output(document(tool: tool, error).compactText)
    }

    /// Whether this process printed its error document: a tool runs one command, on one thread.
    nonisolated(unsafe) private static var documentPrinted = false

    /// `{"<tool>": 1, "error": {"kind": …, "exit": …, "message": …}}`, and `"reason"` (the
    /// library's reason code) when the failure has one: member names and order are stable.
    public static func document(tool: String, _ error: CPKError) -> JSONValue {
        .object([
            (tool, .integer(1)),
            ("error", .object([
                ("kind", .string(kind(error.kind))), ("exit", .integer(Int(error.exitCode))),
                ("message", .string(Hints.message(for: error))),
            ] + (error.reason.map { [("reason", JSONValue.string($0.rawValue))] } ?? []))),
        ])
    }

    /// A failure whose report (with its "error" member) is already printed: no second
    /// document; `runTool` prints its line and exits with its status.
    public struct AlreadyReported: Error {
        public let error: CPKError
        public init(_ error: CPKError) { self.error = error }
    }

    private static func kind(_ kind: CPKError.Kind) -> String {
        switch kind {
        case .invalidInput: return "invalid-input"
        case .checkFailed: return "check-failed"
        case .usage: return "usage"
        case .io: return "io"
        }
    }
}
