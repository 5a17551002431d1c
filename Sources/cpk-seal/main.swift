import ArgumentParser
import CPKCLI

struct Seal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-seal",
        abstract: "Encrypt the payload of a package with AES-256-GCM under a key from a key store.",
        discussion: """
            Reads an envelope (or a plaintext .cpk) and encrypts its payload, streaming, under \
            the application's class key with a fresh random 96-bit nonce. The manifest records \
            aes-gcm with the key's name (default: the package's cp-id) and the nonce and tag \
            streams, which follow the payload; the plaintext SHA-256 stays. A last, \
            unreferenced stream records the key's check value, so that a device holding \
            another key can say so (--no-key-check leaves it out: the reference layout \
            exactly). Writes an envelope, or the finished .cpk with --cpk.

            The key never appears on the command line. Either give a wrapped key from \
            cpk-keyfetch and the private key it was wrapped to (--wrapped-key, --key), \
            or name a key store (--file-store, --url, or CP_FILE_KEY_SOURCE / \
            CP_CLOUD_KEY_SOURCE): a file store's key is read as it is; a key service wraps \
            the key to an ephemeral key pair made in memory for this run. Both are for \
            development (a warning says so; -q).

            Examples:
              cpk-pack --id test app.bin | cpk-seal --file-store test.json --quiet \\
                | cpk-pack finish -o app.cpk
              cpk-wrap keygen -o agent.pem --public-out agent.pub
              cpk-keyfetch --key-name test --file-store test.json --to agent.pub \\
                -o test.wkey
              cpk-pack --id test app.bin \\
                | cpk-seal --wrapped-key test.wkey --key agent.pem --cpk -o app.cpk
              cpk-unpack payload --file-store test.json -q -o app.bin app.cpk

            Exit status: 0 success, 1 invalid input (not a package, already encrypted, a \
            wrong key), 2 usage or I/O error, or a key store that cannot be reached.
            """,
        version: ToolVersion.line("cpk-seal"))

    @OptionGroup var input: PackageInputArgument
    @OptionGroup var keySource: ClassKeyOptions
    @OptionGroup var output: PackageOutputOptions

    @Flag(help: "Write no key check stream: the reference's seven-stream layout exactly.")
    var noKeyCheck = false

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try SealFrontend.seal(
            input: input.input, keySource: keySource, keyCheck: !noKeyCheck, output: output, messages: messages)
    }
}

Seal.runTool()
