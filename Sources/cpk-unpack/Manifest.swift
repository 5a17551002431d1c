import ArgumentParser
import CPKCLI

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
