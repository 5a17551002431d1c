import ArgumentParser
import CPKCore

#if canImport(Glibc)
import Glibc
#endif

extension ParsableCommand {
    /// Parses the command line, runs the command and exits with the documented status:
    /// 0 success, 1 invalid input or failed check, 2 usage or I/O error. Every error is one
    /// line on standard error, prefixed with the tool's name.
    ///
    /// - Parameter globalOptions: options (taking one value) that every subcommand declares, so
    ///   they may also be written before the subcommand's name (`cpk-install --state DIR list`):
    ///   without this, a default subcommand would take them, and the name as its input.
    public static func runTool(globalOptions: [String] = []) -> Never {
        let tool = configuration.commandName ?? "cpk"
        let arguments = Self.hoisting(globalOptions, in: Array(CommandLine.arguments.dropFirst()))
        do {
            if let script = completionScriptRequested(arguments) {
                try Console.output(script)
                Glibc.exit(0)
            }
            var command = try parseAsRoot(arguments)
            try command.run()
            Glibc.exit(0)
        } catch let error as CPKError {
            if wantsJSON(arguments) { JSONErrors.printDocument(tool: tool, error) }
            Console.error("\(tool): \(Hints.message(for: error))")
            Glibc.exit(error.exitCode)
        } catch let reported as JSONErrors.AlreadyReported {
            Console.error("\(tool): \(Hints.message(for: reported.error))")
            Glibc.exit(reported.error.exitCode)
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            if exitCode(for: error) == .success {  // --help and friends
                print(fullMessage(for: error))
                if let defaultHelp = defaultSubcommandHelp(arguments) { print(defaultHelp) }
                Glibc.exit(0)
            }
            var line = "\(message(for: error)) (see '\(tool) --help')"
            if let suggestion = suggestion(for: error, in: arguments) { line += "; did you mean \(suggestion)?" }
            // A usage error is found before any report: with --json, a script still reads a document.
            if wantsJSON(arguments) {
                try? Console.output(JSONErrors.document(tool: tool, .usage(line)).compactText)
            }
            Console.error("\(tool): \(line)")
            Glibc.exit(2)
        }
    }
}

extension ParsableCommand {
    /// True when the command line asks for JSON: then standard output carries a JSON document
    /// whatever happens, the error document when the command fails before its report.
    static func wantsJSON(_ arguments: [String]) -> Bool {
        arguments.prefix(while: { $0 != "--" }).contains("--json")
    }

    /// The root's help lists subcommands; when one of them runs by default (`cpk-pack FILE` is
    /// `cpk-pack create FILE`), `--help` shows its usage and options too, so an error that
    /// points at `--help` points at a page that has the option.
    static func defaultSubcommandHelp(_ arguments: [String]) -> String? {
        let words = arguments.filter { !messageFlags.contains($0) }
        guard words.count == 1, ["--help", "-h", "help"].contains(words[0]),
            let defaultCommand = configuration.defaultSubcommand
        else { return nil }
        let name = configuration.commandName ?? "cpk"
        let title = "The default subcommand, \(defaultCommand._commandName) (\(name) [options] runs it):"
        return "\n" + title + "\n\n" + helpMessage(for: defaultCommand)
    }

    /// For an unknown option, the known options of the command it was given to that are closest
    /// in spelling (an edit distance of at most 2, or one being the other's prefix).
    static func suggestion(for error: Error, in arguments: [String]) -> String? {
        let text = message(for: error)
        guard text.hasPrefix("Unknown option '"), let unknown = text.split(separator: "'").dropFirst().first.map(String.init),
            unknown.hasPrefix("--")
        else { return nil }
        var command: ParsableCommand.Type = Self.self
        for word in arguments where !word.hasPrefix("-") {
            guard let sub = command.configuration.subcommands.first(where: { $0._commandName == word }) else { break }
            command = sub
        }
        if command == Self.self, let defaultCommand = configuration.defaultSubcommand { command = defaultCommand }
        let known = Set(helpMessage(for: command).split(whereSeparator: { " ,\n()[]<>=|".contains($0) }).map(String.init)
            .filter { $0.hasPrefix("--") && $0.count > 3 && $0 != unknown })
        let bare = String(unknown.dropFirst(2))
        let close = known.map { ($0, editDistance(bare, String($0.dropFirst(2)))) }
            .filter { candidate, distance in
                let name = String(candidate.dropFirst(2))
                return distance <= 2 || (bare.count >= 3 && (name.hasPrefix(bare) || bare.hasPrefix(name)))
            }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
            .prefix(3).map(\.0)
        return close.isEmpty ? nil : close.joined(separator: " or ")
    }
}

/// Levenshtein distance over characters.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for (i, x) in a.enumerated() {
        var current = [i + 1] + Array(repeating: 0, count: b.count)
        for (j, y) in b.enumerated() {
            current[j + 1] = Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

extension ParsableCommand {
    /// Moves leading global options (`--state DIR`, `--state=DIR`, and the message flags)
    /// behind the subcommand name that follows them, when one does.
    /// The flags of MessageOptions, which every command declares: `cpk-wrap -q keygen` works too.
    static var messageFlags: Set<String> { ["-q", "--quiet", "-v", "--verbose", "--progress"] }

    static func hoisting(_ globalOptions: [String], in arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            if messageFlags.contains(first) {  // every command has them (MessageOptions)
                leading.append(first)
                rest = rest.dropFirst()
            } else if globalOptions.contains(first), rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if globalOptions.contains(where: { first.hasPrefix($0 + "=") }) {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        // The subcommands' names only now: reading them builds every subcommand's configuration,
        // which a tool's start (most calls have no leading flag) need not pay for.
        guard !leading.isEmpty, let name = rest.first,
            configuration.subcommands.contains(where: { $0._commandName == name })
        else { return arguments }
        // Behind the whole subcommand path (`trust list`): a group has no options of its own.
        var path: [String] = []
        var command: ParsableCommand.Type = Self.self
        while let next = rest.first,
            let sub = command.configuration.subcommands.first(where: { $0._commandName == next })
        {
            path.append(next)
            rest = rest.dropFirst()
            command = sub
        }
        return path + leading + rest
    }
}

/// Messages for people go to standard error; standard output carries data only.
public enum Console {
    public static func error(_ line: String) {
        var text = line
        if !text.hasSuffix("\n") { text += "\n" }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// Writes text (not binary) to standard output.
    public static func output(_ text: String) throws {
        var text = text
        if !text.hasSuffix("\n") { text += "\n" }
        try FileDescriptor.standardOutput.write(Array(text.utf8))
    }
}
