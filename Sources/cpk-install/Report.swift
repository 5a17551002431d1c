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
    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var messages: MessageOptions

    func run() throws {
        try DeviceReportFrontend.report(deviceID: deviceId, certificate: deviceCert ?? oldDeviceCert, output: output, state: stateOptions)
    }
}
