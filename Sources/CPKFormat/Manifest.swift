/// The version-1 manifest of a confidential package (docs/format.md).
///
/// It names streams only by index. Every scheme is an enum, so a manifest that names a scheme
/// this code does not know cannot be represented: reading it fails instead of guessing.
public struct Manifest: Sendable, Equatable {
    public var id: String
    public var name: String
    public var vendor: String
    public var payload: PayloadSection
    public var package: PackageSection

    public init(id: String, name: String, vendor: String, payload: PayloadSection, package: PackageSection) {
        self.id = id
        self.name = name
        self.vendor = vendor
        self.payload = payload
        self.package = package
    }
}

public struct PayloadSection: Sendable, Equatable {
    public var data: Int
    public var target: Target
    public var version: Version
    public var encryption: Encryption
    public var digest: Digest
    public var signature: Signature
    public var certificate: Certificate

    public init(
        data: Int, target: Target, version: Version, encryption: Encryption = .none,
        digest: Digest = .none, signature: Signature = .none, certificate: Certificate = .none
    ) {
        self.data = data
        self.target = target
        self.version = version
        self.encryption = encryption
        self.digest = digest
        self.signature = signature
        self.certificate = certificate
    }
}

public struct PackageSection: Sendable, Equatable {
    /// Streams whose bytes, concatenated in this order, the package digest and signature cover.
    public var map: [Int]
    public var digest: Digest
    public var signature: Signature
    public var certificate: Certificate

    public init(map: [Int], digest: Digest = .none, signature: Signature = .none, certificate: Certificate = .none) {
        self.map = map
        self.digest = digest
        self.signature = signature
        self.certificate = certificate
    }
}

public struct Target: Sendable, Equatable {
    public var arch: String
    public var os: String
    public init(arch: String, os: String) {
        self.arch = arch
        self.os = os
    }
}

public struct Version: Sendable, Equatable, Comparable {
    public var major: UInt32
    public var minor: UInt32
    public var revision: UInt32
    /// Opaque text when read; RFC 3339 UTC when this project writes it.
    public var date: String

    public init(major: UInt32, minor: UInt32, revision: UInt32, date: String) {
        self.major = major
        self.minor = minor
        self.revision = revision
        self.date = date
    }

    /// Parses `MAJ.MIN.REV`, e.g. `1.2.0`.
    public init?(dotted text: String, date: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) }),
            let major = UInt32(parts[0]), let minor = UInt32(parts[1]), let revision = UInt32(parts[2])
        else { return nil }
        self.init(major: major, minor: minor, revision: revision, date: date)
    }

    public var dotted: String { "\(major).\(minor).\(revision)" }

    public static func < (lhs: Version, rhs: Version) -> Bool {
        (lhs.major, lhs.minor, lhs.revision) < (rhs.major, rhs.minor, rhs.revision)
    }
}

public enum Encryption: Sendable, Equatable {
    case none
    case aesGCM(keyName: String, keyStrength: Int, nonce: Int, tag: Int)
}

public enum Digest: Sendable, Equatable {
    case none
    case sha256(data: Int)

    public static let sha256Size = 32

    public var stream: Int? {
        switch self {
        case .none: return nil
        case .sha256(let data): return data
        }
    }
}

public enum Signature: Sendable, Equatable {
    case none
    /// RSA PKCS#1 v1.5 over a SHA-256 digest; the signature is `keyStrength / 8` bytes.
    case rsaPKCS1v15(keyStrength: Int, data: Int)
    /// RSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) over a SHA-256 digest; `keyStrength / 8` bytes.
    case rsaPSS(keyStrength: Int, data: Int)
    /// ECDSA P-256 with SHA-256; raw r‖s, 64 bytes.
    case ecdsaP256(data: Int)
    /// ECDSA P-384 with SHA-384; raw r‖s, 96 bytes.
    case ecdsaP384(data: Int)
    /// Ed25519; 64 bytes.
    case ed25519(data: Int)

    /// The scheme's name in the manifest ("none" when absent).
    public var schemeName: String {
        switch self {
        case .none: return "none"
        case .rsaPKCS1v15: return "rsa-pkcs1v15"
        case .rsaPSS: return "rsa-pss"
        case .ecdsaP256: return "ecdsa-p256"
        case .ecdsaP384: return "ecdsa-p384"
        case .ed25519: return "ed25519"
        }
    }

    public var stream: Int? {
        switch self {
        case .none: return nil
        case .rsaPKCS1v15(_, let data), .rsaPSS(_, let data), .ecdsaP256(let data), .ecdsaP384(let data),
            .ed25519(let data):
            return data
        }
    }

    /// The size the signature stream must have, known before signing.
    public var expectedSize: Int? {
        switch self {
        case .none: return nil
        case .rsaPKCS1v15(let bits, _), .rsaPSS(let bits, _): return bits / 8
        case .ecdsaP256, .ed25519: return 64
        case .ecdsaP384: return 96
        }
    }

    /// The RSA key size the manifest records; nil for the other schemes, whose size is fixed.
    public var keyStrength: Int? {
        switch self {
        case .rsaPKCS1v15(let bits, _), .rsaPSS(let bits, _): return bits
        default: return nil
        }
    }
}

public enum Certificate: Sendable, Equatable {
    case none
    case targetDomain(String)
    case url(String)
    case x509PEM(data: Int)
    case x509DER(data: Int)
    case publicKeyPEM(data: Int)
    case publicKeyDER(data: Int)

    public var stream: Int? {
        switch self {
        case .none, .targetDomain, .url: return nil
        case .x509PEM(let data), .x509DER(let data), .publicKeyPEM(let data), .publicKeyDER(let data):
            return data
        }
    }
}
