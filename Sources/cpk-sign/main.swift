import ArgumentParser
import CPKCLI

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-sign",
        abstract: "Sign the payload digest and/or the package, online or offline.",
        discussion: "Not implemented yet: it arrives with the signing work (issue 5). Until then it does nothing and exits with status 2.")

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var arguments: [String] = []

    func run() throws {
        throw notYetAvailable(arrivesWith: "the signing work (issue 5)")
    }
}

Sign.runTool()
