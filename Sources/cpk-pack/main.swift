import ArgumentParser
import CPKCLI
import CPKFormat

struct Pack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-pack",
        abstract: "Turn a payload into a confidential package envelope, or finish an envelope into a .cpk.",
        discussion: """
            cpk-pack create (the default) reads a payload and writes an envelope: the payload as \
            chunks, its SHA-256, and a manifest. Other tools (cpk-seal, cpk-sign) read the \
            envelope on standard input; cpk-pack finish (or --cpk on the last tool) writes the \
            final .cpk file. With SOURCE_DATE_EPOCH set (and no --date), the same \
            payload and options give the same bytes.

            Examples:
              cpk-pack --id test app.bin > app.env
              cpk-pack --id test --display-name Demo --vendor Acme \\
                --app-version 1.2.0 app.bin | cpk-pack finish -o app.cpk
              tar c app/ | cpk-pack --id test --cpk -o app.cpk -
              SOURCE_DATE_EPOCH=0 cpk-pack --id test --cpk -o app.cpk app.bin

            Exit status: 0 success, 1 invalid input, 2 usage or I/O error.
            """,
        version: ToolVersion.line("cpk-pack"),
        subcommands: [Create.self, Finish.self],
        defaultSubcommand: Create.self)
}

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pack a payload file (or - for standard input) into an envelope.")

    @Argument(help: ArgumentHelp("The application payload; - is standard input.", valueName: "payload"), completion: .file())
    var payload: String

    @Option(help: "Application id: the manifest's cp-id and the name of its encryption key.")
    var id: String

    @Option(help: ArgumentHelp("The application's display name.", valueName: "name"))
    var displayName = "Unknown"

    @Option(help: "Vendor name.")
    var vendor = "Unknown"

    @Option(help: "Target architecture.")
    var arch = "aarch64"

    @Option(help: "Target operating system.")
    var os = "OP-TEE"

    @Option(name: .customLong("app-version"), help: ArgumentHelp("The application's version (default 1.0.0).", valueName: "maj.min.rev"))
    var appVersion = "1.0.0"

    @Option(help: ArgumentHelp(
        "Build date, RFC 3339 (default: now, or SOURCE_DATE_EPOCH when set).", valueName: "timestamp"))
    var date: String?

    @OptionGroup var output: PackageOutputOptions

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        try PackFrontend.validate(id: id, appVersion: appVersion, date: date)
    }

    func run() throws {
        try PackFrontend.create(
            .init(
                payload: payload, id: id, displayName: displayName, vendor: vendor, target: Target(arch: arch, os: os),
                appVersion: appVersion, date: date, output: output, messages: messages))
    }
}

struct Finish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an envelope (or a .cpk) as a finished .cpk package.",
        discussion: "The output is written whole or not at all: a failure leaves no file behind.")

    @OptionGroup var input: PackageInputArgument

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @Option(help: ArgumentHelp(
        "Write the .cpk as an OCI artifact tagged TAG (default latest) in the OCI image layout DIR, created if missing; other tags are kept.",
        valueName: "dir:tag"), completion: .directory)
    var oci: String?

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        if oci != nil && output != "-" {
            throw ValidationError("--oci and --output both name a destination; give one")
        }
    }

    func run() throws {
        try PackFrontend.finish(input: input.input, output: output, oci: oci, messages: messages)
    }
}

Pack.runTool()
