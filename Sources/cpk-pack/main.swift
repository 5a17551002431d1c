import ArgumentParser
import CPKCLI

struct Pack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-pack",
        abstract: "Turn a payload into a confidential package envelope, or finish an envelope into a .cpk.",
        discussion: """
            cpk-pack create (the default) reads a payload and writes an envelope: the payload as \
            chunks, its SHA-256, and a manifest. Other tools (cpk-seal, cpk-sign) read the \
            envelope on standard input; cpk-pack finish (or --cpk on the last tool) writes the \
            final .cpk file. With SOURCE_DATE_EPOCH set (and no --date), the same \
            payload and options give the same bytes.

            Examples:
              cpk-pack --id test app.bin > app.env
              cpk-pack --id test --display-name Demo --vendor Acme \\
                --app-version 1.2.0 app.bin | cpk-pack finish -o app.cpk
              tar c app/ | cpk-pack --id test --cpk -o app.cpk -
              SOURCE_DATE_EPOCH=0 cpk-pack --id test --cpk -o app.cpk app.bin

            Exit status: 0 success, 1 invalid input, 2 usage or I/O error.
            """,
        version: ToolVersion.line("cpk-pack"),
        subcommands: [Create.self, Finish.self],
        defaultSubcommand: Create.self)
}

Pack.runTool()
