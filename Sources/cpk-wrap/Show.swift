import ArgumentParser
import CPKCLI

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print what a wrapped-key document records, as JSON (the wrapped bytes only by size).")

    @Argument(help: ArgumentHelp("A wrapped-key document; - is standard input.", valueName: "wrapped"), completion: .file())
    var input = "-"

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try WrapFrontend.show(input: input)
    }
}
