import ArgumentParser
import CPKCLI
import CPKPackage

/// Removes signatures, so that a package can be signed again (offline above all).
struct Strip: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strip",
        abstract: "Remove the payload and/or package signature (both by default), e.g. before re-signing offline.",
        discussion: """
            A signature goes with its certificate stream, a package signature with its \
            digest; the package map then covers every stream again. The payload signature \
            alone cannot be stripped while a package signature covers it. A pending offline \
            signature can be stripped too.
            """)

    @Flag(help: "Strip the payload signature.")
    var payload = false

    @Flag(help: "Strip the package signature (and digest).")
    var package = false

    @OptionGroup var input: PackageInputArgument
    @OptionGroup var output: PackageOutputOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try SignFrontend.strip(
            targets: SignatureTarget.selected(payload: payload, package: package), input: input.input, output: output)
    }
}
