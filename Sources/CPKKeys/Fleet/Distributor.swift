#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto

/// The cloud side of DistributeKey: reads devices' reported documents one at a time, and for
/// each device whose report passes writes a desired-state document with the class keys wrapped
/// to its public key. A refused device is reported and the others go on. Memory stays bounded
/// whatever the number of reports: one report is held at a time (plus the ids already served,
/// to refuse a second report under the same id).
public final class FleetDistributor {
    /// Where reported documents come from.
    public enum Input: Sendable, Equatable {
        /// One report per file.
        case file(String)
        /// Every `*.json` file of a directory, in name order.
        case directory(String)
        /// One report per line (JSON lines) from a file or `-` (standard input).
        case lines(String)

        /// What a path on the command line is: `-` and `*.jsonl` are JSON lines, a directory
        /// its reports, anything else one report.
        public init(path: String) throws {
            if path == "-" || path.hasSuffix(".jsonl") {
                self = .lines(path)
                return
            }
            var info = stat()
            guard stat(path, &info) == 0 else { throw FileDescriptor.systemError("cannot read \(path)") }
            self = info.st_mode & S_IFMT == S_IFDIR ? .directory(path) : .file(path)
        }
    }

    /// Where desired documents go.
    public enum Output: Sendable, Equatable {
        /// `<device_id>.json` in this directory, each file appearing complete.
        case directory(String)
        /// One document per line on this file or `-`.
        case lines(String)
    }

    /// A device that was not served, and why.
    public struct Refusal: Sendable {
        /// The device id when the report got that far, else nil.
        public let deviceID: String?
        /// Where the report came from: a file, or "standard input line N".
        public let source: String
        public let error: CPKError

        /// How messages name the device: its id and source, or the source alone.
        public var name: String { deviceID.map { "\($0) (\(source))" } ?? source }
    }

    public struct Summary: Sendable {
        public var served: [String] = []
        public var refused: [Refusal] = []
        public var wraps = 0
        public var seconds = 0.0

        public var json: JSONValue {
            .object([
                ("served", .array(served.map { .string($0) })),
                ("refused", .array(refused.map { refusal in
                    .object([
                        ("device_id", refusal.deviceID.map { .string($0) } ?? .null),
                        ("source", .string(refusal.source)),
                        ("reason", .string(refusal.error.reason?.rawValue ?? "fleet.error")),
                        ("message", .string(refusal.error.message)),
                    ])
                })),
                ("wraps", .integer(wraps)),
                ("seconds", .number(String(format3(seconds)))),
            ])
        }
    }

    private var keys: [(name: String, key: [UInt8])]
    private let padding: KeyWrapPadding
    private let anchors: [X509Certificate]
    private let time: Int
    private var seen: Set<String> = []

    /// Reads the named keys from the file store once (all of its keys when `keyNames` is
    /// empty); they are wiped when the distributor goes away.
    /// - Parameter anchors: the fleet CA certificates; when not empty, every report must carry
    ///   a device certificate that chains to one of them.
    public init(fileStore path: String, keyNames: [String], padding: KeyWrapPadding, anchors: [X509Certificate], at time: Int)
        throws
    {
        let store = try FileKeyStore(path: path)
        let names = keyNames.isEmpty ? store.entries.map(\.name) : keyNames
        guard !names.isEmpty else { throw CPKError.invalid("\(path) holds no keys to distribute") }
        var keys: [(name: String, key: [UInt8])] = []
        for name in names {
            guard !keys.contains(where: { $0.name == name }) else { throw CPKError.usage("the key \"\(name)\" is named twice") }
            keys.append((name, try store.key(named: name)))
        }
        self.keys = keys
        self.padding = padding
        self.anchors = anchors
        self.time = time
    }

    deinit {
        for index in keys.indices { wipe(&keys[index].key) }
    }

