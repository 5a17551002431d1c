import ArgumentParser
import CPKCLI

struct Unpack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-unpack",
        abstract: "Read a confidential package: summary, manifest, streams, payload.",
        discussion: """
            Every subcommand reads an envelope or a .cpk file (recognised by its first bytes), \
            from a file or standard input, and checks its structure first.

            Examples:
              cpk-unpack app.cpk                         # human summary
              cpk-unpack info --json app.cpk | jq .id
              cpk-unpack manifest app.cpk | jq .payload.ver
              cpk-unpack list app.cpk
              cpk-unpack extract 3 app.cpk | xxd         # the digest stream
              cpk-unpack payload -o app.bin app.cpk      # checked, then written
              cpk-unpack payload --file-store test.json -o app.bin sealed.cpk
              cpk-unpack envelope app.cpk | cpk-sign ... # back into a pipeline

            Exit status: 0 success, 1 invalid package or failed check, 2 usage or I/O error.
            """,
        version: ToolVersion.line("cpk-unpack"),
        subcommands: [Info.self, ShowManifest.self, List.self, Extract.self, Payload.self, ToEnvelope.self],
        defaultSubcommand: Info.self)
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a summary of the package (the default).")

    @OptionGroup var input: PackageInputArgument
    @Flag(help: "Print JSON instead of text.") var json = false

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try UnpackFrontend.info(input: input.input, json: json)
    }
}

struct ShowManifest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest", abstract: "Print the manifest JSON (compact, one line; --pretty to indent).")

    @OptionGroup var input: PackageInputArgument
    @Flag(help: "Indent the JSON for reading.") var pretty = false

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try UnpackFrontend.manifest(input: input.input, pretty: pretty)
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the streams: index, role, offset (in a .cpk) and size.")

    @OptionGroup var input: PackageInputArgument
    @Flag(help: "Print JSON instead of text.") var json = false

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try UnpackFrontend.streams(input: input.input, json: json)
    }
}

struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the bytes of one stream.",
        discussion: """
            The payload stream of an unencrypted package is written only after its SHA-256 \
            matches the digest stream, as with the payload subcommand. An encrypted payload \
            stream is written as the ciphertext.
            """)

    @Argument(help: "The stream's index (see the list subcommand).") var index: Int
    @OptionGroup var input: PackageInputArgument
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try UnpackFrontend.extract(stream: index, input: input.input, output: output, messages: messages)
    }
}

struct Payload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the plaintext payload, after authenticating it (GCM tag and SHA-256).",
        discussion: """
            An encrypted payload needs its class key, from the same sources as cpk-seal: \
            --wrapped-key with --key, or a key store (--file-store, --url, or \
            CP_FILE_KEY_SOURCE / CP_CLOUD_KEY_SOURCE). Nothing is written unless the AES-GCM \
            tag, the plaintext digest, the package digest and every signature check: a file is \
            created only when complete and checked, and standard output receives bytes only \
            after the checks. Signatures must verify; with a trust input (--ca, --public-key, \
            as for cpk-verify) their signers must also be trusted. --skip-signatures skips the \
            payload signature, for debugging; the tag, digests and package signature are \
            always checked.
            """)

    @OptionGroup var input: PackageInputArgument
    @OptionGroup var keySource: ClassKeyOptions
    @OptionGroup var trust: TrustOptions
    @Flag(help: "Debugging: do not check the payload signature (the tag, digests and package signature still are).")
    var skipSignatures = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try UnpackFrontend.payload(
            input: input.input, keySource: keySource, trust: trust, skipSignatures: skipSignatures, output: output,
            messages: messages)
    }
}

struct ToEnvelope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envelope", abstract: "Turn a .cpk back into an envelope, e.g. to re-sign it.")

    @OptionGroup var input: PackageInputArgument
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try UnpackFrontend.envelope(input: input.input, output: output, messages: messages)
    }
}

Unpack.runTool()
