import ArgumentParser
import CPKCLI

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
              cpk-keyfetch enroll challenge --ek-ca ca.pem --registry tpm/ req.json
              cpk-keyfetch provision --key-name app --url https://keys.example/api

            Exit status: 0 success, 1 invalid input (a bad store, key or answer, or a key that \
            is not there), 2 usage error, I/O error, or a key service that cannot be reached.
            """,
        version: ToolVersion.line("cpk-keyfetch"),
        subcommands: [Fetch.self, Provision.self, Distribute.self, Enroll.self, KeyProviderCommand.self],
        defaultSubcommand: Fetch.self)
}

KeyFetch.runTool()
