import ArgumentParser
import CPKCLI

struct Payload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the plaintext payload, after authenticating it (GCM tag and SHA-256).",
        discussion: """
            An encrypted payload needs its class key, from the same sources as cpk-seal: \
            --wrapped-key with --key, or a key store (--file-store, --url, or \
            CP_FILE_KEY_SOURCE / CP_CLOUD_KEY_SOURCE). Nothing is written unless the AES-GCM \
            tag, the plaintext digest, the package digest and every signature check: a file is \
            created only when complete and checked, and standard output receives bytes only \
            after the checks. Signatures must verify; with a trust input (--ca, --public-key, \
            as for cpk-verify) their signers must also be trusted. --skip-signatures skips the \
            payload signature, for debugging; the tag, digests and package signature are \
            always checked.
            """)

    @OptionGroup var input: PackageInputArgument
    @OptionGroup var keySource: ClassKeyOptions
    @OptionGroup var trust: TrustOptions
    @Flag(help: "Debugging: do not check the payload signature (the tag, digests and package signature still are).")
    var skipSignatures = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try UnpackFrontend.payload(
            input: input.input, keySource: keySource, trust: trust, skipSignatures: skipSignatures, output: output,
            messages: messages)
    }
}
