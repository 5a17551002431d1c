#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto

/// The cloud side of DistributeKey: reads devices' reported documents one at a time, and for
/// each authenticated device writes a signed key release (KeyRelease) with the class keys it is
/// entitled to, wrapped to its public key. A refused report or device is named and the others
/// go on. Memory stays bounded whatever the number of reports: one report is held at a time,
/// plus the ids already claimed (to refuse two reports under one id).
public final class FleetDistributor {
    /// Where reported documents come from.
    public enum Input: Sendable, Equatable {
        /// One report per file.
        case file(String)
        /// Every `*.json` entry of a directory, in name order.
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

    /// Where signed documents go.
    public enum Output: Sendable, Equatable {
        /// `<device_id>.json` in this directory (made when missing), each file appearing complete.
        case directory(String)
        /// One document per line on this file or `-`, written when the run ends.
        case lines(String)
    }

    /// Which keys each device gets.
    public enum KeySelection: Sendable {
        /// These keys, to every authenticated device.
        case named([String])
        /// The keys of the policy's rules that match the device.
        case policy(ReleasePolicy)
    }

    /// Who signs the releases, and how.
    public struct Signer: Sendable {
        public let key: SigningKey
        public let scheme: SignatureScheme
        /// The signer's certificate chain, leaf first (may be empty): embedded in each document.
        public let chain: [X509Certificate]

        public init(key: SigningKey, scheme: SignatureScheme, chain: [X509Certificate]) {
            (self.key, self.scheme, self.chain) = (key, scheme, chain)
        }
    }

    /// What every release of a run says besides its keys.
    public struct Terms: Sendable {
        public var padding: KeyWrapPadding
        /// Seconds from issue to expiry.
        public var validity: Int
        /// The generation of every release, when the operator fixes it; else the clock's
        /// milliseconds, above the generation of the device's previous document.
        public var generation: UInt64?

        /// The longest validity: a release outliving a year would outlive the keys it holds.
        public static let maximumValidity = 366 * 86400

