import ArgumentParser
import CPKCLI

struct Attest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enroll this device's TPM with the cloud: the request, then the answer to its challenge.",
        discussion: """
            The device's half of a TPM enrollment (docs/keys.md §4). enroll-request makes an \
            attestation key (AK) in the TPM, or reuses the one at --ak-handle, and writes the \
            EK certificate the manufacturer put in NV 0x01c00002, the EK's public area and the \
            AK's; cpk-keyfetch enroll challenge answers with a credential only this TPM can open \
            for this AK, which activate opens (TPM2_ActivateCredential) into the response.

            The TPM is reached through --tcti, else the TCTI of a tpm: device key, else \
            $TPM2TOOLS_TCTI, else tctildr's default (/dev/tpmrm0).

            Examples:
              cpk-install attest enroll-request --device-id dev-01 -o dev-01.request.json
              cpk-install attest activate dev-01.challenge.json -o dev-01.response.json
              cpk-install attest enroll-request --tcti swtpm:path=/run/swtpm.sock
            """,
        subcommands: [AttestEnrollRequest.self, AttestActivate.self])
}

/// The options both steps share: where the TPM and the AK are.
struct TPMOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The TPM's TCTI, e.g. swtpm:path=SOCKET or device:/dev/tpmrm0.", valueName: "tcti"))
    var tcti: String?
    @Option(help: ArgumentHelp("The persistent handle of the attestation key (default 0x81010011).", valueName: "handle"))
    var akHandle: String?
}

struct AttestEnrollRequest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll-request", abstract: "Write the enrollment request: EK certificate, EK and AK public areas.")

    @Option(help: ArgumentHelp(
        "The device's name in the fleet: letters, digits, '.', '_', '-' (default: the provisioned id, else the host name).",
        valueName: "name"))
    var deviceId: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"))
    var output = "-"
    @OptionGroup var tpm: TPMOptions
    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var messages: MessageOptions

    func run() throws {
        try AttestFrontend.enrollRequest(tcti: tpm.tcti, akHandle: tpm.akHandle, deviceID: deviceId, output: output, state: stateOptions)
    }
}

struct AttestActivate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate", abstract: "Open the cloud's challenge in the TPM and write the response.")

    @Argument(help: ArgumentHelp("The challenge; - is standard input.", valueName: "challenge"), completion: .file())
    var challenge = "-"
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"))
    var output = "-"
    @OptionGroup var tpm: TPMOptions
    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var messages: MessageOptions

    func run() throws {
        try AttestFrontend.activate(challenge: challenge, tcti: tpm.tcti, akHandle: tpm.akHandle, output: output, state: stateOptions)
    }
}
