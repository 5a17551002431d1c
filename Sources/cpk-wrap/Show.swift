import ArgumentParser
import CPKCLI

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print what a wrapped-key document records (the wrapped bytes only by size); --json for a script.")

    @Argument(help: ArgumentHelp("A wrapped-key document; - is standard input.", valueName: "wrapped"), completion: .file())
    var input = "-"

    @Flag(help: "Print JSON instead of text.") var json = false
    @OptionGroup var messages: MessageOptions

    func run() throws {
        try WrapFrontend.show(input: input, json: json)
    }
}
