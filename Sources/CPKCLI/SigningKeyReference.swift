import CPKCore
import CPKCrypto
import CPKKeys
import CPKPackage

/// A private key that signs, as a command line names it: a PEM or DER file (`-` is standard
/// input; an encrypted one opened with a passphrase from a file or an environment variable,
/// never from the command line), or a key in a PKCS#11 token (`pkcs11:` URI, reached through
/// `TokenOptions`). Every tool that signs (cpk-sign, cpk-keyfetch distribute) loads its key
/// here, so they accept the same forms and say the same things.
public struct SigningKeyReference {
    public var reference: String
    public var passphraseFile: String?
    public var passphraseEnvironment: String?
    public var token: TokenOptions
    /// The option that named the key (`--key`), for messages.
    public var option: String

    public init(reference: String, passphraseFile: String?, passphraseEnvironment: String?, token: TokenOptions, option: String) {
        (self.reference, self.passphraseFile, self.passphraseEnvironment) = (reference, passphraseFile, passphraseEnvironment)
        (self.token, self.option) = (token, option)
    }

    /// The files these options read, for `SmallInput.requireOneStandardInput`.
    public var inputs: [(path: String, option: String)] {
        [(reference, option), (passphraseFile ?? "", "--passphrase-file")]
    }

    /// The signing key; the file's bytes and the passphrase are wiped once it is loaded.
    public func load() throws -> SigningKey {
        if TokenOptions.isToken(reference) { return try token.signingKey(reference) }
        var bytes = try SmallInput.read(reference, limit: SmallInput.keyLimit, what: "the signing key")
        defer { wipe(&bytes) }
        var passphrase = try Passphrase.read(file: passphraseFile, environment: passphraseEnvironment)
        defer { if passphrase != nil { wipe(&passphrase!) } }
        do {
            return try SigningKey(loading: bytes, passphrase: passphrase)
        } catch let error as CPKError where error.reason == .passphraseNeeded {
            throw CPKError.usage("\(reference): \(error.message): --passphrase-file FILE or --passphrase-env NAME")
        }
    }

    /// The certificate chain in `path` (PEM, leaf first, or one DER certificate), which must
    /// certify `signer`: a chain for another key would send devices looking for the wrong signer.
    public static func chain(_ path: String, certifying signer: VerifyingKey, option: String) throws -> [X509Certificate] {
        let chain = try TrustOptions.certificates(path, flag: option, limit: 1 << 20)
        guard let leaf = chain.first, (try? leaf.publicKey)?.isSameKey(as: signer) == true else {
            throw CPKError.usage("\(option) \(path): the first certificate is not the signing key's")
        }
        return chain
    }
}
