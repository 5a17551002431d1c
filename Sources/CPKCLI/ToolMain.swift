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
                Glibc.exit(0)
            }
            let line = "\(message(for: error)) (see '\(tool) --help')"
            // A usage error is found before any report: with --json, a script still reads a document.
            if arguments.prefix(while: { $0 != "--" }).contains("--json") {
                try? Console.output(JSONErrors.document(tool: tool, .usage(line)).compactText)
            }
            Console.error("\(tool): \(line)")
            Glibc.exit(2)
        }
    }
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
