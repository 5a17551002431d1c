import ArgumentParser
import CPKCLI
import CPKKeyfetchCLI

/// `cpk-keyfetch keyprovider`: an ocicrypt "cmd" key provider, compatible with CoCo's
/// coco_keyprovider. The protocol and the annotation live in CPKKeys (KeyProvider/); this is
/// only the process around them: the store, standard input, standard output.
struct KeyProviderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyprovider",
        abstract: "Wrap and unwrap container layer keys for skopeo and ocicrypt (CoCo's annotation format).",
        discussion: """
            Named as a "cmd" key provider in the file OCICRYPT_KEYPROVIDER_CONFIG names; ocicrypt \
            writes one JSON request on standard input and reads the answer from standard output. \
            Parameters come after provider:NAME: in skopeo's --encryption-key and \
            --decryption-key, as key=value pairs separated by :: (keyid, keypath, algorithm). \
            The key-encryption key is the 32-byte key keyid names in the file store, or the file \
            keypath names.

            Example OCICRYPT_KEYPROVIDER_CONFIG:
              {"key-providers": {"cpk": {"cmd": {"path": "/usr/local/bin/cpk-keyfetch",
                "args": ["keyprovider", "--file-store", "/etc/cpk/keys.json"]}}}}

            Then:
              skopeo copy --encryption-key provider:cpk:keyid=kbs:///default/key/key_id1 \\
                oci:plain:v1 oci:encrypted:v1
              skopeo copy --decryption-key provider:cpk oci:encrypted:v1 oci:plain:v1
            """)

    @Option(
        name: .customLong("file-store"),
        help: ArgumentHelp("The JSON key store holding the key-encryption keys (default: $CP_FILE_KEY_SOURCE).", valueName: "file"), completion: .file())
    var fileStore: String?

    @Option(help: ArgumentHelp("The provider's name in the ocicrypt configuration.", valueName: "name"))
    var provider = "cpk"

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try KeyfetchFrontend.keyProvider(name: provider, fileStore: fileStore)
    }
}
