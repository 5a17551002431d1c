import ArgumentParser
import CPKCLI
import CPKCore

struct PublicKeyExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "public-key",
        abstract: "Write the device public key (made on first need), by default as DER RSAPublicKey.",
        discussion: """
            Formats: pkcs1 (DER RSAPublicKey, what export_device_public_key returns), pkcs1-pem, \
            der (DER SubjectPublicKeyInfo), pem, base64 (of the SubjectPublicKeyInfo, for cloud \
            contracts and device twins), fingerprint (SHA-256 of the SubjectPublicKeyInfo). The \
            private half never leaves the Package Manager.
            """)

    @Option(help: ArgumentHelp("pkcs1, pkcs1-pem, der, pem, base64 or fingerprint.", valueName: "format"))
    var format = PublicKeyFormat.pkcs1
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try KeysFrontend.publicKey(format: format, output: output, state: stateOptions)
    }
}

struct AddKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-key",
        abstract: "Install a class key wrapped to the device public key (install_application_key).",
        discussion: """
            Reads a wrapped-key document from cpk-keyfetch (it names the key and the public key \
            it is wrapped to, which must be this device's), or a bare wrapped key, as base64 \
            (the reference's "commandline" method) or raw bytes, which needs --id. The Package \
            Manager takes keys wrapped with RSA PKCS#1 v1.5.
            """)

    @Argument(help: ArgumentHelp("The wrapped key: a file, or - for standard input.", valueName: "input"), completion: .file())
    var input = "-"
    @Option(help: ArgumentHelp("The application id the key belongs to (a document names its own).", valueName: "id"))
    var id: String?
    @OptionGroup var stateOptions: StateOptions
    @Flag(help: "Print what was installed as JSON (never the key).") var json = false

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try KeysFrontend.addKey(input: input, id: id, json: json, state: stateOptions, messages: messages)
    }
}

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install class keys wrapped to this device: one from a key store, or every one of a device-twin document.",
        discussion: """
            With --id, the reference's "sync": export the device public key, have the key store \
            wrap the class key to it (RSA PKCS#1 v1.5), install it. The key store is --file-store, \
            --url (through cpk-keyfetch), --twin (a device-twin document's \
            confidential_package_keys), else CP_FILE_KEY_SOURCE or CP_CLOUD_KEY_SOURCE.

            Without --id, --twin DOC is a key release signed by the fleet operator (from \
            cpk-keyfetch distribute). It is applied only when its signature chains to the fleet \
            anchor (cpk-install trust add --fleet), it names this device's id and key, its \
            generation is above the last one applied and it has not expired; otherwise nothing \
            changes and one line says why (exit status 1). Then every key in it is installed; one \
            line says which names were applied and which refused (--json: an object), exit \
            status 1 if any was refused. Every key that does not unwrap is refused in the same \
            words, whatever the cause. --insecure-unsigned-twin also applies an unsigned \
            document (the reference contract, RSA PKCS#1 v1.5): for development only, warned \
            on every use.

            Examples:
              cpk-install trust add --fleet fleet-operator.crt --device-id dev-01
              cpk-install sync --twin dev-01.json
              cpk-install sync --id test --file-store test.json
            """)

    @Option(
        help: ArgumentHelp("The application id, which is also the key's name.", valueName: "id"),
        completion: .custom(KeyNameCompletion.fromFileStore))
    var id: String?
    @OptionGroup var store: KeyStoreOptions
    @Option(help: ArgumentHelp("A device-twin JSON document with confidential_package_keys (- is standard input).", valueName: "file"), completion: .file())
    var twin: String?
    @Flag(help: "Without --id: print what was applied and refused as JSON.") var json = false
    @Flag(help: "Also apply an unsigned desired-state document (development only; warned on every use).")
    var insecureUnsignedTwin = false
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        guard let id else {
            guard let twin, store.flags.isEmpty else {
                throw CPKError.usage("give --id ID (one key from a key store), or --twin FILE alone (every key of the document)")
            }
            return try KeysFrontend.apply(
                document: twin, allowUnsigned: insecureUnsignedTwin, json: json, state: stateOptions, messages: messages)
        }
        if json { throw CPKError.usage("--json goes with a whole twin document (sync --twin FILE without --id)") }
        if insecureUnsignedTwin { throw CPKError.usage("--insecure-unsigned-twin goes with a whole twin document (sync --twin FILE without --id)") }
        try KeysFrontend.sync(.init(id: id, store: store, twin: twin, state: stateOptions, messages: messages))
    }
}
