import CPKCBOR
import CPKCore
import CPKFormat

/// The envelope: the CBOR sequence that flows between the tools (docs/envelope.md).
///
///     header (tagged 55799)   the package head: manifest, streams, pipeline log
///     chunk, chunk, ...       the payload as byte strings
///     trailer                 streams computed from the payload (digest, tag, signature)
public enum Envelope {
    public static let version: UInt64 = 1
    /// The self-describe CBOR tag: every envelope starts D9 D9 F7.
    public static let selfDescribeTag = CBORValue.selfDescribeTag
    public static let magicBytes = CBORValue.selfDescribePrefix
    /// The largest payload chunk a reader accepts, and the largest header or trailer.
    public static let maximumItemSize = 16 << 20
    /// The chunk size writers use: large enough for few system calls, small for bounded memory.
    public static let chunkSize = 1 << 20
}

/// One step a tool applied, kept in the envelope for whoever debugs a pipeline.
public struct LogEntry: Sendable, Equatable {
    public var tool: String
    public var action: String
    public var time: String

    public init(tool: String, action: String, time: String) {
        self.tool = tool
        self.action = action
        self.time = time
    }
}

/// The first item of an envelope.
public struct EnvelopeHeader: Sendable, Equatable {
    public var package: PackageHead
    public var log: [LogEntry]

    public init(package: PackageHead, log: [LogEntry] = []) {
        self.package = package
        self.log = log
    }
}

/// The last item of an envelope.
public struct EnvelopeTrailer: Sendable, Equatable {
    public var payloadSize: UInt64
    /// The contents of the deferred streams, by index.
    public var streams: [Int: [UInt8]]

    public init(payloadSize: UInt64, streams: [Int: [UInt8]]) {
        self.payloadSize = payloadSize
        self.streams = streams
    }
}

// MARK: - To CBOR

extension EnvelopeHeader {
    var cbor: CBORValue {
        let streams: [CBORValue] = package.streams.map { content in
            switch content {
            case .bytes(let bytes): return .bytes(bytes)
            case .payload: return .text("payload")
            case .manifest: return .text("manifest")
            case .deferred(let size): return .textMap([("deferred", .unsigned(UInt64(size)))])
            }
        }
        let log: [CBORValue] = log.map {
            .textMap([("tool", .text($0.tool)), ("action", .text($0.action)), ("time", .text($0.time))])
        }
        // Pipeline state, present only while an offline signature is awaited.
        let pending: [(String, CBORValue)] =
            package.pendingSignatures.isEmpty
            ? [] : [("pending-signatures", .array(package.pendingSignatures.map { .unsigned(UInt64($0)) }))]
        return .tagged(
            Envelope.selfDescribeTag,
            .textMap([
                ("cpk-envelope", .unsigned(Envelope.version)),
                ("manifest", package.manifest.json.cbor),
                ("manifest-stream", .unsigned(UInt64(package.manifestIndex))),
                ("streams", .array(streams)),
                ("payload-size", package.payloadSize.map { .unsigned($0) } ?? .null),
                ("log", .array(log)),
            ] + pending))
    }
}

extension EnvelopeTrailer {
    var cbor: CBORValue {
        let entries = streams.keys.sorted().map { CBORValue.MapEntry(.unsigned(UInt64($0)), .bytes(streams[$0]!)) }
        return .textMap([("payload-size", .unsigned(payloadSize)), ("streams", .map(entries))])
    }
}

extension JSONValue {
    /// The same document as CBOR: objects become maps with text keys, in order.
    var cbor: CBORValue {
        switch self {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .string(let text): return .text(text)
        case .array(let items): return .array(items.map(\.cbor))
        case .object(let members): return .textMap(members.map { ($0.0, $0.1.cbor) })
        case .number(let literal):
            if let n = UInt64(literal) { return .unsigned(n) }
            if let n = Int64(literal), n < 0 { return .negative(UInt64(-(n + 1))) }
            return .float(Double(literal) ?? .nan)
        }
    }

    init(cbor: CBORValue, path: String) throws {
        switch cbor {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .text(let text): self = .string(text)
        case .unsigned(let n): self = .number(String(n))
        case .negative(let n): self = .number(n == UInt64.max ? "-18446744073709551616" : "-\(n + 1)")
        case .float(let x) where x.isFinite: self = .number(String(x))
        case .array(let items):
            self = .array(try items.map { try JSONValue(cbor: $0, path: path) })
        case .map(let entries):
            var members: [(String, JSONValue)] = []
            for entry in entries {
                guard case .text(let key) = entry.key else {
                    throw CPKError.invalid("envelope: \(path) has a key that is not text")
                }
                guard !members.contains(where: { $0.0 == key }) else {
                    throw CPKError.invalid("envelope: \(path) has the key \"\(key)\" twice")
                }
                members.append((key, try JSONValue(cbor: entry.value, path: "\(path).\(key)")))
            }
            self = .object(members)
        default:
            throw CPKError.invalid("envelope: \(path) holds \(cbor.typeName), which JSON cannot express")
        }
    }
}

