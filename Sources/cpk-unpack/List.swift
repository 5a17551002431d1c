import ArgumentParser
import CPKCLI

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
