import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKPackage

/// `cpk-unpack`'s subcommands: the summary, the manifest and the stream list of a package;
/// one stream's bytes; the payload, released only after its checks (`PayloadRelease` holds
/// them); and the conversion back to an envelope.
public enum UnpackFrontend {
    static let tool = "cpk-unpack"

    /// `cpk-unpack info`: the package's summary, as lines or JSON.
    public static func info(input: String, json: Bool, output: DocumentOutput = Console.output) throws {
        let summary = try PackageSummary(reading: try openPackage(input))
        try output(json ? summary.json.compactText : summary.text)
    }

    /// `cpk-unpack manifest`: the manifest JSON, once the whole package has been read (a
    /// truncated input is an error, not a manifest).
    public static func manifest(input: String, pretty: Bool, output: DocumentOutput = Console.output) throws {
        let package = try openPackage(input)
        _ = try package.deferredStreams()  // read to the end: a truncated input is an error
        let json = package.head.manifest.json
        try output(pretty ? json.prettyText : json.compactText)
    }

    /// `cpk-unpack list`: the streams, as a table or a JSON array.
    public static func streams(input: String, json: Bool, output: DocumentOutput = Console.output) throws {
        let summary = try PackageSummary(reading: try openPackage(input))
        try output(json ? JSONValue.array(summary.streams.map(\.json)).compactText : summary.streamTable)
    }

    /// `cpk-unpack extract`: the bytes of stream `index` to `output` (an unencrypted payload
    /// only once it matches its digest: `StreamExtraction`).
    public static func extract(stream index: Int, input: String, output: String, messages: MessageOptions) throws {
        let package = try openPackage(input)
        let progress = messages.watch(package, tool: tool, verb: "extracting from")
        defer { progress?.finish() }
        try StreamExtraction.write(stream: index, of: package, to: output)
    }

    /// `cpk-unpack payload`: the plaintext payload to `output`, after the GCM tag, the digest
    /// and (unless `skipSignatures`) the payload signature under `trust` check out.
    public static func payload(
        input: String, keySource: ClassKeyOptions, trust: TrustOptions, skipSignatures: Bool, output path: String,
        messages: MessageOptions
    ) throws {
        let package = try openPackage(input)
        var key: [UInt8]? = nil
        if case .aesGCM(let keyName, _, _, _) = package.head.manifest.payload.encryption {
            key = try keySource.classKey(defaultName: keyName, tool: tool, messages: messages)
        }
        defer { if key != nil { wipe(&key!) } }
        let checks = PayloadRelease.SignatureChecks(trust: try trust.policy(), payloadSignature: !skipSignatures)
        // Decrypted plaintext is a secret (0600, never into a planted FIFO or symlink); an
        // unencrypted payload is no more secret than the package that carries it.
        let output = try OutputFile(path: path, binary: true, secret: key != nil)
        let progress = messages.watch(package, tool: tool, verb: "checking and writing the payload of")
        defer { progress?.finish() }
        try PayloadRelease.release(from: package, to: output, key: key, signatures: checks)
        messages.step(tool, "released the payload of \(TerminalText.escaped(package.name)) after its checks")
    }

    /// `cpk-unpack envelope`: a package (a .cpk, say) as an envelope, a step recorded in its log.
    public static func envelope(input: String, output: String, messages: MessageOptions) throws {
        let package = try openPackage(input)
        let entry = try LogEntry.now(tool: tool, action: "converted \(package.name) to an envelope")
        let progress = messages.watch(package, tool: tool, verb: "converting")
        defer { progress?.finish() }
        try writePackage(to: output, as: .envelope) { try copyPackage(from: package, to: $0, appending: entry) }
    }
}
