import ArgumentParser
import CPKCLI

struct Unpack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-unpack",
        abstract: "Read a confidential package: summary, manifest, streams, payload.",
        discussion: """
            Every subcommand reads an envelope or a .cpk file (recognised by its first bytes), \
            from a file or standard input, and checks its structure first.

            Examples:
              cpk-unpack app.cpk                         # human summary
              cpk-unpack info --json app.cpk | jq .id
              cpk-unpack manifest app.cpk | jq .payload.ver
              cpk-unpack list app.cpk
              cpk-unpack extract 3 app.cpk | xxd         # the digest stream
              cpk-unpack payload -o app.bin app.cpk      # checked, then written
              cpk-unpack payload --file-store test.json -o app.bin sealed.cpk
              cpk-unpack envelope app.cpk | cpk-sign ... # back into a pipeline

            Exit status: 0 success, 1 invalid package or failed check, 2 usage or I/O error.
            """,
        version: ToolVersion.line("cpk-unpack"),
        subcommands: [Info.self, ShowManifest.self, List.self, Extract.self, Payload.self, ToEnvelope.self],
        defaultSubcommand: Info.self)
}

Unpack.runTool()
