import CPKCore

#if canImport(Glibc)
import Glibc
#endif

/// Progress on standard error: one line rewritten in place on a terminal, else a line per 10%.
public final class ProgressLine {
    private let tool: String
    private let verb: String
    private let id: String
    private let terminal = isatty(2) == 1
    private var shown = -1

    /// - Parameters: tool: the tool's name; verb: what it does, e.g. "deploying"; id: the
    ///   package's id (escaped: it is the package's text, on the terminal).
    public init(tool: String, verb: String, id: String) {
        self.tool = tool
        self.verb = verb
        self.id = TerminalText.escaped(id)
    }

    public func show(done: UInt64, total: UInt64) {
        let percent = total == 0 ? 100 : Int(done * 100 / total)
        let step = terminal ? percent : percent / 10 * 10
        guard step != shown else { return }
        shown = step
        let line = "\(tool): \(verb) \(id): \(percent)% (\(Self.size(done)) of \(Self.size(total)))"
        if terminal {
            FileDescriptor(fd: 2, name: "standard error", owned: false).writeIgnoringErrors("\r\u{1B}[K" + line + (done == total ? "\n" : ""))
        } else {
            Console.error(line)
        }
    }
}

extension ProgressLine {
    public static func size(_ bytes: UInt64) -> String {
        bytes < 1 << 20 ? "\(bytes) bytes" : "\(bytes >> 20) MiB"
    }
}

extension FileDescriptor {
    func writeIgnoringErrors(_ text: String) {
        try? write(Array(text.utf8))
    }
}

