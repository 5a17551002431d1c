import ArgumentParser
import CPKCore

#if canImport(Glibc)
import Glibc
#endif

extension ParsableCommand {
    /// Parses the command line, runs the command and exits with the documented status:
    /// 0 success, 1 invalid input or failed check, 2 usage or I/O error. Every error is one
    /// line on standard error, prefixed with the tool's name.
    public static func runTool() -> Never {
        let tool = configuration.commandName ?? "cpk"
        do {
            var command = try parseAsRoot()
            try command.run()
            Glibc.exit(0)
        } catch let error as CPKError {
            Console.error("\(tool): \(error.message)")
            Glibc.exit(error.exitCode)
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            if exitCode(for: error) == .success {  // --help and friends
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            Console.error("\(tool): \(message(for: error)) (see '\(tool) --help')")
            Glibc.exit(2)
        }
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
