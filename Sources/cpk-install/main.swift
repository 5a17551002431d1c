import ArgumentParser
import CPKCLI

struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-install",
        abstract: "Install a package into the Confidential Package Manager (or its simulator).",
        discussion: "Not implemented yet: it arrives with the installing work (issue 6). Until then it does nothing and exits with status 2.")

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var arguments: [String] = []

    func run() throws {
        throw notYetAvailable(arrivesWith: "the installing work (issue 6)")
    }
}

Install.runTool()
