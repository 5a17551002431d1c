import ArgumentParser
import CPKCLI

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
