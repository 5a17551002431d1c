import ArgumentParser
import CPKCLI

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the Package Manager: contract version, supported calls, state, device key fingerprint.")

    @Flag(help: "Print JSON instead of text.") var json = false
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try StatusFrontend.status(json: json, state: stateOptions)
    }
}

struct CheckState: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-state",
        abstract: "Check the simulator's state: every class key opens, every application decrypts and matches its digest.")

    @OptionGroup var stateOptions: StateOptions
    @Flag(help: "Print the report as JSON.") var json = false

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try StatusFrontend.checkState(json: json, state: stateOptions)
    }
}
