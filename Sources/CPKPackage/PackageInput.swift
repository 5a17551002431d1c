import CPKCore
import CPKEnvelope
import CPKFormat

/// A package being read, whether it arrives as an envelope or as a finished `.cpk`.
///
/// Every tool that reads a package reads it through this: first the head, then the payload in
/// chunks, then the streams that follow the payload.
public protocol PackageInput: AnyObject {
    /// How messages name the input.
    var name: String { get }
    var head: PackageHead { get }
    /// The steps earlier tools applied (empty for a `.cpk`).
    var log: [LogEntry] { get }
    /// The next piece of payload, valid until the next call (or the call after it, with
    /// `keepsPreviousChunk`); nil at the end of the payload.
    func nextPayloadChunk() throws -> UnsafeRawBufferPointer?
    /// True when a chunk stays valid through one more `nextPayloadChunk()` (the input reads
    /// into two buffers in turn), so a tool may read the next chunk on one core while the other
    /// still works on this one.
    var keepsPreviousChunk: Bool { get }
    /// The deferred streams of the head, by index; reads past any unread payload.
    func deferredStreams() throws -> [Int: [UInt8]]
    /// Passes the next piece of payload to `body`, which must take all of it (the part still
    /// in the input too: `PackageOutput.writePayload(passing:)`) before the input is read
    /// again; false at the end of the payload. For a tool that passes the payload on
    /// unchanged, so the bytes need not cross this process.
    func passNextPayloadChunk(_ body: (PassedBytes) throws -> Void) throws -> Bool
    /// Called with the size of each payload chunk as it is read (a tool's progress line);
    /// whoever reads the payload, the tool reports its progress without knowing the loop.
    var onPayloadChunk: ((Int) -> Void)? { get set }
}

extension PackageInput {
    public var keepsPreviousChunk: Bool { false }

    public func passNextPayloadChunk(_ body: (PassedBytes) throws -> Void) throws -> Bool {
        guard let chunk = try nextPayloadChunk() else { return false }
        try body(PassedBytes(chunk))
        return true
    }
}

public enum InputKind: String, Sendable {
    case envelope
    case cpk
}

/// Opens `path` ("-" for standard input) and recognises an envelope or a `.cpk` by its first
/// bytes; `oci:DIR[:TAG]` names a `.cpk` shipped as an OCI artifact in an image layout, whose
/// digest is checked before it is opened (a file whose name starts with `oci:` is `./oci:…`).
public func openPackage(_ path: String) throws -> PackageInput {
    if path.hasPrefix(OCIArtifact.scheme) {
        return try OCILayoutReader.openPackage(
            OCILocation(parsing: String(path.dropFirst(OCIArtifact.scheme.count)), what: "the input"))
    }
    let file = path == "-" ? FileDescriptor.standardInput : try FileDescriptor.open(forReading: path)
    // A package is binary: read from a terminal, the tool would only wait there in silence.
    if path == "-" && file.isTerminal {
        throw CPKError.usage("standard input is a terminal: give a package file, or pipe one in (e.g. cpk-pack ... | ...)")
    }
    return try openPackage(file)
}

public func openPackage(_ file: FileDescriptor) throws -> PackageInput {
    let seekable = file.isSeekable
    var prefix = [UInt8](repeating: 0, count: 4)
    let got: Int
    if seekable {
        got = Int(min(4, try file.status().size))
        try prefix.withUnsafeMutableBytes {
            try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<got]), at: 0, what: "the first bytes")
        }
    } else {
        got = try prefix.withUnsafeMutableBytes { try file.readFully(into: $0) }
    }
    prefix = Array(prefix[0..<got])
    if prefix.starts(with: Envelope.magicBytes) {
        return try EnvelopeInput(reader: EnvelopeReader(input: file, prefix: seekable ? [] : prefix))
    }
    if prefix == Frame.magicBytes {
        let random = seekable ? file : try spool(file, prefix: prefix)
        return try PackageFileInput(PackageFile(file: random), name: file.name)
    }
    if prefix.isEmpty {
        throw CPKError.invalid("\(file.name) is empty; expected an envelope or a .cpk package")
    }
    throw CPKError.invalid(
        "\(file.name) is neither an envelope (starts D9 D9 F7) nor a .cpk package (starts 0D F0 CC 0E)")
}

/// Copies a pipe into an anonymous temporary file, so a `.cpk` on it can be read at random.
private func spool(_ input: FileDescriptor, prefix: [UInt8]) throws -> FileDescriptor {
    let copy = try TemporaryFile.anonymous(purpose: "copy of \(input.name)", name: input.name)
    try copy.write(prefix)
    try Chunks.forEach(in: input) { try copy.write($0) }
    return copy
}

