import ArgumentParser
import CPKCore
import CPKCrypto
import CPKKeys

/// The options of every tool that takes a private key, for a key held in a PKCS#11 token
/// (`--key pkcs11:token=cpk;object=signer;type=private`): where the PIN is (never on the
/// command line) and which PKCS#11 module to load. A key file needs none of them.
public struct TokenOptions: ParsableArguments {
    @Option(
        name: .customLong("pin-file"),
        help: ArgumentHelp(
            "A pkcs11: key's PIN, the first line of FILE (default: the URI's pin-source, else $CPK_PKCS11_PIN).",
            valueName: "file"))
    public var pinFile: String?

    @Option(
        name: .customLong("pin-fd"),
        help: ArgumentHelp("A pkcs11: key's PIN, read from the inherited file descriptor N.", valueName: "n"))
    public var pinFD: Int32?

    @Option(
        name: .customLong("pkcs11-module"),
        help: ArgumentHelp(
            "The PKCS#11 module for a pkcs11: key (default: the URI's module-path, else $CPK_PKCS11_MODULE, else \(TokenAccess.defaultModule)).",
            valueName: "path"))
    public var pkcs11Module: String?

    public init() {}

    public func validate() throws {
        if pinFile != nil && pinFD != nil { throw ValidationError("give --pin-file or --pin-fd, not both") }
        if let pinFD, pinFD < 0 { throw ValidationError("--pin-fd takes a descriptor number (0 or more)") }
    }

    /// The module and PIN these options give (the URI and the environment fill the rest).
    public var access: TokenAccess {
        TokenAccess(module: pkcs11Module, pin: pinFile.map(TokenPINSource.file) ?? pinFD.map(TokenPINSource.descriptor))
    }

    /// True when `reference` names a token key rather than a file.
    public static func isToken(_ reference: String) -> Bool { PKCS11URI.isURI(reference) }

    /// The RSA private key `reference` names: a pkcs11: URI, or a PEM/DER file (- is standard input).
    public func rsaPrivateKey(_ reference: String, what: String) throws -> RSAPrivateKey {
        if Self.isToken(reference) {
            return try TokenKeys.rsaPrivateKey(try PKCS11URI(parsing: reference), access: access)
        }
        var bytes = try SmallInput.read(reference, limit: SmallInput.keyLimit, what: what)
        defer { wipe(&bytes) }
        return try RSAPrivateKey(loading: bytes)
    }

    /// The signing key a pkcs11: URI names.
    public func signingKey(_ uri: String) throws -> SigningKey {
        try TokenKeys.signingKey(try PKCS11URI(parsing: uri), access: access)
    }
}
