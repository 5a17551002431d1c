import ArgumentParser
import CPKCLI
import CPKCrypto
import CPKKeyfetchCLI
import CPKKeys

struct KeyFetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-keyfetch",
        abstract: "Get a class key from a key store, wrapped to a public key; provision new keys.",
        discussion: """
            fetch (the default) writes a wrapped-key document: the named key, wrapped to the \
            public key given with --to (a file, or standard input so a device's public key can \
            be piped in), with the key name, the algorithm and the public key's SHA-256. \
            cpk-wrap unwrap, or the Package Manager, takes it from there. No raw key is ever \
            printed or accepted on the command line.

            Key stores: --file-store FILE (JSON: key name to base64 key, for development), \
            --url URL (an HTTP service with the WrapKey contract), --inline FILE (a base64 \
            wrapped key you already hold), --twin FILE (a device-twin document with \
            confidential_package_keys). Without one of those, CP_FILE_KEY_SOURCE or \
            CP_CLOUD_KEY_SOURCE names the store. Key names may be KBS resource URIs \
            (kbs:///repo/type/tag and the other forms); they match repo/type/tag in a store.

            Examples:
              cpk-keyfetch --key-name test --file-store test.json --to device.pub \\
                -o test.wkey
              cpk-wrap public --format pkcs1 device.pem \\
                | cpk-keyfetch --key-name test --url "$CP_CLOUD_KEY_SOURCE" > test.wkey
              cpk-keyfetch --key-name kbs:///default/key/key_id1 \\
                --file-store aa-offline_fs_kbc-keys.json --to device.pub > key_id1.wkey
              cpk-keyfetch --key-name test --twin twin.json --padding pkcs1v15 \\
                --to device.pub --format base64
              cpk-keyfetch provision --key-name app --file-store keys.json
              cpk-keyfetch distribute --file-store keys.json --output-dir desired/ reports/
              cpk-keyfetch provision --key-name app --url https://keys.example/api

            Exit status: 0 success, 1 invalid input (a bad store, key or answer, or a key that \
            is not there), 2 usage error, I/O error, or a key service that cannot be reached.
            """,
        version: ToolVersion.line("cpk-keyfetch"),
        subcommands: [Fetch.self, Provision.self, Distribute.self, KeyProviderCommand.self],
        defaultSubcommand: Fetch.self)
}

struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Write the named key, wrapped to a public key, as a wrapped-key document.")

    @Option(
        name: .customLong("key-name"), help: ArgumentHelp("The key's name: the application id, or a KBS resource URI.", valueName: "name"),
        completion: .custom(KeyNameCompletion.fromFileStore))
    var name: String

    @Option(help: ArgumentHelp("The public key or certificate to wrap to, in any form; - is standard input.", valueName: "public-key"), completion: .file())
    var to = "-"

    @OptionGroup var store: KeyStoreOptions

    @Option(help: ArgumentHelp("A base64 wrapped key you already hold (a file; - is standard input).", valueName: "file"), completion: .file())
    var inline: String?

    @Option(help: ArgumentHelp("A device-twin JSON document with confidential_package_keys (- is standard input).", valueName: "file"), completion: .file())
    var twin: String?

    @Option(help: ArgumentHelp(
        "oaep-sha256, or pkcs1v15: what the Package Manager (add-key), the reference key-store contract and "
            + "device twins use; for --inline and --twin, the padding the bytes were wrapped with.", valueName: "padding"))
    var padding = KeyWrapPadding.oaepSHA256

    @Option(help: ArgumentHelp("document (CBOR), raw (the RSA block) or base64.", valueName: "format"))
    var format = WrappedKeyFormat.document

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @Flag(help: "Print what was fetched (key name, padding, the recipient's fingerprint; never the key) as JSON; the wrapped key then needs -o.")
    var json = false

    func validate() throws {
        if json && output == "-" {
            throw ValidationError("--json prints the report on standard output: write the wrapped key with -o FILE")
        }
    }

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try KeyfetchFrontend.fetch(
            .init(
                keyName: name, recipient: to, store: store, inline: inline, twin: twin, padding: padding, format: format,
                output: output, json: json, messages: messages))
    }
}

struct Provision: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Create a new random AES-256 key under a name, in a file store or through the ProvisionKey contract.",
        discussion: """
            A file store is rewritten atomically with mode 0600, keeping its other keys; a name \
            that is already there is refused unless --force is given. The key itself is never \
            printed: fetch it wrapped to a public key.
            """)

    @Option(name: .customLong("key-name"), help: ArgumentHelp("The new key's name: the application id, or a KBS resource URI.", valueName: "name"))
    var name: String

    @OptionGroup var store: KeyStoreOptions

    @Flag(help: "Replace a key of the same name in a file store (the old key is lost).")
    var force = false

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try KeyfetchFrontend.provision(name: name, store: store, force: force)
    }
}

KeyFetch.runTool()
