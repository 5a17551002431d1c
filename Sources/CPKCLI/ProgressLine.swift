import CPKCore

#if canImport(Glibc)
import Glibc
#endif

/// Progress of long work on standard error: bytes done, rate and time left. On a terminal one
/// line is rewritten in place (at most five times a second); elsewhere (--progress into a
/// log) a line per 10% of a known total, or every few seconds when the total is unknown.
public final class ProgressLine {
    private let tool: String
    private let verb: String
    private let subject: String
    private let total: UInt64?
    private let terminal: Bool
    private let started: Double
    private var done: UInt64 = 0
    private var lastShown = -1.0
    private var lastStep = -1
    private var finished = false
    /// The bytes done when a line was last written, so the end is not written twice.
    private var shownDone: UInt64?

    /// - Parameters: tool: the tool's name; verb: what it does, e.g. "deploying"; subject: the
    ///   package's id or file (escaped: it may be the package's text, on the terminal); total:
    ///   the bytes to go, when known.
    public init(tool: String, verb: String, subject: String, total: UInt64?, terminal: Bool = isatty(2) == 1) {
        self.tool = tool
        self.verb = verb
        self.subject = TerminalText.escaped(subject)
        self.total = total
        self.terminal = terminal
        started = Self.now()
    }

    /// The same, for cpk-install's (done, total) callback.
    public convenience init(tool: String, verb: String, id: String) {
        self.init(tool: tool, verb: verb, subject: id, total: nil)
    }

    /// `count` more bytes are done.
    public func add(_ count: Int) {
        update(done: done + UInt64(count), total: total)
    }

    /// `done` of `total` bytes are done (the line ends at the total).
    public func show(done: UInt64, total: UInt64) {
        update(done: done, total: total)
        if done >= total { finish() }
    }

    /// Ends the line: the last figures, then a newline on a terminal.
    public func finish() {
        guard !finished else { return }
        finished = true
        if !terminal && shownDone == done { return }
        emit(line(total: total ?? done), final: true)
    }

    private func update(done: UInt64, total: UInt64?) {
        self.done = done
        let now = Self.now()
        if terminal {
            guard now - lastShown >= 0.2 else { return }
        } else if let total, total > 0 {
            let step = Int(done * 10 / total)
            guard step != lastStep else { return }
            lastStep = step
        } else {
            guard now - lastShown >= 5 else { return }
        }
        lastShown = now
        emit(line(total: total), final: false)
    }

    private func line(total: UInt64?) -> String {
        let elapsed = max(Self.now() - started, 0.001)
        let rate = Double(done) / elapsed
        var text = "\(tool): \(verb) \(subject): \(Self.size(done))"
        if let total, total > 0 {
            text = "\(tool): \(verb) \(subject): \(min(done, total) * 100 / total)% (\(Self.size(done)) of \(Self.size(total))"
            text += ", \(Self.size(UInt64(rate)))/s"
            if done < total, rate > 0 { text += ", \(Self.duration(Double(total - done) / rate)) left" }
            text += ")"
        } else {
            text += " (\(Self.size(UInt64(rate)))/s)"
        }
        return text
    }

    private func emit(_ line: String, final: Bool) {
        shownDone = done
        let standardError = FileDescriptor(fd: 2, name: "standard error", owned: false)
        if terminal {
            standardError.writeIgnoringErrors("\r\u{1B}[K" + line + (final ? "\n" : ""))
        } else {
            standardError.writeIgnoringErrors(line + "\n")
        }
    }

    private static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

extension ProgressLine {
    public static func size(_ bytes: UInt64) -> String {
        switch bytes {
        case ..<(1 << 10): return "\(bytes) B"
        case ..<(1 << 20): return "\(bytes >> 10) KiB"
        case ..<(1 << 30): return String(format1(Double(bytes) / Double(1 << 20))) + " MiB"
        default: return String(format1(Double(bytes) / Double(1 << 30))) + " GiB"
        }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        return s < 60 ? "\(s) s" : s < 3600 ? "\(s / 60) min \(s % 60) s" : "\(s / 3600) h \(s / 60 % 60) min"
    }

    /// One decimal, without Foundation.
    private static func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

extension FileDescriptor {
    func writeIgnoringErrors(_ text: String) {
        try? write(Array(text.utf8))
    }
}
