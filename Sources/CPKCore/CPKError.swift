/// The one error type of the project.
///
/// Every failure a user can meet is a `CPKError`: a one-line message that says what is wrong
/// (and, where it helps, what to do), and a kind that decides the exit status a script sees.
public struct CPKError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The input is not a valid package, envelope, key or document. Exit status 1.
        case invalidInput
        /// A check ran and failed: digest, tag, signature, certificate. Exit status 1.
        case checkFailed
        /// The command line asks for something impossible or unsupported. Exit status 2.
        case usage
        /// Reading or writing a file failed, or the environment is unusable. Exit status 2.
        case io
    }

    /// A reason code for the callers that must tell one failure from another: decisions never
    /// depend on the message text. Modules declare their own codes as static members.
    public struct Reason: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
    }

    public let kind: Kind
    public let message: String
    public let reason: Reason?
    /// What the reason is about (an application id, a provider's name), for a command line's
    /// hint that must name it: the message already says it in words.
    public let subject: String?

    public init(_ kind: Kind, _ message: String, reason: Reason? = nil, subject: String? = nil) {
        self.kind = kind
        self.message = Self.printable(message)
        self.reason = reason
        self.subject = subject
    }

    /// Messages quote their input (scheme names, map keys, key names, a server's answer), which
    /// may hold control or bidi characters: they are shown escaped (`TerminalText`), so that a
    /// message stays one line and a hostile file cannot send escape sequences to the terminal.
    static func printable(_ text: String) -> String { TerminalText.escaped(text) }

    public static func invalid(_ message: String) -> CPKError { CPKError(.invalidInput, message) }
    public static func check(_ message: String) -> CPKError { CPKError(.checkFailed, message) }
    public static func usage(_ message: String) -> CPKError { CPKError(.usage, message) }
    public static func io(_ message: String) -> CPKError { CPKError(.io, message) }

    /// Prefixes the message with where the problem is, e.g. the file name, unless it already
    /// starts with that place: layers that each name the input (the reader, the installer) must
    /// not make "app.cpk: app.cpk: …".
    public func located(in place: String) -> CPKError {
        if message.hasPrefix(place + ": ") || message.hasPrefix(TerminalText.escaped(place) + ": ") { return self }
        return CPKError(kind, "\(place): \(message)", reason: reason, subject: subject)
    }

    /// The same error, its message continued (`; nothing was written`): reason and subject kept.
    public func appending(_ text: String) -> CPKError {
        CPKError(kind, message + text, reason: reason, subject: subject)
    }

    /// The documented exit status: 1 for bad input or a failed check, 2 for usage or I/O errors.
    public var exitCode: Int32 {
        switch kind {
        case .invalidInput, .checkFailed: return 1
        case .usage, .io: return 2
        }
    }

    public var description: String { message }
}

extension Error {
    /// Prefixes a `CPKError`'s message with where it happened; other errors pass unchanged.
    public func located(in place: String) -> Error {
        (self as? CPKError).map { $0.located(in: place) } ?? self
    }
}

extension CPKError.Reason {
    /// Binary or secret output would go to a terminal (a command line names its output option).
    public static let terminalOutput = CPKError.Reason(rawValue: "terminal-output")
}
