import ArgumentParser
import CPKCLI

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a summary of the package (the default).")

    @OptionGroup var input: PackageInputArgument
    @Flag(help: "Print JSON instead of text.") var json = false

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try UnpackFrontend.info(input: input.input, json: json)
    }
}
