import ArgumentParser
import CPKCLI

struct Wrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-wrap",
        abstract: "Wrap and unwrap symmetric keys under RSA key pairs; make wrapping key pairs.",
        discussion: "Not implemented yet: it arrives with the keys work (issue 3). Until then it does nothing and exits with status 2.")

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var arguments: [String] = []

    func run() throws {
        throw notYetAvailable(arrivesWith: "the keys work (issue 3)")
    }
}

Wrap.runTool()
