import CPKCore
import CPKEnvelope
import CPKFormat
import CPKPackage

// The package parsers: the .cpk frame, stream table and manifest (`cpk`), the manifest JSON
// alone (`manifest`), and the envelope (`envelope`). Beyond refusing bad input cleanly, what a
// reader accepts must survive the tools' conversions: a .cpk written as an envelope
// (`cpk-unpack envelope`) and an envelope written as a .cpk (`cpk-pack finish`) read back to
// the same manifest, payload and streams.

private let inputFile = ScratchFile("fuzz input")
private let outputFile = ScratchFile("fuzz output")

/// A `.cpk` as a tool opens a file: random access, every check of format.md §5, then the
/// summary `cpk-unpack` prints and the conversion to an envelope.
func fuzzPackageFile(_ bytes: [UInt8]) {
    guard let package = refusing("reading the .cpk", { try PackageFile(file: inputFile.holding(bytes)) }) else { return }
    for index in 0..<package.streamCount {
        let end = package.absoluteOffset(of: index) + package.entries[index].size
        expect(end <= UInt64(bytes.count), "stream \(index) was accepted although it ends beyond the input")
    }
    expectRoundTrip(package.manifest)
    expectSummary { try openPackage(inputFile.rewound()) }
    guard let input = refusing("opening the .cpk as a package input", { try openPackage(inputFile.rewound()) }) else { return }
    expectRewritable(input, as: .envelope)
}

/// An envelope as a tool meets it in a pipeline: on a pipe, its first bytes already taken to
/// recognise it; then the summary, and the conversion to a `.cpk`.
func fuzzEnvelope(_ bytes: [UInt8]) {
    guard bytes.starts(with: Envelope.magicBytes) else { return }
    let source = { pipeHolding(bytes, name: "standard input") ?? inputFile.holding(bytes) }
    expectSummary { try openPackage(source()) }
    guard let input = refusing("opening the envelope", { try openPackage(source()) }) else { return }
    expectRewritable(input, as: .cpk)
}

/// The manifest JSON alone; an accepted manifest must serialize and parse back unchanged, and
/// a package laid out as it says must be written and read back.
func fuzzManifest(_ bytes: [UInt8]) {
    guard let manifest = refusing("parsing the manifest", { try Manifest(encoded: bytes) }) else { return }
    expectRoundTrip(manifest)
    guard let head = headFitting(manifest) else { return }
    guard refusing("validating a head made to fit", { try head.validate() }) != nil else { return }
    let payload = Array(bytes.prefix(7))
    var withSize = head
    withSize.payloadSize = UInt64(payload.count)
    let input = HeldPackage(head: withSize, payload: payload, deferred: [:])
    expectRewritable(input, as: .cpk)
}

/// Serializing a manifest and parsing it back gives the same manifest.
func expectRoundTrip(_ manifest: Manifest) {
    let encoded = manifest.encoded
    do {
        let again = try Manifest(encoded: encoded)
        expect(again == manifest, "the manifest changed through serialization: \(String(decoding: encoded, as: UTF8.self))")
    } catch {
        fatalError("a serialized manifest is refused (\(error)): \(String(decoding: encoded, as: UTF8.self))")
    }
}

/// What `cpk-unpack info` computes; its JSON must parse back to the same value.
private func expectSummary(_ open: () throws -> PackageInput) {
    guard let summary = refusing("summarizing", { try PackageSummary(reading: try open()) }) else { return }
    let json = summary.json
    let text = json.compactText
    do {
        let again = try JSONValue(parsing: Array(text.utf8))
        expect(again == json, "the summary's JSON does not parse back to itself: \(text)")
    } catch {
        fatalError("the summary's JSON is not JSON (\(error)): \(text)")
    }
    _ = summary.text
}

/// Writes `input` as `format`, as `cpk-pack finish` and `cpk-unpack envelope` do; a writer may
/// refuse (a CPKError), but what it writes must read back to the same package.
private func expectRewritable(_ input: PackageInput, as format: OutputFormat) {
    let output = makePackageOutput(format, to: outputFile.reset())
    let head = input.head
    var payload: [UInt8] = []
    var deferred: [Int: [UInt8]] = [:]
    let written: Void? = refusing("writing as \(format.rawValue)") {
        try output.begin(head: head, log: input.log)
        while let chunk = try input.nextPayloadChunk() {
            payload.append(contentsOf: chunk)
            try output.writePayload(chunk)
        }
        deferred = try input.deferredStreams()
        try output.finish(deferredStreams: deferred)
    }
    guard written != nil else { return }
    let again: PackageInput
    let againPayload: [UInt8]
    let againDeferred: [Int: [UInt8]]
    do {
        again = try openPackage(outputFile.rewound())
        againPayload = try drain(again.nextPayloadChunk)
        againDeferred = try again.deferredStreams()
    } catch {
        fatalError("the \(format.rawValue) written from an accepted package is refused: \(error)")
    }
    expect(again.head.manifest == head.manifest, "the manifest changed when written as \(format.rawValue)")
    expect(againPayload == payload, "the payload changed when written as \(format.rawValue)")
    expect(
        streamBytes(head, deferred) == streamBytes(again.head, againDeferred),
        "the streams changed when written as \(format.rawValue)")
}

/// Every stream's bytes but the payload's and the manifest's, wherever they travel.
private func streamBytes(_ head: PackageHead, _ deferred: [Int: [UInt8]]) -> [Int: [UInt8]] {
    var result: [Int: [UInt8]] = [:]
    for (index, content) in head.streams.enumerated() {
        switch content {
        case .bytes(let bytes): result[index] = bytes
        case .deferred: result[index] = deferred[index]
        case .payload, .manifest: break
        }
    }
    return result
}

/// A head with every stream the manifest names, each of the size its scheme fixes, and the
/// manifest last; nil when that needs more streams than a package may have.
private func headFitting(_ manifest: Manifest) -> PackageHead? {
    let highest = (manifest.references.map(\.index) + manifest.package.map).max() ?? 0
    let count = highest + 2
    guard count <= Int(UInt16.max) else { return nil }
    let roles = manifest.roles(streamCount: count, manifestIndex: count - 1)
    let streams: [StreamContent] = roles.map { role in
        switch role {
        case .payload: return .payload
        case .manifest: return .manifest
        default: return .bytes([UInt8](repeating: 0xA5, count: Int(manifest.expectedSize(of: role) ?? 3)))
        }
    }
    return PackageHead(manifest: manifest, manifestIndex: count - 1, streams: streams, payloadSize: nil)
}

/// A package already in memory, as a `PackageInput`.
private final class HeldPackage: PackageInput {
    let name = "a package made to fit the manifest"
    let head: PackageHead
    let log: [LogEntry] = []
    var onPayloadChunk: ((Int) -> Void)?
    private let payload: UnsafeMutableRawBufferPointer
    private var payloadGiven = false
    private let deferred: [Int: [UInt8]]

    init(head: PackageHead, payload: [UInt8], deferred: [Int: [UInt8]]) {
        self.head = head
        self.payload = .allocate(byteCount: payload.count, alignment: 16)
        self.payload.copyBytes(from: payload)
        self.deferred = deferred
    }

    deinit { payload.deallocate() }

    func nextPayloadChunk() throws -> UnsafeRawBufferPointer? {
        guard !payloadGiven, payload.count > 0 else { return nil }
        payloadGiven = true
        return UnsafeRawBufferPointer(payload)
    }

    func deferredStreams() throws -> [Int: [UInt8]] { deferred }
}
