import ArgumentParser
import CPKCLI
import CPKKeyfetchCLI

/// `cpk-keyfetch enroll`: TPM enrollment, the cloud's side (KeyfetchFrontend.enroll*).
struct Enroll: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enroll devices' TPM attestation keys: challenge with a credential, record the device when answered.",
        discussion: """
            challenge reads an enrollment request (cpk-install attest enroll-request): it checks \
            that the EK certificate chains to a manufacturer CA given with --ek-ca, that it \
            certifies the EK sent with it, and that the AK is a restricted signing key made in \
            its TPM (RSA-2048 RSASSA-SHA256 or ECC P-256 ECDSA-SHA256); then it writes a \
            challenge: a credential (TPM2_MakeCredential) only that TPM can open, for that AK. \
            The registry keeps the SHA-256 of the secret in DIR/pending/DEVICE_ID.json (0600). \
            finish reads the device's response (cpk-install attest activate) and records the \
            device in DIR/devices/DEVICE_ID.json; an answer is accepted once, within an hour. \
            list prints the enrolled device ids.

            Examples:
              cpk-keyfetch enroll challenge --ek-ca tpm-vendor-ca.pem --registry tpm/ \\
                request.json -o challenge.json
              cpk-keyfetch enroll finish --registry tpm/ response.json
              cpk-keyfetch enroll list --registry tpm/ --json

            Exit status: 0 success, 1 a refused request or response, 2 usage or I/O error.
            """,
        subcommands: [Challenge.self, Finish.self, List.self])

    struct Challenge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check an enrollment request and write its challenge.")
        @Argument(help: ArgumentHelp("The enrollment request; - is standard input.", valueName: "request")) var request = "-"
        @Option(help: ArgumentHelp("A trusted TPM manufacturer CA (PEM); repeatable.", valueName: "file"), completion: .file())
        var ekCa: [String] = []
        @Option(help: ArgumentHelp("The enrollment registry directory.", valueName: "dir"), completion: .directory) var registry: String
        @Option(name: .shortAndLong, help: ArgumentHelp("Write the challenge to FILE; - is standard output.", valueName: "file"))
        var output = "-"
        @Flag(help: "Errors as a JSON document on standard output.") var json = false
        @OptionGroup var messages: MessageOptions

        func run() throws {
            try KeyfetchFrontend.enrollChallenge(
                request: request, ekCAs: ekCa, registry: registry, output: output, json: json, messages: messages)
        }
    }

    struct Finish: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a device's response and record the device.")
        @Argument(help: ArgumentHelp("The enrollment response; - is standard input.", valueName: "response")) var response = "-"
        @Option(help: ArgumentHelp("The enrollment registry directory.", valueName: "dir"), completion: .directory) var registry: String
        @Flag(help: "Print the enrolled device as JSON on standard output.") var json = false
        @OptionGroup var messages: MessageOptions

        func run() throws {
            try KeyfetchFrontend.enrollFinish(response: response, registry: registry, json: json, messages: messages)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the enrolled device ids.")
        @Option(help: ArgumentHelp("The enrollment registry directory.", valueName: "dir"), completion: .directory) var registry: String
        @Flag(help: "Print the devices as JSON.") var json = false
        // Nothing to say but errors; here for the same flags on every command.
        @OptionGroup var messages: MessageOptions

        func run() throws {
            try KeyfetchFrontend.enrollList(registry: registry, json: json)
        }
    }
}
