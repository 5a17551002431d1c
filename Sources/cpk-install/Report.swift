import ArgumentParser
import CPKCLI

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write this device's reported-state document (DistributeKey), for its twin.",
        discussion: """
            One line of JSON: the device id, the contract version, the device public key (base64 \
            DER SubjectPublicKeyInfo), the device certificate when --device-cert gives one, the \
            installed class keys (names and install times, never values) and the installed \
            applications (id, version, payload SHA-256, signer, install time). A device agent \
            pushes it to the device's twin as is; cpk-keyfetch distribute reads it. Shape: \
            docs/keys.md.

            Examples:
              cpk-install report --device-id dev-01 > dev-01.json
              cpk-install report --device-cert dev-01.crt >> reports.jsonl
              cpk-install report --nonce 5f3a9c0e11d2 --pcrs sha256:0,1,7

            A device key held in a TPM (--device-key tpm:...) adds tpm_evidence: the key's TPM \
            public area and a TPM2_Certify of it by the attestation key (cpk-install attest), \
            over --nonce when given; with --pcrs also a TPM2_Quote of those PCRs over the nonce.
            """)

    @Option(help: ArgumentHelp(
        "The device's name in the fleet: letters, digits, '.', '_', '-' (default: the host name).", valueName: "name"))
    var deviceId: String?
    @Option(help: ArgumentHelp("The device certificate (PEM or DER), which must certify the device key.", valueName: "file"))
    var deviceCert: String?
    /// The old spelling, kept working but not shown: --cert is the signer's certificate elsewhere.
    @Option(name: .customLong("cert"), help: .hidden) var oldDeviceCert: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"))
    var output = "-"
    @Option(help: ArgumentHelp("The nonce (hex) the verifier gave: the TPM's certify and quote carry it.", valueName: "hex"))
    var nonce: String?
    @Option(help: ArgumentHelp("The PCRs to quote, e.g. sha256:0,1,7 (needs --nonce).", valueName: "bank:list"))
    var pcrs: String?
    @Option(help: ArgumentHelp("The persistent handle of the attestation key (default 0x81010011).", valueName: "handle"))
    var akHandle: String?
    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var messages: MessageOptions

    func run() throws {
        try DeviceReportFrontend.report(
            deviceID: deviceId, certificate: deviceCert ?? oldDeviceCert, output: output, state: stateOptions, nonce: nonce, pcrs: pcrs,
            akHandle: akHandle)
    }
}
