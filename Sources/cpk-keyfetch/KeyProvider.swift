import ArgumentParser
import CPKCLI
import CPKKeyfetchCLI

/// `cpk-keyfetch keyprovider`: an ocicrypt key provider, a drop-in for Confidential
/// Containers' coco_keyprovider, reached as a "cmd" provider (one process per request) or, with
/// --listen, as a "grpc" one. The protocol and the annotation live in CPKKeys (KeyProvider/),
/// the server in CPKKeyProviderServer; this only parses the options.
struct KeyProviderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyprovider",
        abstract: "Wrap and unwrap container layer keys for skopeo and ocicrypt (CoCo's key provider).",
        discussion: """
            Without --listen it is a "cmd" provider: ocicrypt writes one JSON request on \
            standard input and reads the answer from standard output. With --listen HOST:PORT \
            it serves ocicrypt's gRPC KeyProviderService (a "grpc" provider, as CoCo runs \
            coco_keyprovider) until SIGINT or SIGTERM, one line per request on standard error; \
            loopback only, unless --tls-cert and --tls-key or --insecure-listen-any.

            Parameters come after provider:NAME: in skopeo's --encryption-key, as key=value \
            pairs separated by :: (keyid, keypath, algorithm); others are ignored with a \
            warning, and sample=true is refused (CoCo's sample key is publicly known). \
            Decryption parameters are ignored, as CoCo ignores them \
            (provider:attestation-agent:offline_fs_kbc::null). The key-encryption key is the \
            32-byte key keyid names in the file store, or the file keypath names.

            Example OCICRYPT_KEYPROVIDER_CONFIG, and the provider it names:
              {"key-providers": {"attestation-agent": {"grpc": "127.0.0.1:50000"}}}
              cpk-keyfetch keyprovider --listen 127.0.0.1:50000 --file-store keys.json

            Or one process per request, with no server:
              {"key-providers": {"attestation-agent": {"cmd": {
                "path": "/usr/local/bin/cpk-keyfetch",
                "args": ["keyprovider", "--file-store", "/etc/cpk/keys.json"]}}}}

            Then:
              skopeo copy --encryption-key \\
                provider:attestation-agent:keyid=kbs:///default/key/key_id1 \\
                oci:plain:v1 oci:encrypted:v1
              skopeo copy --decryption-key \\
                provider:attestation-agent:offline_fs_kbc::null \\
                oci:encrypted:v1 oci:plain:v1
            """)

    @Option(
        name: .customLong("file-store"),
        help: ArgumentHelp("The JSON key store holding the key-encryption keys (default: $CP_FILE_KEY_SOURCE).", valueName: "file"), completion: .file())
    var fileStore: String?

    @Option(help: ArgumentHelp(
        "The provider's name in the ocicrypt configuration (default: attestation-agent, and the former name cpk).",
        valueName: "name"))
    var provider: String?

    @Option(help: ArgumentHelp("Serve ocicrypt's gRPC key-provider service on this address (e.g. 127.0.0.1:50000).", valueName: "host:port"))
    var listen: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("With --listen: serve TLS with this PEM certificate chain.", valueName: "file"), completion: .file())
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("With --listen: the PEM private key of --tls-cert.", valueName: "file"), completion: .file())
    var tlsKey: String?

    @Flag(name: .customLong("insecure-listen-any"), help: "With --listen: allow a non-loopback address without TLS (layer keys in plaintext).")
    var insecureListenAny = false

    @Flag(name: .customLong("allow-sample-key"), help: "Read sample=true as the store's kbs:///default/test-key/1, with a warning on every use.")
    var allowSampleKey = false

    @OptionGroup var messages: MessageOptions

    func run() throws {
        var request = KeyfetchFrontend.KeyProviding(name: provider, fileStore: fileStore)
        request.listen = listen
        (request.tlsCertificate, request.tlsKey) = (tlsCertificate, tlsKey)
        (request.insecureListenAny, request.allowSampleKey) = (insecureListenAny, allowSampleKey)
        try KeyfetchFrontend.keyProvider(request)
    }
}
