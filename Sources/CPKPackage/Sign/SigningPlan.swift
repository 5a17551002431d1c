#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKFormat

// The rules a signing run follows before any byte is written, for every caller of `Signer`
// (the command line only reads options into them): which signatures, which scheme, how the
// package names its signer, what to warn about, and the log entry's words.

extension SignatureTarget {
    /// The signatures asked for: both when neither or both are named (the payload signature for
    /// the Package Manager, the package signature so that the manifest is covered too).
    public static func selected(payload: Bool, package: Bool) -> [SignatureTarget] {
        switch (payload, package) {
        case (true, false): return [.payload]
        case (false, true): return [.package]
        default: return [.payload, .package]
        }
    }
}

extension SignatureScheme {
    /// The scheme asked for, if it fits the key; else the key's own (rsa-pkcs1v15 for RSA).
    public static func chosen(_ requested: SignatureScheme?, for key: VerifyingKey) throws -> SignatureScheme {
        if let requested {
            try key.requireFit(requested)
            return requested
        }
        guard let scheme = key.type.defaultScheme else {
            throw CPKError.invalid("a \(key.type) key cannot sign packages; use RSA, EC P-256, EC P-384 or Ed25519")
        }
        return scheme
    }
}

extension CertificateEmbedding {
    /// How the signer chose to be named, before the signer's key is known.
    public enum Choice: Sendable {
        case none
        case certificate([X509Certificate])
        case publicKey
        case url(String)
        case domain(String)
    }

    public init(_ choice: Choice, signer: VerifyingKey, form: Form) {
        switch choice {
        case .none: self = .none
        case .certificate(let chain): self = .x509(chain: chain, form: form)
        case .publicKey: self = .publicKey(signer, form: form)
        case .url(let url): self = .url(url)
        case .domain(let domain): self = .domain(domain)
        }
    }
}

/// What a signing run should tell its user without refusing (a command line words it).
public enum SigningWarning: Equatable, Sendable {
    /// The payload signature's scheme is one the reference Package Manager cannot verify.
    case deviceCannotVerify(SignatureScheme)
    /// The package names neither a certificate nor a key of its signer, nor where one is: no
    /// verifier can check it unless given the signer's key.
    case noSignerCredential
    /// An offline payload signature alone: the manifest is covered only once a package
    /// signature is prepared and stitched too.
    case manifestNotYetCovered
    /// The embedded certificate is expired or not yet valid now: a verifier with a trust input
    /// refuses it (docs/format.md §8.3, rule 4). The text says which, and when.
    case certificateNotValid(String)

    /// The words every caller can show (a command line may add the options that help).
    public var text: String {
        switch self {
        case .deviceCannotVerify(let scheme):
            return "the reference Package Manager verifies only rsa-pkcs1v15 payload signatures; a device without "
                + "the \(scheme.rawValue) verification call cannot install this package"
        case .noSignerCredential:
            return "the package names no certificate or key of its signer: a verifier must be given the signer's key to check it"
        case .manifestNotYetCovered:
            return "the manifest is covered only once a package signature is added too"
        case .certificateNotValid(let note):
            return "the embedded certificate \(note): a verifier that authenticates signers refuses it"
        }
    }
}

extension Signer {
    /// The warnings for `request`: online when it carries a signing key, offline (a prepared
    /// signature) otherwise.
    public static func warnings(for request: Request) -> [SigningWarning] {
        var warnings: [SigningWarning] = []
        if request.targets.contains(.payload), request.scheme != .rsaPKCS1v15 {
            warnings.append(.deviceCannotVerify(request.scheme))
        }
        if case .none = request.certificate { warnings.append(.noSignerCredential) }
        if request.key == nil, request.targets == [.payload] { warnings.append(.manifestNotYetCovered) }
        if case .x509(let chain, _) = request.certificate, let leaf = chain.first,
            let note = TrustPolicy(time: Int(time(nil))).validityNote(
                SignerCredentials(key: request.signerKey, chain: [leaf], origin: leaf.subject))
        {
            warnings.append(.certificateNotValid(note))
        }
        return warnings
    }

    /// The log entry's action for `request`: "added an …" online, "prepared an offline …" else.
    public static func logAction(for request: Request) -> String {
        let what = request.targets.map(\.rawValue).joined(separator: " and ")
        let signature = "\(request.scheme.rawValue) \(what) signature (\(request.signerKey.type) key)"
        return request.key == nil ? "prepared an offline " + signature : "added an " + signature
    }
}

extension Stitcher.Pending {
    /// The log entry's action for stitching this signature in.
    public var logAction: String { "stitched in an offline \(scheme.rawValue) \(target.rawValue) signature" }
}