    /// Serves every report of `inputs`, writing to `output`; `refused` hears each refusal as it
    /// happens. Throws only for what stops the whole run (an output that cannot be written, an
    /// input that cannot be opened).
    public func run(inputs: [Input], output: Output, refused: (Refusal) -> Void) throws -> Summary {
        let started = Self.now()
        let sink = try Sink(output)
        var summary = Summary()
        func refuse(_ error: CPKError, deviceID: String?, source: String) {
            let refusal = Refusal(deviceID: deviceID, source: source, error: error)
            summary.refused.append(refusal)
            refused(refusal)
        }
        func serve(_ bytes: [UInt8], source: String) throws {
            var deviceID: String? = nil
            do {
                let report = try DeviceReport(parsing: bytes)
                deviceID = report.deviceID
                guard seen.insert(report.deviceID).inserted else {
                    throw CPKError(.invalidInput, "a second report of this device in one run", reason: .duplicateDevice)
                }
                if !anchors.isEmpty { try report.requireCertificate(chainingTo: anchors, at: time) }
                let document = try desired(for: report)
                try sink.write(document.json(deviceID: report.deviceID), deviceID: report.deviceID)
                summary.served.append(report.deviceID)
                summary.wraps += keys.count
            } catch let refusal as DeviceReport.Refused {
                refuse(refusal.error, deviceID: refusal.deviceID, source: source)
            } catch let error as CPKError where error.kind == .invalidInput || error.kind == .checkFailed {
                refuse(error, deviceID: deviceID, source: source)
            }
        }
        // A report file that is too big, empty, or (in a directory) not a regular file refuses
        // that entry only.
        func readReport(_ path: String, listed: Bool) throws {
            let bytes: [UInt8]
            do {
                bytes = listed
                    ? try SmallInput.readListedFile(path, limit: ReportedState.sizeLimit, what: "the report")
                    : try SmallInput.read(path, limit: ReportedState.sizeLimit, what: "the report")
            } catch let error as CPKError where error.kind == .invalidInput {
                return refuse(CPKError(.invalidInput, error.message, reason: .malformedReport), deviceID: nil, source: path)
            }
            try serve(bytes, source: path)
        }
        for input in inputs {
            switch input {
            case .file(let path):
                try readReport(path, listed: false)
            case .directory(let path):
                for name in try Self.reportFiles(in: path) { try readReport(path + "/" + name, listed: true) }
            case .lines(let path):
                let file = path == "-" ? FileDescriptor.standardInput : try FileDescriptor.open(forReading: path)
                let what = SmallInput.displayName(path)
                try LineReader(file, limit: ReportedState.sizeLimit).forEachLine { number, line in
                    let source = "\(what) line \(number)"
                    guard let line else {
                        return refuse(
                            CPKError(.invalidInput, "the report is longer than \(ReportedState.sizeLimit) bytes", reason: .malformedReport),
                            deviceID: nil, source: source)
                    }
                    try serve(line, source: source)
                }
            }
        }
        try sink.finish()
        summary.seconds = Self.now() - started
        return summary
    }

    /// The desired document for one device: every key wrapped to its public key.
    func desired(for report: DeviceReport) throws -> DesiredState {
        var wrapped: [(name: String, wrapped: [UInt8])] = []
        for entry in keys { wrapped.append((entry.name, try report.publicKey.wrap(entry.key, padding: padding))) }
        return DesiredState(keys: wrapped, padding: padding, wrappingKeySHA256: try report.publicKey.fingerprint)
    }

    /// The `*.json` files of a directory, sorted, hidden files left out.
    static func reportFiles(in directory: String) throws -> [String] {
        guard let handle = opendir(directory) else { throw FileDescriptor.systemError("cannot read the directory \(directory)") }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if !name.hasPrefix("."), name.hasSuffix(".json") { names.append(name) }
        }
        return names.sorted()
    }

    static func now() -> Double {
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        return Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
    }
}

private func format3(_ value: Double) -> String {
    let thousandths = Int((value * 1000).rounded())
    let fraction = String(thousandths % 1000)
    return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}

/// Writes desired documents to a directory (one atomic file each) or as JSON lines.
private final class Sink {
    private let output: FleetDistributor.Output
    private let lines: OutputFile?

    init(_ output: FleetDistributor.Output) throws {
        self.output = output
        switch output {
        case .directory(let path):
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw CPKError.io("\(path) is not a directory")
            }
            lines = nil
        case .lines(let path):
            lines = try OutputFile(path: path, binary: false)
        }
    }

    func write(_ document: JSONValue, deviceID: String) throws {
        let text = Array((document.compactText + "\n").utf8)
        switch output {
        case .directory(let path):
            let file = try OutputFile(path: "\(path)/\(deviceID).json", binary: false)
            try file.descriptor.write(text)
            try file.commit()
        case .lines:
            try lines?.descriptor.write(text)
        }
    }

    func finish() throws { try lines?.commit() }
}

/// Reads lines of at most `limit` bytes with a fixed buffer; a longer line is skipped whole and
/// reported as nil.
struct LineReader {
    let file: FileDescriptor
    let limit: Int

    init(_ file: FileDescriptor, limit: Int) {
        self.file = file
        self.limit = limit
    }

    /// Calls `body` with each line's number (from 1) and bytes, blank lines left out.
    func forEachLine(_ body: (Int, [UInt8]?) throws -> Void) throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var line: [UInt8] = []
        var overlong = false
        var number = 0
        func emit() throws {
            number += 1
            if overlong {
                try body(number, nil)
            } else if line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                try body(number, line)
            }
            line.removeAll(keepingCapacity: true)
            overlong = false
        }
        while true {
            let count = try chunk.withUnsafeMutableBytes { try file.read(into: $0) }
            if count == 0 { break }
            var start = 0
            for index in 0..<count where chunk[index] == 0x0A {
                if !overlong { line += chunk[start..<index] }
                if line.count > limit { overlong = true }
                try emit()
                start = index + 1
            }
            if !overlong { line += chunk[start..<count] }
            if line.count > limit {
                overlong = true
                line.removeAll(keepingCapacity: true)
            }
        }
        if !line.isEmpty || overlong { try emit() }
    }
}
