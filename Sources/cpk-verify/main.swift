import ArgumentParser
import CPKCLI

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-verify",
        abstract: "Check the digests, signatures and certificates of a package.",
        discussion: "Not implemented yet: it arrives with the signing work (issue 5). Until then it does nothing and exits with status 2.")

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var arguments: [String] = []

    func run() throws {
        throw notYetAvailable(arrivesWith: "the signing work (issue 5)")
    }
}

Verify.runTool()
