import ArgumentParser
import CPKCLI

struct ListApplications: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the installed applications: id, name, version, size, installed at.")

    @Flag(help: "Print JSON instead of text.") var json = false
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try ApplicationsFrontend.list(json: json, state: stateOptions)
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove an installed application (its class key stays installed).")

    @Argument(help: "The application id.", completion: .custom(StateOptions.installedIDs)) var id: String
    @Flag(help: "Also forget its rollback floor and signer, which otherwise bind the next install of the id.")
    var forgetHistory = false
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try ApplicationsFrontend.remove(id: id, forgetHistory: forgetHistory, state: stateOptions, messages: messages)
    }
}

struct DevExportPlaintext: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-export-plaintext",
        abstract: "SIMULATOR ONLY, a development aid: write an installed application's plaintext.",
        discussion: """
            A real Package Manager never lets plaintext out; the simulator does, for tests and \
            debugging, after checking the stored bytes against their tag and digest. A file \
            appears only once checked.
            """)

    @Argument(help: "The application id.", completion: .custom(StateOptions.installedIDs)) var id: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try ApplicationsFrontend.exportPlaintext(id: id, output: output, state: stateOptions)
    }
}
