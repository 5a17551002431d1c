import ArgumentParser
import CPKCore
import CPKCrypto
import CPKKeys
import CPKPackage

#if canImport(Glibc)
import Glibc
#endif

/// Who is trusted to sign, the same options in `cpk-verify`, `cpk-install` and `cpk-unpack`,
/// turned into the one `TrustPolicy` they all judge signers by.
public struct TrustOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A trust anchor: signer certificates must chain to a certificate in FILE (PEM or DER); repeatable.",
        valueName: "file"), completion: .file())
    public var ca: [String] = []

    @Option(name: .customLong("public-key"), help: ArgumentHelp(
        "Pin a signer's key: a public key or certificate (PEM or DER) trusted as it is; repeatable.", valueName: "file"),
        completion: .file())
    public var pinnedKeys: [String] = []

    /// cpk-install's spelling of --public-key before the tools shared one vocabulary.
    @Option(name: .customLong("trusted-key"), help: .hidden, completion: .file())
    public var trustedKeyAlias: [String] = []

    /// The pinned keys, under either spelling.
    public var publicKey: [String] { pinnedKeys + trustedKeyAlias }

    @Option(help: ArgumentHelp(
        "Intermediate certificates that may complete a chain without being trusted themselves; repeatable.",
        valueName: "file"), completion: .file())
    public var untrusted: [String] = []

    @Option(help: ArgumentHelp(
        "The signer's certificate must name exactly this identity (subject, common name, or an e-mail, DNS or URI "
            + "subject alternative name); repeatable, any may match.", valueName: "identity"))
    public var certificateIdentity: [String] = []

    @Option(help: ArgumentHelp(
        "The same, as a regular expression the whole name must match; repeatable.", valueName: "regex"))
    public var certificateIdentityRegexp: [String] = []

    @Option(help: ArgumentHelp(
        "Check certificates at TIME: RFC 3339, YYYY-MM-DD, or @SECONDS (default: now).", valueName: "time"))
    public var at: String?

    @Flag(help: "Accept certificates whose validity period has ended (it is still reported).")
    public var allowExpired = false

    public init() {}

    public func validate() throws {
        if let at, CheckTime.parse(at) == nil {
            throw ValidationError("--at: \"\(at)\" is not a time (RFC 3339, YYYY-MM-DD or @SECONDS)")
        }
    }

    /// The files these options read, for the one-standard-input rule.
    public var inputs: [(String, String)] {
        ca.map { ($0, "--ca") } + publicKey.map { ($0, "--public-key") } + untrusted.map { ($0, "--untrusted") }
    }

    /// The policy these options give. A file that cannot be read is a usage error (exit 2),
    /// not a verdict about a package.
    public func policy() throws -> TrustPolicy {
        var policy = TrustPolicy(time: at.flatMap(CheckTime.parse) ?? Int(time(nil)))
        policy.allowExpired = allowExpired
        policy.anchors = try ca.flatMap { path in try Self.certificates(path, flag: "--ca").map { TrustPolicy.Anchor($0) } }
        policy.intermediates = try untrusted.flatMap { try Self.certificates($0, flag: "--untrusted") }
        policy.pinnedKeys = try publicKey.map { path in
            let bytes = try SmallInput.read(path, limit: 1 << 20, what: "the --public-key key")
            do {
                return TrustPolicy.PinnedKey(try VerifyingKey(loading: bytes))
            } catch let error as CPKError {
                throw CPKError.usage("--public-key \(path): \(error.message)")
            }
        }
        policy.identities = certificateIdentity.map(IdentityRule.init(exact:))
        for pattern in certificateIdentityRegexp {
            do {
                policy.identities.append(try IdentityRule(pattern: pattern))
            } catch let error as CPKError {
                throw CPKError.usage("--certificate-identity-regexp: \(error.message)")
            }
        }
        return policy
    }

    /// Certificates from a file named on the command line (by `flag`), at most `limit` bytes.
    public static func certificates(_ path: String, flag: String, limit: Int = SmallInput.documentLimit) throws
        -> [X509Certificate]
    {
        let bytes = try SmallInput.read(path, limit: limit, what: "the \(flag) certificates")
        do {
            return try X509Certificate.chain(loading: bytes)
        } catch let error as CPKError {
            throw CPKError.usage("\(flag) \(path): \(error.message)")
        }
    }
}
