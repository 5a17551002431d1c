import ArgumentParser
import CPKCLI
import CPKCrypto
import CPKKeyfetchCLI
import CPKKeys

/// `cpk-keyfetch distribute`: the cloud side of DistributeKey. The work is FleetDistributor's
/// (CPKKeys/Fleet); this declares the options and prints what it did.
struct Distribute: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Release class keys to many devices from their reported documents, signed (DistributeKey).",
        discussion: """
            Reads devices' reported-state documents (cpk-install report): files, directories (their \
            *.json entries), *.jsonl files or - (JSON lines on standard input), one at a time. \
            Only authenticated devices are served: with --device-ca, a report must carry a device \
            certificate for its key that chains to the fleet CA and names the reported device id \
            (subject CN, or a DNS or URI subject alternative name); with --allow-list, the \
            device id must be listed with that key's SHA-256. A device passing either is served. \
            Without --device-ca or --allow-list, distribute refuses to run; --insecure-any-device serves \
            any report (development only: it warns on every run, even with --quiet).

            Which keys go where is explicit: --key-name (every authenticated device gets those) \
            or --policy FILE (rules matching an allow-list group, a certificate OU or URI, or a \
            device id; a device matching no rule is refused). Each served device gets a key \
            release signed with --key (its certificate chain from --cert goes in each document): its id, the SHA-256 of its key, a generation \
            (--generation, else the clock in milliseconds, above the one of its previous \
            document in --output-dir), issue and expiry times (--valid-for, default 7d, at most \
            366d) and the keys wrapped to its key. Documents go to --output-dir DIR as \
            DEVICE_ID.json (the directory is made when missing; each file appears complete), or \
            as JSON lines to -o. The key store is read once; no key appears in clear in any \
            document or message.

            A refused report or device (a planted or unreadable entry, a malformed report, a \
            weak or unusual key, an unauthenticated device, two authenticated reports under one \
            id, a device entitled to nothing, something planted where its document goes) is \
            named in one line on standard error and the others are served.

            A policy rule may require TPM attestation ("attestation": {"tpm": true, "pcrs": ...}): \
            the report's tpm_evidence must certify its device key as made in and bound to the TPM \
            enrolled in --tpm-registry, whose EK certificate still chains to an --ek-ca; with \
            --nonce (needed when PCRs are required) its quote must carry that nonce and the \
            policy's PCR values. A device failing it is refused in one line naming the rule. --json prints a \
            summary (served, refused with reasons, wraps, seconds) on standard output.

            Examples:
              cpk-keyfetch distribute --file-store keys.json --key-name app \\
                --device-ca fleet-ca.pem --key release.key --cert release.crt \\
                --output-dir desired/ reports/
              cat reports.jsonl | cpk-keyfetch distribute --file-store keys.json \\
                --policy release-policy.json --allow-list devices.json \\
                --key 'pkcs11:token=fleet;object=release;type=private' \\
                -o desired.jsonl -

            Exit status: 0 every device served, 1 some device refused (the others are written), \
            2 usage or I/O error (no --device-ca or --allow-list, an unreadable key store, signing key, \
            input or output).
            """)

    @Argument(help: ArgumentHelp(
        "Reported documents: files, directories, *.jsonl files, or - for JSON lines on standard input.", valueName: "report"))
    var reports: [String] = ["-"]

    @Option(help: ArgumentHelp("The file key store (default: $CP_FILE_KEY_SOURCE).", valueName: "file"), completion: .file())
    var fileStore: String?

    @Option(help: ArgumentHelp("A key every authenticated device gets (repeatable; or --policy).", valueName: "name"))
    var keyName: [String] = []

    @Option(help: ArgumentHelp("A release policy: which devices get which keys (or --key-name).", valueName: "file"), completion: .file())
    var policy: String?

    @Option(help: ArgumentHelp("oaep-sha256 or pkcs1v15 (the reference Package Manager's).", valueName: "padding"))
    var padding = KeyWrapPadding.oaepSHA256

    @Option(help: ArgumentHelp(
        "The fleet CA of device certificates: a report's device certificate chaining to a certificate in FILE and naming its device id authenticates it; repeatable.",
        valueName: "file"), completion: .file())
    var deviceCa: [String] = []
    /// The old spelling, kept working but not shown: --ca is the trust anchor of signers elsewhere.
    @Option(name: .customLong("ca"), help: .hidden) var oldDeviceCA: [String] = []

    @Option(help: ArgumentHelp(
        "A device allow list: a device id listed with its key's SHA-256 authenticates the report.", valueName: "file"),
        completion: .file())
    var allowList: String?

    @Option(help: ArgumentHelp(
        "The TPM enrollment registry (cpk-keyfetch enroll): each device's attestation key, for a policy requiring attestation.",
        valueName: "dir"), completion: .directory)
    var tpmRegistry: String?

    @Option(help: ArgumentHelp("A trusted TPM manufacturer CA (PEM): each enrolled EK certificate must chain to one; repeatable.",
        valueName: "file"), completion: .file())
    var ekCa: [String] = []

    @Option(help: ArgumentHelp("The nonce (hex) every device's quote must carry: quotes made for another nonce are refused.",
        valueName: "hex"))
    var nonce: String?

    @Flag(help: "Serve every well-formed report without authenticating it (development only; warns on every run).")
    var insecureAnyDevice = false

    // --key and --cert, as in cpk-sign: the private key that signs, and its certificate.
    @Option(help: ArgumentHelp("The private key that signs the releases (PEM or DER, or a pkcs11: URI); - is standard input.", valueName: "file"),
        completion: .file())
    var key: String

    @OptionGroup var token: TokenOptions

    @Option(help: ArgumentHelp("Read the signing key's passphrase from the first line of FILE.", valueName: "file"), completion: .file())
    var passphraseFile: String?

    @Option(help: ArgumentHelp("Read the signing key's passphrase from the environment variable NAME.", valueName: "name"))
    var passphraseEnv: String?

    @Option(help: ArgumentHelp(
        "The signing key's certificate chain (PEM, leaf first), embedded in every document.", valueName: "file"),
        completion: .file())
    var cert: String?

    @Option(help: ArgumentHelp(
        "rsa-pkcs1v15, rsa-pss, ecdsa-p256, ecdsa-p384 or ed25519 (default: the key's: rsa-pkcs1v15 for RSA).",
        valueName: "scheme"))
    var scheme: SignatureScheme?

    @Option(help: ArgumentHelp("How long each release is valid: seconds, or Nm, Nh, Nd (at most 366d).", valueName: "duration"))
    var validFor = ReleaseValidity.default

    @Option(help: ArgumentHelp(
        "The generation of every release (default: the clock in milliseconds, above the device's previous document).",
        valueName: "n"))
    var generation: UInt64?

    @Option(help: ArgumentHelp("Write DEVICE_ID.json per device into this directory.", valueName: "dir"), completion: .directory)
    var outputDir: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write JSON lines to FILE; - is standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Print a JSON summary on standard output (with --output-dir or -o FILE).") var json = false
    @OptionGroup var messages: MessageOptions

    func validate() throws {
        if TokenOptions.isToken(key) && (passphraseFile != nil || passphraseEnv != nil) {
            throw ValidationError("a pkcs11: key takes a PIN (--pin-file, --pin-fd), not a passphrase")
        }
    }

    func run() throws {
        var request = KeyfetchFrontend.Distribution(
            reports: reports, fileStore: fileStore,
            signingKey: SigningKeyReference(
                reference: key, passphraseFile: passphraseFile, passphraseEnvironment: passphraseEnv, token: token,
                option: "--key"))
        (request.keyNames, request.policy, request.padding) = (keyName, policy, padding)
        (request.fleetCAs, request.allowList, request.insecureAnyDevice) = (deviceCa + oldDeviceCA, allowList, insecureAnyDevice)
        (request.signingCertificate, request.scheme, request.validity, request.generation) = (cert, scheme, validFor, generation)
        (request.outputDirectory, request.output, request.json, request.messages) = (outputDir, output, json, messages)
        (request.tpmRegistry, request.ekCAs, request.nonce) = (tpmRegistry, ekCa, nonce)
        try KeyfetchFrontend.distribute(request)
    }
}