        public init(padding: KeyWrapPadding, validity: Int, generation: UInt64?) throws {
            guard (1...Self.maximumValidity).contains(validity) else {
                throw CPKError.usage("a release is valid for 1 second to 366 days")
            }
            (self.padding, self.validity, self.generation) = (padding, validity, generation)
        }
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
        /// Every report was served unauthenticated.
        public var insecureAnyDevice = false

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
                ("insecure-any-device", .bool(insecureAnyDevice)),
            ])
        }
    }

    /// What became of the reports claiming a device id in this run.
    private enum Claim {
        /// Served from this source, its document written.
        case served(source: String)
        /// Authenticated but refused (not entitled, its output place refused).
        case refused
        /// Claimed by two authenticated reports: nobody gets a document.
        case conflicted
    }

    /// The keys read from the store, in store order for a policy (else as named).
    private var keys: [(name: String, key: [UInt8])]
    private let selection: KeySelection
    private let authenticator: DeviceAuthenticator
    private let signer: Signer
    private let terms: Terms
    private let time: Int
    /// What TPM evidence is checked against, when the policy requires attestation.
    private let attestation: ReleaseAttestation?
    /// The clock in milliseconds at the start of the run: the default generation.
    private let clockGeneration: UInt64
    private var claims: [String: Claim] = [:]

    /// Reads the selected keys from the file store once; they are wiped when the distributor
    /// goes away. A key the selection names and the store lacks stops everything here, before
    /// any report is read.
    public init(
        fileStore path: String, selection: KeySelection, authenticator: DeviceAuthenticator, signer: Signer, terms: Terms, at time: Int,
        attestation: ReleaseAttestation? = nil
    ) throws {
        if case .policy(let policy) = selection {
            if policy.requiresAttestation && attestation == nil {
                throw CPKError.usage("the release policy requires TPM attestation: name the enrollment registry and the EK CAs")
            }
            if policy.requiresPCRs && attestation?.nonce == nil {
                throw CPKError.usage("the release policy requires PCR values: a quote is fresh only over a nonce; name it")
            }
        }
        self.attestation = attestation
        let store = try FileKeyStore(path: path)
        var keys: [(name: String, key: [UInt8])] = []
        switch selection {
        case .named(let names):
            guard !names.isEmpty else { throw CPKError.usage("no key is named to distribute") }
            for name in names {
                guard !keys.contains(where: { $0.name == name }) else { throw CPKError.usage("the key \"\(name)\" is named twice") }
                keys.append((name, try store.key(named: name)))
            }
        case .policy(let policy):
            let stored = store.entries.map(\.name)
            var ordered: [(position: Int, name: String)] = []
            for name in policy.keyNames {
                guard let match = try KeyName.match(name, in: stored), let position = stored.firstIndex(of: match) else {
                    throw CPKError.usage("the release policy names the key \"\(name)\", which \(path) does not hold")
                }
                ordered.append((position, name))
            }
            for entry in ordered.sorted(by: { $0.position < $1.position }) { keys.append((entry.name, try store.key(named: entry.name))) }
        }
        self.keys = keys
        (self.selection, self.authenticator, self.signer, self.terms, self.time) = (selection, authenticator, signer, terms, time)
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        clockGeneration = UInt64(max(0, clock.tv_sec)) * 1000 + UInt64(max(0, clock.tv_nsec)) / 1_000_000
    }

    deinit {
        for index in keys.indices { wipe(&keys[index].key) }
    }

    /// Serves every report of `inputs`, writing to `output`; `refused` hears each refusal as it
    /// happens. Throws only for what stops the whole run (an output that cannot be written, an
    /// input named on the command line that cannot be opened).
    public func run(inputs: [Input], output: Output, refused: (Refusal) -> Void) throws -> Summary {
        let started = Self.now()
        let sink = try ReleaseOutput(output)
        var summary = Summary()
        summary.insecureAnyDevice = authenticator.anyDevice
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
                // Authenticated first: an unauthenticated report never claims an id, so it
                // cannot block or take over the device's own report.
                let device = try authenticator.authenticate(report, at: time)
                if let earlier = claims.updateValue(.refused, forKey: device.deviceID) {
                    claims[device.deviceID] = .conflicted
                    if case .served(let first) = earlier {
                        try sink.withdraw(device.deviceID)
                        summary.served.removeAll { $0 == device.deviceID }
                        refuse(Self.duplicate(also: source), deviceID: device.deviceID, source: first)
                    }
                    throw Self.duplicate(also: nil)
                }
                let given = keys(for: device)
                guard !given.isEmpty else {
                    throw CPKError(.checkFailed, "no rule of the release policy gives this device a key", reason: .notEntitled)
                }
                try requireAttestation(of: device)
                try sink.requireWritable(device.deviceID)
                let release = try release(of: given, to: device, previous: sink.previousGeneration(of: device.deviceID))
                try sink.write(
                    try release.signedDocument(with: signer.key, scheme: signer.scheme, chain: signer.chain), deviceID: device.deviceID)
                claims[device.deviceID] = .served(source: source)
                summary.served.append(device.deviceID)
                summary.wraps += given.count
            } catch let refusal as DeviceReport.Refused {
                refuse(refusal.error, deviceID: refusal.deviceID, source: source)
            } catch let error as CPKError where error.kind == .invalidInput || error.kind == .checkFailed {
                refuse(error, deviceID: deviceID, source: source)
            }
        }
        for input in inputs {
            switch input {
            case .file(let path):
                let bytes: [UInt8]
                do {
                    bytes = try SmallInput.read(path, limit: ReportedState.sizeLimit, what: "the report")
                } catch let error as CPKError where error.kind == .invalidInput {
                    refuse(CPKError(.invalidInput, error.message, reason: .malformedReport), deviceID: nil, source: path)
                    continue
                }
                try serve(bytes, source: path)
            case .directory(let path):
                for name in try Self.reportEntries(in: path) {
                    let entry = path + "/" + name
                    do {
                        try serve(try Self.readListedReport(entry), source: entry)
                    } catch let error as CPKError where error.reason == .unreadableReport || error.reason == .malformedReport {
                        refuse(error, deviceID: nil, source: entry)
                    }
                }
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

    private static func duplicate(also other: String?) -> CPKError {
        let text = other.map { "another authenticated report in this run (\($0)) claims this device id too" }
            ?? "another authenticated report in this run claims this device id"
        return CPKError(.checkFailed, text + "; neither is served", reason: .duplicateDevice)
    }

    /// Every matching rule's attestation requirement holds for `device`; else the first that
    /// fails, named, and the device gets nothing (a partial release would read as a revocation).
    private func requireAttestation(of device: AuthenticatedDevice) throws {
        guard case .policy(let policy) = selection, let attestation else { return }
        for (index, rule) in policy.matchingRules(for: device) {
            if let requirement = rule.attestation { try attestation.require(requirement, rule: index, device: device, at: time) }
        }
    }

    /// The keys `device` gets: every selected key, or those of the policy rules it matches.
    private func keys(for device: AuthenticatedDevice) -> [(name: String, key: [UInt8])] {
        switch selection {
        case .named: return keys
        case .policy(let policy):
            let names = policy.keyNames(for: device)
            return keys.filter { names.contains($0.name) }
        }
    }

    /// The release for one device: its keys wrapped to its reported key, issued now.
    func release(of given: [(name: String, key: [UInt8])], to device: AuthenticatedDevice, previous: UInt64?) throws -> KeyRelease {
        let key = device.report.publicKey
        var wrapped: [(name: String, wrapped: [UInt8])] = []
        for entry in given { wrapped.append((entry.name, try key.wrap(entry.key, padding: terms.padding))) }
        let generation = terms.generation ?? max(clockGeneration, previous.map { $0 &+ 1 } ?? 0)
        return KeyRelease(
            deviceID: device.deviceID, deviceKeySHA256: try key.fingerprint, generation: generation, issuedAt: time,
            expiresAt: time + terms.validity, padding: terms.padding, keys: wrapped)
    }

    /// Reads one entry of a reports directory, whose name and type whoever can write the
    /// directory chose: anything but a readable regular file of at most the size limit is
    /// refused (never followed, never waited on) with a reason of the fleet family.
    static func readListedReport(_ path: String) throws -> [UInt8] {
        func unreadable(_ text: String) -> CPKError { CPKError(.invalidInput, text, reason: .unreadableReport) }
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(regularFile: path)
        } catch FileDescriptor.NotRegularFile.symbolicLink {
            throw unreadable("the report is a symbolic link, not followed")
        } catch FileDescriptor.NotRegularFile.special {
            throw unreadable("the report is not a regular file (a FIFO, socket, device or directory)")
        } catch FileDescriptor.NotRegularFile.missing {
            throw unreadable("the report is gone since the directory was listed")
        } catch let error as CPKError {
            throw unreadable(error.message)  // EACCES, ENXIO (a socket)…: this entry only
        }
        do {
            return try SmallInput.read(file, limit: ReportedState.sizeLimit, what: "the report")
        } catch let error as CPKError where error.kind == .invalidInput {
            throw CPKError(.invalidInput, error.message, reason: .malformedReport)
        } catch let error as CPKError {
            throw unreadable(error.message)
        }
    }

    /// The `*.json` entries of a directory, sorted, hidden ones left out.
    static func reportEntries(in directory: String) throws -> [String] {
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
