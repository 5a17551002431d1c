import ArgumentParser
import CPKCore
import CPKPackage

#if canImport(Glibc)
import Glibc
#endif

/// How much a tool says on standard error, the same three flags on every command: -q (no
/// warnings, notes, confirmations or progress: errors only), -v (a line per step), and
/// --progress (progress even when standard error is not a terminal).
public struct MessageOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Say nothing on standard error but errors: no warnings, notes, confirmations or progress.")
    public var quiet = false

    @Flag(name: .shortAndLong, help: "Say what each step does, on standard error.")
    public var verbose = false

    @Flag(help: "Show progress on standard error even when it is not a terminal (shown on a terminal unless -q, by the last tool of a pipeline).")
    public var progress = false

    public init() {}

    public func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose contradict each other; give one") }
    }

    /// A warning or a note (`tool: warning: …`), unless -q.
    public func warning(_ tool: String, _ text: String) {
        if !quiet { Console.error("\(tool): warning: \(text)") }
    }

    public func note(_ tool: String, _ text: String) {
        if !quiet { Console.error("\(tool): note: \(text)") }
    }

    /// A one-line confirmation of work done (`cpk-install: removed …`), unless -q.
    public func confirm(_ tool: String, _ text: String) {
        if !quiet { Console.error("\(tool): \(text)") }
    }

    /// A step, with -v only.
    public func step(_ tool: String, _ text: String) {
        if verbose { Console.error("\(tool): \(text)") }
    }

    /// Whether progress is shown: forced by --progress, else on a terminal unless -q, and then
    /// only by the last tool of a pipeline (the one whose standard output is not a pipe): in
    /// `cpk-pack | cpk-seal | cpk-sign -o app.cpk` one line is drawn, not three redrawing one
    /// another.
    public var showsProgress: Bool {
        progress || (!quiet && isatty(2) == 1 && !Self.standardOutputIsAPipe)
    }

    /// True when standard output is a pipe (or a socket): another tool reads it.
    static var standardOutputIsAPipe: Bool {
        var info = stat()
        guard fstat(1, &info) == 0 else { return false }
        let type = info.st_mode & S_IFMT
        return type == S_IFIFO || type == S_IFSOCK
    }

    /// A progress line for `bytes` of work (nil: unknown), or nil when progress is not shown.
    public func progressLine(_ tool: String, _ verb: String, _ subject: String, total: UInt64?) -> ProgressLine? {
        showsProgress ? ProgressLine(tool: tool, verb: verb, subject: subject, total: total) : nil
    }

    /// Reports the payload reads of `package` on a progress line; call `finish` on the result
    /// when the work is done.
    public func watch(_ package: PackageInput, tool: String, verb: String) -> ProgressLine? {
        guard let line = progressLine(tool, verb, package.name, total: package.head.payloadSize) else { return nil }
        package.onPayloadChunk = { line.add($0) }
        return line
    }
}

