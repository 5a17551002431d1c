import CPKCore
import CPKCrypto
import CPKFormat

/// What a signing run did, for `cpk-sign --json`: the signatures made (or prepared), their
/// scheme, the digests signed, and who the signer is; `cpk-sign stitch --json` reports the
/// stitched signature the same way (`offline` true). Member names and order are stable.
public struct SigningReport: Sendable {
    public let targets: [SignatureTarget]
    public let scheme: SignatureScheme
    /// False for a prepared offline signature (its bytes are made elsewhere).
    public let signed: Bool
    public let replaced: Bool
    /// SHA-256 of the signer's DER SubjectPublicKeyInfo.
    public let signerFingerprint: [UInt8]
    public let signerKeyType: String
    /// How the package names its signer: x509, public-key, url, domain or none.
    public let naming: String
    /// The embedded certificate's subject and issuer (x509 only).
    public let certificateSubject: String?
    public let certificateIssuer: String?
    /// The payload digest the payload signature signs (when one is made).
    public let payloadDigest: [UInt8]?
    /// The package digest the package signature signs (when one is made).
    public internal(set) var packageDigest: [UInt8]? = nil

    init(request: Signer.Request, payloadDigest: [UInt8]?) throws {
        targets = request.targets
        scheme = request.scheme
        signed = request.key != nil
        replaced = request.replacing
        signerFingerprint = try request.signerKey.fingerprint
        signerKeyType = "\(request.signerKey.type)"
        self.payloadDigest = payloadDigest
        var subject: String? = nil
        var issuer: String? = nil
        switch request.certificate {
        case .none: naming = "none"
        case .x509(let chain, _):
            naming = "x509"
            (subject, issuer) = (chain.first?.subject, chain.first?.issuer)
        case .publicKey: naming = "public-key"
        case .url: naming = "url"
        case .domain: naming = "domain"
        }
        (certificateSubject, certificateIssuer) = (subject, issuer)
    }

    /// The report of `cpk-sign stitch`: the offline signature that was pending, now in.
    init(stitched pending: Stitcher.Pending, signer: VerifyingKey, digest: [UInt8], head: PackageHead) throws {
        targets = [pending.target]
        scheme = pending.scheme
        (signed, replaced) = (false, false)
        signerFingerprint = try signer.fingerprint
        signerKeyType = "\(signer.type)"
        payloadDigest = pending.target == .payload ? digest : nil
        packageDigest = pending.target == .package ? digest : nil
        var subject: String? = nil
        var issuer: String? = nil
        switch pending.certificate {
        case .none: naming = "none"
        case .x509PEM(let index), .x509DER(let index):
            naming = "x509"
            if case .bytes(let bytes) = head.streams[index], let leaf = try? X509Certificate.chain(loading: bytes).first {
                (subject, issuer) = (leaf.subject, leaf.issuer)
            }
        case .publicKeyPEM, .publicKeyDER: naming = "public-key"
        case .url: naming = "url"
        case .targetDomain: naming = "domain"
        }
        (certificateSubject, certificateIssuer) = (subject, issuer)
    }

    public var json: JSONValue {
        .object([
            ("signatures", .array(targets.map { .string($0.rawValue) })),
            ("scheme", .string(scheme.rawValue)),
            ("offline", .bool(!signed)),
            ("replaced", .bool(replaced)),
            ("payload-digest", payloadDigest.map { .string(Hex.encode($0)) } ?? .null),
            ("package-digest", packageDigest.map { .string(Hex.encode($0)) } ?? .null),
            ("signer", .object([
                ("key-type", .string(signerKeyType)),
                ("key-sha256", .string(Hex.encode(signerFingerprint))),
                ("named-by", .string(naming)),
                ("subject", certificateSubject.map { .string($0) } ?? .null),
                ("issuer", certificateIssuer.map { .string($0) } ?? .null),
            ])),
        ])
    }
}