// MARK: - From CBOR

extension EnvelopeHeader {
    init(cbor: CBORValue) throws {
        guard case .tagged(Envelope.selfDescribeTag, let body) = cbor, case .map = body else {
            throw CPKError.invalid("not an envelope: the first item must be a map tagged 55799")
        }
        var fields = try CBORMapReader(envelopePart: body, what: "envelope header")
        guard case .unsigned(let version) = try fields.value("cpk-envelope") else {
            throw CPKError.invalid("envelope header: cpk-envelope must be the version number")
        }
        guard version == Envelope.version else {
            throw CPKError.invalid("unsupported envelope version \(version) (this tool reads version \(Envelope.version))")
        }
        let manifest = try Manifest(json: try JSONValue(cbor: try fields.value("manifest"), path: "manifest"))
        let manifestIndex: Int = try fields.count("manifest-stream", limit: UInt64(UInt16.max))
        guard case .array(let items) = try fields.value("streams") else {
            throw CPKError.invalid("envelope header: streams must be an array")
        }
        let streams = try items.enumerated().map { try StreamContent(cbor: $1, index: $0) }
        let payloadSize: UInt64?
        switch try fields.value("payload-size") {
        case .null: payloadSize = nil
        case .unsigned(let size): payloadSize = size
        default: throw CPKError.invalid("envelope header: payload-size must be a number or null")
        }
        guard case .array(let logItems) = try fields.value("log") else {
            throw CPKError.invalid("envelope header: log must be an array")
        }
        log = try logItems.map { try LogEntry(cbor: $0) }
        let pending = try fields.pendingSignatures()
        try fields.finish()
        package = PackageHead(manifest: manifest, manifestIndex: manifestIndex, streams: streams, payloadSize: payloadSize)
        package.pendingSignatures = pending
        do {
            try package.validate()
        } catch {
            throw error.located(in: "envelope")
        }
    }
}

extension StreamContent {
    init(cbor: CBORValue, index: Int) throws {
        switch cbor {
        case .bytes(let bytes): self = .bytes(bytes)
        case .text("payload"): self = .payload
        case .text("manifest"): self = .manifest
        case .map:
            var fields = try CBORMapReader(envelopePart: cbor, what: "envelope stream \(index)")
            self = .deferred(size: try fields.count("deferred", limit: UInt64(Envelope.maximumItemSize)))
            try fields.finish()
        default:
            throw CPKError.invalid(
                "envelope stream \(index) must be bytes, \"payload\", \"manifest\" or {\"deferred\": size}, not \(cbor.typeName)")
        }
    }
}

extension LogEntry {
    init(cbor: CBORValue) throws {
        var fields = try CBORMapReader(envelopePart: cbor, what: "envelope log entry")
        tool = try fields.text("tool")
        action = try fields.text("action")
        time = try fields.text("time")
        try fields.finish()
    }
}

extension EnvelopeTrailer {
    init(cbor: CBORValue) throws {
        var fields = try CBORMapReader(envelopePart: cbor, what: "envelope trailer")
        payloadSize = try fields.count("payload-size", limit: UInt64.max)
        guard case .map(let entries) = try fields.value("streams") else {
            throw CPKError.invalid("envelope trailer: streams must be a map of stream index to bytes")
        }
        var streams: [Int: [UInt8]] = [:]
        for entry in entries {
            guard case .unsigned(let index) = entry.key, index <= UInt64(UInt16.max),
                case .bytes(let bytes) = entry.value
            else { throw CPKError.invalid("envelope trailer: streams must map stream indexes to bytes") }
            guard streams.updateValue(bytes, forKey: Int(index)) == nil else {
                throw CPKError.invalid("envelope trailer: stream \(index) appears twice")
            }
        }
        self.streams = streams
        try fields.finish()
    }
}

extension CBORMapReader {
    /// The envelope's parts: a missing field is reported before the map's own faults, in the words the envelope published.
    init(envelopePart value: CBORValue, what: String) throws {
        try self.init(value, what: what, keyFaults: .refusedLast)
    }

    /// The optional `pending-signatures` array: distinct stream indexes, not empty when present.
    mutating func pendingSignatures() throws -> [Int] {
        guard contains("pending-signatures") else { return [] }
        guard case .array(let items) = try value("pending-signatures"), !items.isEmpty else {
            throw CPKError.invalid("\(what): pending-signatures must be a non-empty array of stream indexes")
        }
        var indexes: [Int] = []
        for item in items {
            guard case .unsigned(let index) = item, index <= UInt64(UInt16.max), !indexes.contains(Int(index)) else {
                throw CPKError.invalid("\(what): pending-signatures must hold distinct stream indexes")
            }
            indexes.append(Int(index))
        }
        return indexes
    }
}
