import ArgumentParser
import CPKCLI

struct Seal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-seal",
        abstract: "Encrypt the payload of a package with AES-256-GCM under a key from a key store.",
        discussion: "Not implemented yet: it arrives with the sealing work (issue 4). Until then it does nothing and exits with status 2.")

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var arguments: [String] = []

    func run() throws {
        throw notYetAvailable(arrivesWith: "the sealing work (issue 4)")
    }
}

Seal.runTool()
