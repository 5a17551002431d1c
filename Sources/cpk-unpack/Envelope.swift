import ArgumentParser
import CPKCLI

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
