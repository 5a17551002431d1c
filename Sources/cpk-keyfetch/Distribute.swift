import ArgumentParser
import CPKCLI
import CPKCrypto
import CPKKeyfetchCLI
import CPKKeys

/// `cpk-keyfetch distribute`: the cloud side of DistributeKey. The work is FleetDistributor's
/// (CPKKeys/Fleet); this declares the options and prints what it did.
struct Distribute: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wrap class keys to many devices from their reported documents (DistributeKey).",
        discussion: """
            Reads devices' reported-state documents (cpk-install report): files, directories (their \
            *.json files), *.jsonl files or - (JSON lines on standard input), one at a time. For \
            every device whose report carries an RSA public key of at least 2048 bits (and, with \
            --ca, a device certificate for that key chaining to the fleet CA), writes a \
            desired-state document: confidential_package_keys, the named keys of the file store \
            (every key when no --key-name is given) wrapped to the device key. Documents go to \
            --output-dir DIR as DEVICE_ID.json, each appearing complete, or as JSON lines to -o. \
            The key store is read once; no key appears in clear in any document or message.

            A refused device (a malformed report, a weak or missing key, an untrusted or \
            mismatched certificate, a second report under one id) is named in one line on \
            standard error and the others are served. --json prints a summary (served, refused \
            with reasons, wraps, seconds) on standard output.

            Examples:
              cpk-keyfetch distribute --file-store keys.json --key-name app \\
                --output-dir desired/ reports/
              cat reports.jsonl | cpk-keyfetch distribute \\
                --file-store keys.json --ca fleet-ca.pem - > desired.jsonl

            Exit status: 0 every device served, 1 some device refused (the others are written), \
            2 usage or I/O error (an unreadable key store, input or output).
            """)

    @Argument(help: ArgumentHelp(
        "Reported documents: files, directories, *.jsonl files, or - for JSON lines on standard input.", valueName: "report"))
    var reports: [String] = ["-"]

    @Option(help: ArgumentHelp("The file key store (default: $CP_FILE_KEY_SOURCE).", valueName: "file"))
    var fileStore: String?

    @Option(help: ArgumentHelp("A key to distribute (repeatable; default: every key in the store).", valueName: "name"))
    var keyName: [String] = []

    @Option(help: ArgumentHelp("oaep-sha256 or pkcs1v15 (the reference Package Manager's).", valueName: "padding"))
    var padding = KeyWrapPadding.oaepSHA256

    @Option(help: ArgumentHelp(
        "The fleet CA: every report must carry a device certificate chaining to a certificate in FILE; repeatable.",
        valueName: "file"))
    var ca: [String] = []

    @Option(help: ArgumentHelp("Write DEVICE_ID.json per device into this directory.", valueName: "dir"))
    var outputDir: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write JSON lines to FILE; - is standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Print a JSON summary on standard output (with --output-dir or -o FILE).") var json = false
    @OptionGroup var messages: MessageOptions

    func run() throws {
        try KeyfetchFrontend.distribute(
            .init(
                reports: reports, fileStore: fileStore, keyNames: keyName, padding: padding, fleetCAs: ca,
                outputDirectory: outputDir, output: output, json: json, messages: messages))
    }
}
