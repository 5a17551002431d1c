import ArgumentParser
import CPKCLI
import CPKCore
import CPKCrypto
import CPKKeys

struct Wrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-wrap",
        abstract: "Wrap and unwrap symmetric keys under RSA key pairs; make wrapping key pairs.",
        discussion: """
            A symmetric key never appears on the command line: keys are read from files, from \
            standard input (-) or from inherited descriptors (/dev/fd/N). A wrapped key is \
            written as a small CBOR document recording the key name, the algorithm, the wrapped \
            bytes and the SHA-256 of the wrapping public key, so unwrap can tell a wrong \
            private key before trying. An unwrapped key goes only to the output you name with \
            -o: a file created with mode 0600, or standard output when it is not a terminal.

            Public keys are read in every form the system meets, recognised automatically: PEM \
            or DER SubjectPublicKeyInfo, DER RSAPublicKey (PKCS#1, what the Package Manager \
            exports), X.509 certificates (PEM or DER), and base64 of the DER forms. They must be \
            RSA keys of at least 2048 bits.

            Examples:
              cpk-wrap keygen --bits 3072 -o device.pem --public-out device.pub
              cpk-wrap public --format base64 device.pem
              cpk-wrap wrap --to device.pub --key-name test -o test.wkey class.key
              head -c 32 /dev/urandom \\
                | cpk-wrap wrap --to cert.pem --key-name app --padding pkcs1v15 > app.wkey
              cpk-wrap unwrap --key device.pem -o class.key test.wkey
              cpk-wrap show test.wkey

            Exit status: 0 success, 1 invalid input or a key that does not fit (wrong private \
            key, truncated wrapped key), 2 usage or I/O error.
            """,
        version: ToolVersion.line("cpk-wrap"),
        subcommands: [KeyGen.self, Public.self, WrapKey.self, UnwrapKey.self, Show.self])
}

struct KeyGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an RSA wrapping key pair; the private key is written as PEM (PKCS#8) with mode 0600.")

    @Option(help: ArgumentHelp("Modulus size: 2048, 3072 or 4096.", valueName: "bits"), completion: .list(["2048", "3072", "4096"]))
    var bits = 2048

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Write the private key to FILE (mode 0600); - is standard output when it is not a terminal.", valueName: "file"), completion: .file())
    var output: String

    @Option(help: ArgumentHelp("Also write the public key (PEM SubjectPublicKeyInfo) to FILE.", valueName: "file"), completion: .file())
    var publicOut: String?

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        guard RSAPrivateKey.generatableSizes.contains(bits) else { throw ValidationError("--bits must be 2048, 3072 or 4096") }
        if publicOut == output { throw ValidationError("--public-out must differ from --output") }
    }

    func run() throws {
        let key = try RSAPrivateKey.generate(bits: bits)
        var pem = try key.pem()
        defer { wipe(&pem) }
        // The private key's output first: if it is refused, no public half is left behind.
        let privateOutput = try openSecretOutput(output, what: "a private key")
        if let publicOut {
            try writeResult(Array(try key.publicKey.pem().utf8), to: publicOut, binary: false)
        }
        try privateOutput.descriptor.write(pem)
        try privateOutput.commit()
    }
}

/// The forms `cpk-wrap public` prints.
struct Public: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "public",
        abstract: "Print a public key (read from a private key, a public key or a certificate) in another form.",
        discussion: """
            Formats: pem and der (SubjectPublicKeyInfo), pkcs1 and pkcs1-pem (RSAPublicKey), \
            base64 (of the DER SubjectPublicKeyInfo, for cloud contracts), fingerprint (hex \
            SHA-256 of the DER SubjectPublicKeyInfo, as recorded in wrapped-key documents).
            """)

    @Argument(help: ArgumentHelp("A private key, public key or certificate; - is standard input.", valueName: "key"), completion: .file())
    var input = "-"

    @Option(help: ArgumentHelp("pem, der, pkcs1, pkcs1-pem, base64 or fingerprint.", valueName: "format"))
    var format = PublicKeyFormat.pem

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @OptionGroup var messages: MessageOptions

    func run() throws {
        let bytes = try SmallInput.read(input, limit: SmallInput.keyLimit, what: "the key")
        let key = try withLocation(input) { try PublicKey(loadingPublicOrPrivate: bytes) }
        let (out, binary) = try format.render(key)
        try writeResult(out, to: output, binary: binary)
    }
}

