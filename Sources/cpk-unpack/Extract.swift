import ArgumentParser
import CPKCLI

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