/// Reads an envelope.
final class EnvelopeInput: PackageInput {
    let reader: EnvelopeReader
    var name: String { reader.name }
    var head: PackageHead { reader.header.package }
    var log: [LogEntry] { reader.header.log }

    var onPayloadChunk: ((Int) -> Void)?

    init(reader: EnvelopeReader) { self.reader = reader }

    func nextPayloadChunk() throws -> UnsafeRawBufferPointer? {
        let chunk = try reader.nextChunk()
        if let chunk { onPayloadChunk?(chunk.count) }
        return chunk
    }
    func passNextPayloadChunk(_ body: (PassedBytes) throws -> Void) throws -> Bool {
        try reader.passNextChunk { bytes in
            try body(bytes)
            onPayloadChunk?(bytes.count)
        }
    }
    func deferredStreams() throws -> [Int: [UInt8]] { try reader.trailer().streams }
}

/// Reads a finished `.cpk`: every stream but the payload is small and read on opening.
public final class PackageFileInput: PackageInput {
    public let package: PackageFile
    public let name: String
    public let head: PackageHead
    public var log: [LogEntry] { [] }
    public var onPayloadChunk: ((Int) -> Void)?
    private var payloadOffset: UInt64 = 0
    /// Payload chunks are read into these in turn (`keepsPreviousChunk`).
    private let buffers = [
        UnsafeMutableRawBufferPointer.allocate(byteCount: Chunks.size, alignment: 16),
        UnsafeMutableRawBufferPointer.allocate(byteCount: Chunks.size, alignment: 16),
    ]
    private var turn = 0
    public var keepsPreviousChunk: Bool { true }
    /// The most memory the streams other than the payload may take together.
    static let smallStreamsLimit: UInt64 = 64 << 20

    init(_ package: PackageFile, name: String) throws {
        self.package = package
        self.name = name
        let payloadIndex = package.manifest.payload.data
        var streams: [StreamContent] = []
        var held: UInt64 = 0
        for index in 0..<package.streamCount {
            switch index {
            case payloadIndex: streams.append(.payload)
            case package.header.manifestIndex: streams.append(.manifest)
            default:
                held += package.entries[index].size
                guard held <= Self.smallStreamsLimit else {
                    throw CPKError.invalid(
                        "\(name): the streams besides the payload exceed \(Self.smallStreamsLimit) bytes; this is not a package this tool accepts")
                }
                streams.append(.bytes(try package.readStream(index)))
            }
        }
        head = PackageHead(
            manifest: package.manifest, manifestIndex: package.header.manifestIndex, streams: streams,
            payloadSize: package.entries[payloadIndex].size,
            storedManifest: .init(bytes: package.manifestBytes, manifest: package.manifest))
    }

    deinit { buffers.forEach { $0.deallocate() } }

    public func nextPayloadChunk() throws -> UnsafeRawBufferPointer? {
        let index = head.manifest.payload.data
        let size = package.entries[index].size
        guard payloadOffset < size else { return nil }
        let buffer = buffers[turn]
        turn = 1 - turn
        let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(UInt64(buffer.count), size - payloadOffset))])
        try package.file.read(into: piece, at: package.absoluteOffset(of: index) + payloadOffset, what: "the payload")
        payloadOffset += UInt64(piece.count)
        onPayloadChunk?(piece.count)
        return UnsafeRawBufferPointer(piece)
    }

    /// The payload stays in the file: the receiver moves it from there (at its offset).
    public func passNextPayloadChunk(_ body: (PassedBytes) throws -> Void) throws -> Bool {
        let index = head.manifest.payload.data
        let size = package.entries[index].size
        guard payloadOffset < size else { return false }
        let count = Int(min(UInt64(Chunks.size), size - payloadOffset))
        try body(PassedBytes(
            buffered: UnsafeRawBufferPointer(start: nil, count: 0), source: package.file,
            offset: package.absoluteOffset(of: index) + payloadOffset, count: count,
            truncation: CPKError.invalid("\(name): file ends inside the payload")))
        payloadOffset += UInt64(count)
        onPayloadChunk?(count)
        return true
    }

    public func deferredStreams() throws -> [Int: [UInt8]] { [:] }
}

/// The chunk size of payload reads and writes, and a loop over a descriptor's bytes.
public enum Chunks {
    public static let size = Envelope.chunkSize

    /// Calls `body` with successive pieces of `input` until it ends.
    public static func forEach(in input: FileDescriptor, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try input.readFully(into: buffer)
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            if n < size { return }
        }
    }
}
