import ArgumentParser
import CPKCLI

struct KeyFetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-keyfetch",
        abstract: "Obtain a key from a key store, wrapped to a public key; provision keys.",
        discussion: "Not implemented yet: it arrives with the keys work (issue 3). Until then it does nothing and exits with status 2.")

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var arguments: [String] = []

    func run() throws {
        throw notYetAvailable(arrivesWith: "the keys work (issue 3)")
    }
}

KeyFetch.runTool()
