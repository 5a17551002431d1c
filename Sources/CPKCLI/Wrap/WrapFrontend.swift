import CPKCore
import CPKCrypto
import CPKKeys

/// `cpk-wrap`'s subcommands, one entry point each: the tool declares and validates options;
/// reading the files they name, the key operations (CPKCrypto, CPKKeys) and writing happen here.
public enum WrapFrontend {
    /// `cpk-wrap keygen`: an RSA wrapping key pair, the private key written 0600.
    public static func keygen(bits: Int, output: String, publicOutput: String?) throws {
        let key = try RSAPrivateKey.generate(bits: bits)
        var pem = try key.pem()
        defer { wipe(&pem) }
        // The private key's output first: if it is refused, no public half is left behind.
        let privateOutput = try openSecretOutput(output, what: "a private key")
        if let publicOutput {
            try writeResult(Array(try key.publicKey.pem().utf8), to: publicOutput, binary: false)
        }
        try privateOutput.descriptor.write(pem)
        try privateOutput.commit()
    }

    /// `cpk-wrap keygen --key pkcs11:URI`: the key pair made inside the token (sensitive,
    /// never extractable); only its public half leaves, to `publicOutput`.
    public static func keygen(bits: Int, tokenURI: String, token: TokenOptions, publicOutput: String) throws {
        let publicKey = try TokenKeys.generateRSA(try PKCS11URI(parsing: tokenURI), bits: bits, access: token.access)
        try writeResult(Array(try publicKey.pem().utf8), to: publicOutput, binary: false)
    }

    /// `cpk-wrap public`: a public key, read from any key or certificate form, in `format`.
    public static func publicKey(input: String, format: PublicKeyFormat, output: String) throws {
        let bytes = try SmallInput.read(input, limit: SmallInput.keyLimit, what: "the key")
        let key = try SmallInput.locating(input) { try PublicKey(loadingPublicOrPrivate: bytes) }
        let (out, binary) = try format.render(key)
        try writeResult(out, to: output, binary: binary)
    }

    /// `cpk-wrap wrap`: a raw key wrapped to a public key, in `format`.
    /// - Parameter name: recorded in a document; raw and base64 output carry no name.
    public static func wrap(
        input: String, to recipient: String, name: String?, padding: KeyWrapPadding, format: WrappedKeyFormat, output: String
    ) throws {
        try SmallInput.requireOneStandardInput([(input, "the key file"), (recipient, "--to")])
        let publicBytes = try SmallInput.read(recipient, limit: SmallInput.keyLimit, what: "the public key")
        let publicKey = try SmallInput.locating(recipient) { try PublicKey(loading: publicBytes) }
        var secret = try SmallInput.read(input, limit: SmallInput.keyLimit, what: "the key to wrap")
        defer { wipe(&secret) }
        let wrapped = try WrappedKey(wrapping: secret, named: name ?? "unnamed", to: publicKey, padding: padding)
        let (out, binary) = format.render(wrapped)
        try writeResult(out, to: output, binary: binary)
    }

    /// `cpk-wrap unwrap`: the raw key, only to the output named (a file created 0600, or a
    /// standard output that is not a terminal).
    /// - Parameters:
    ///   - padding: of a bare wrapped key; a document records its own, which must agree.
    ///   - name: refuse a document whose key name differs (KeyName rules).
    public static func unwrap(
        input: String, key: String, token: TokenOptions = TokenOptions(), padding: KeyWrapPadding?, name: String?, output: String
    ) throws {
        try SmallInput.requireOneStandardInput([(input, "the wrapped key"), (key, "--key")])
        let privateKey = try SmallInput.locating(key) { try token.rsaPrivateKey(key, what: "the private key") }
        let wrappedBytes = try SmallInput.read(input, limit: SmallInput.keyLimit, what: "the wrapped key")
        let wrapped = try SmallInput.locating(input) { try WrappedKeyInput(parsing: wrappedBytes) }
        if case .document(let document) = wrapped {
            _ = try SmallInput.locating(input) { try document.resolvedName(expecting: name) }
            if let padding, padding != document.padding {
                throw CPKError.usage("--padding \(padding.rawValue) contradicts the document's \(document.padding.algorithmName)")
            }
        }
        var secret = try SmallInput.locating(input) { try wrapped.unwrap(with: privateKey, barePadding: padding ?? .oaepSHA256) }
        defer { wipe(&secret) }
        try writeSecret(secret, to: output, what: "an unwrapped key")
    }

    /// `cpk-wrap show`: what a wrapped-key document records, as one line of JSON.
    /// `cpk-wrap show`: one line per field (name, algorithm, size, the wrapping key's
    /// SHA-256), or the summary as one line of JSON.
    public static func show(input: String, json: Bool) throws {
        try JSONErrors.reporting(json: json, tool: "cpk-wrap") {
            let bytes = try SmallInput.read(input, limit: SmallInput.keyLimit, what: "the wrapped key")
            let document = try SmallInput.locating(input) { try WrappedKey(decoding: bytes) }
            if json { return try Console.output(document.summary.compactText) }
            try Console.output(
                [
                    "key name:        \(TerminalText.escaped(document.keyName))",
                    "algorithm:       \(document.padding.algorithmName)",
                    "wrapped size:    \(document.wrapped.count) bytes",
                    "wrapped to:      sha256:\(Hex.encode(document.wrappingKeySHA256))",
                ].joined(separator: "\n"))
        }
    }
}
