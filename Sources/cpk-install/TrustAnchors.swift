import ArgumentParser
import CPKCLI

struct Trust: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Provision trust anchors for signers in the simulator's state.",
        discussion: """
            Anchors provisioned here are the device's trust policy, used by every install \
            together with --ca and --public-key: a certificate is a CA (the signer's \
            certificate must chain to it), a public key is trusted as it is. With --id, an \
            anchor vouches only for those application ids.

            --fleet provisions the fleet operator's anchor instead, with the device's id in the \
            fleet: cpk-install sync --twin applies only key releases signed under it, for this \
            id and this device's key. It is listed and removed under the name "fleet".

            Examples:
              cpk-install trust add release-ca.crt
              cpk-install trust add --id test signer.pub
              cpk-install trust add --fleet fleet-operator.crt --device-id dev-01
            """,
        subcommands: [TrustAdd.self, TrustList.self, TrustRemove.self])
}

struct TrustAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a CA certificate or a public key, for every application or only those given with --id.")

    @Argument(help: ArgumentHelp("A certificate (PEM or DER) or a public key; - is standard input.", valueName: "file"), completion: .file())
    var file: String
    @Option(help: ArgumentHelp("Trust the anchor only for this application id; repeatable.", valueName: "id"))
    var id: [String] = []
    @Flag(help: "The anchor is the fleet operator's: it signs the key releases this device applies (needs --device-id).")
    var fleet = false
    @Option(help: ArgumentHelp("With --fleet: this device's id in the fleet.", valueName: "name"))
    var deviceId: String?
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        if fleet && deviceId == nil { throw ValidationError("--fleet needs --device-id NAME, the id the releases name") }
        if !fleet && deviceId != nil { throw ValidationError("--device-id goes with --fleet") }
        if fleet && !id.isEmpty { throw ValidationError("--id does not go with --fleet: a fleet anchor signs key releases, not applications") }
    }

    func run() throws {
        if fleet, let deviceId { return try TrustFrontend.addFleet(file: file, deviceID: deviceId, state: stateOptions) }
        try TrustFrontend.add(file: file, ids: id, state: stateOptions)
    }
}

struct TrustList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the provisioned anchors: name, kind, the ids they vouch for, subjects and fingerprints.")

    @Flag(help: "Print JSON instead of text.") var json = false
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try TrustFrontend.list(json: json, state: stateOptions)
    }
}

struct TrustRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a provisioned anchor by name.")

    @Argument(help: "The anchor's name, as trust list shows it.") var name: String
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try TrustFrontend.remove(name: name, state: stateOptions)
    }
}