struct WrapKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wrap",
        abstract: "Wrap a symmetric key (from a file or standard input) to an RSA public key.")

    @Argument(help: ArgumentHelp("The raw symmetric key; - is standard input.", valueName: "key-file"), completion: .file())
    var input = "-"

    @Option(help: ArgumentHelp("The public key or certificate to wrap to, in any form; - is standard input.", valueName: "public-key"), completion: .file())
    var to: String

    @Option(name: .customLong("key-name"), help: ArgumentHelp("The key's name, recorded in the document (the application id).", valueName: "name"))
    var name: String?

    @Option(help: ArgumentHelp("oaep-sha256 or pkcs1v15 (the reference contract's).", valueName: "padding"))
    var padding = KeyWrapPadding.oaepSHA256

    @Option(help: ArgumentHelp("document (CBOR), raw (the RSA block) or base64.", valueName: "format"))
    var format = WrappedKeyFormat.document

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        if format == .document && name == nil {
            throw ValidationError("--key-name is required: the document records the key's name (e.g. --key-name test)")
        }
    }

    func run() throws {
        try SmallInput.requireOneStandardInput([(input, "the key file"), (to, "--to")])
        let publicBytes = try SmallInput.read(to, limit: SmallInput.keyLimit, what: "the public key")
        let publicKey = try withLocation(to) { try PublicKey(loading: publicBytes) }
        var secret = try SmallInput.read(input, limit: SmallInput.keyLimit, what: "the key to wrap")
        defer { wipe(&secret) }
        // raw and base64 output carry no name, so any placeholder will do there
        let wrapped = try WrappedKey(wrapping: secret, named: name ?? "unnamed", to: publicKey, padding: padding)
        let (out, binary) = format.render(wrapped)
        try writeResult(out, to: output, binary: binary)
    }
}

struct UnwrapKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unwrap",
        abstract: "Unwrap a wrapped key with the private key; write the raw key to the named output.",
        discussion: """
            The input is a wrapped-key document, or the bare RSA block (raw or base64, e.g. from \
            openssl pkeyutl), whose padding --padding gives. A document names its key pair: a \
            different private key is refused before any decryption.
            """)

    @Argument(help: ArgumentHelp("The wrapped key; - is standard input.", valueName: "wrapped"), completion: .file())
    var input = "-"

    @Option(help: ArgumentHelp("The private key (PEM or DER); - is standard input, /dev/fd/N an open descriptor.", valueName: "file"), completion: .file())
    var key: String

    @Option(help: ArgumentHelp("Padding of a bare wrapped key (default oaep-sha256; a document records its own).", valueName: "padding"))
    var padding: KeyWrapPadding?

    @Option(name: .customLong("key-name"), help: ArgumentHelp("Refuse a document whose key name differs.", valueName: "name"))
    var name: String?

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Write the raw key to FILE (created 0600); - is standard output when it is not a terminal.", valueName: "file"), completion: .file())
    var output: String

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try SmallInput.requireOneStandardInput([(input, "the wrapped key"), (key, "--key")])
        var keyBytes = try SmallInput.read(key, limit: SmallInput.keyLimit, what: "the private key")
        defer { wipe(&keyBytes) }
        let privateKey = try withLocation(key) { try RSAPrivateKey(loading: keyBytes) }
        let wrappedBytes = try SmallInput.read(input, limit: SmallInput.keyLimit, what: "the wrapped key")
        let wrapped = try withLocation(input) { try WrappedKeyInput(parsing: wrappedBytes) }
        var secret = try withLocation(input) { try unwrap(wrapped, with: privateKey) }
        defer { wipe(&secret) }
        try writeSecret(secret, to: output, what: "an unwrapped key")
    }

    private func unwrap(_ input: WrappedKeyInput, with privateKey: RSAPrivateKey) throws -> [UInt8] {
        switch input {
        case .bare(let bytes):
            return try privateKey.unwrap(bytes, padding: padding ?? .oaepSHA256)
        case .document(let document):
            _ = try document.resolvedName(expecting: name)
            if let padding, padding != document.padding {
                throw CPKError.usage("--padding \(padding.rawValue) contradicts the document's \(document.padding.algorithmName)")
            }
            return try document.unwrap(with: privateKey)
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print what a wrapped-key document records, as JSON (the wrapped bytes only by size).")

    @Argument(help: ArgumentHelp("A wrapped-key document; - is standard input.", valueName: "wrapped"), completion: .file())
    var input = "-"

    @OptionGroup var messages: MessageOptions

    func run() throws {
        let bytes = try SmallInput.read(input, limit: SmallInput.keyLimit, what: "the wrapped key")
        let document = try withLocation(input) { try WrappedKey(decoding: bytes) }
        let json = JSONValue.object([
            ("key-name", .string(document.keyName)),
            ("algorithm", .string(document.padding.algorithmName)),
            ("wrapped-size", .integer(document.wrapped.count)),
            ("wrapping-key-sha256", .string(Hex.encode(document.wrappingKeySHA256))),
        ])
        try Console.output(json.compactText)
    }
}

/// Prefixes errors with the input's name, so a message says which file was wrong.
func withLocation<T>(_ path: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CPKError where error.kind == .invalidInput || error.kind == .checkFailed {
        throw error.located(in: path == "-" ? "standard input" : path)
    }
}

Wrap.runTool()
