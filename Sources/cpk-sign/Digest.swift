import ArgumentParser
import CPKCLI

/// The bytes to sign of a pending signature, again.
struct DigestToSign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest", abstract: "Print the bytes an offline signer must sign for a pending signature.")

    @Option(help: ArgumentHelp("raw, hex or base64.", valueName: "format"))
    var format: DigestFormat = .raw

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @OptionGroup var input: PackageInputArgument

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try SignFrontend.digest(input: input.input, format: format, output: output)
    }
}
