import ArgumentParser
import CPKCLI
import CPKFormat

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

    @Option(name: .customLong("app-version"), help: ArgumentHelp("The application's version.", valueName: "maj.min.rev"))
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
