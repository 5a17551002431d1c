#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKKeys

/// What authenticates a package's signer: CA certificates the signer's certificate must chain
/// to, and public keys trusted as they are. Given on the command line (`--ca`,
/// `--trusted-key`) or provisioned in the simulator's state (`cpk-install trust add`).
public struct TrustAnchors: Sendable {
    /// Roots or intermediates: a chain may stop at any of them.
    public private(set) var certificates: [X509Certificate] = []
    /// Keys trusted directly, as DER SubjectPublicKeyInfo.
    public private(set) var keys: [[UInt8]] = []

    public init() {}

    public var isEmpty: Bool { certificates.isEmpty && keys.isEmpty }

    /// Adds the certificates of a `--ca` file (PEM, one or several, or DER).
    public mutating func addCertificates(from bytes: [UInt8], name: String) throws {
        do {
            certificates += try X509Certificate.chain(loading: bytes)
        } catch let error as CPKError {
            throw error.located(in: name)
        }
    }

    /// Adds a `--trusted-key`: a public key in any form, or a certificate whose key is trusted.
    public mutating func addKey(from bytes: [UInt8], name: String) throws {
        do {
            keys.append(try VerifyingKey(loading: bytes).subjectPublicKeyInfoDER)
        } catch let error as CPKError {
            throw error.located(in: name)
        }
    }

    /// Adds an anchor file by what it holds: certificates become CA anchors, a public key a
    /// trusted key.
    public mutating func addAnchor(from bytes: [UInt8], name: String) throws {
        if let found = try? X509Certificate.chain(loading: bytes) {
            certificates += found
        } else {
            try addKey(from: bytes, name: name)
        }
    }

    /// The anchors provisioned in a state directory's `trust/`.
    public static func provisioned(in state: StateDirectory) throws -> TrustAnchors {
        var anchors = TrustAnchors()
        for name in try StateDirectory.entries(in: state.trustPath) {
            let path = state.trustPath + "/" + name
            // An anchor decides who is trusted: only a regular file this user wrote counts.
            guard let file = try StateDirectory.openPrivateFile(path) else { continue }
            let size = try file.status().size
            guard size <= UInt64(SmallInput.documentLimit) else {
                throw CPKError.io("\(path) is larger than \(SmallInput.documentLimit) bytes; it is not a trust anchor: remove it")
            }
            var bytes = [UInt8](repeating: 0, count: Int(size))
            try bytes.withUnsafeMutableBytes { try file.read(into: $0, at: 0, what: "the trust anchor") }
            try anchors.addAnchor(from: bytes, name: path)
        }
        return anchors
    }

    /// Copies an anchor file into the state's `trust/`, named by its content's SHA-256 so the
    /// same anchor is kept once; returns that name.
    public static func provision(_ bytes: [UInt8], name: String, in state: StateDirectory) throws -> String {
        var check = TrustAnchors()
        try check.addAnchor(from: bytes, name: name)  // refuse what is neither certificate nor key
        let fileName = String(Hex.encode(try SHA256Hasher.digest(bytes)).prefix(16)) + (check.certificates.isEmpty ? ".key" : ".crt")
        let output = try OutputFile(path: state.trustPath + "/" + fileName, binary: true, mode: 0o600)
        try output.descriptor.write(bytes)
        try output.commit()
        return fileName
    }

    /// Decides whether the signer is authenticated, now. With no anchors at all, says so.
    /// - Parameters:
    ///   - key: the signer's key (DER SubjectPublicKeyInfo).
    ///   - chain: the signer's certificate and the ones the package adds to complete its chain.
    func authenticate(key: [UInt8], chain: [X509Certificate]) throws -> SignerAuthentication {
        if isEmpty { return .notAuthenticated }
        if keys.contains(key) {
            return .trustedKey(fingerprint: Hex.encode(try SHA256Hasher.digest(key)))
        }
        guard let leaf = chain.first else {
            throw CPKError.check(
                "Signer check FAILED: the signer's key is not a trusted key, and the package embeds no certificate to check against the CAs")
        }
        guard !certificates.isEmpty else {
            throw CPKError.check("Signer check FAILED: the signer's key is none of the trusted keys (--trusted-key)")
        }
        guard leaf.allowsDigitalSignature else {
            throw CPKError.check("Signer check FAILED: the certificate of \(leaf.subject) does not allow digital signatures (key usage)")
        }
        let outcome = try CertificateChain.verify(
            leaf: leaf, intermediates: Array(chain.dropFirst()), anchors: certificates, at: Int(time(nil)), allowExpired: false)
        switch outcome {
        case .trusted(let path):
            return .trustedCA(subject: path.last ?? leaf.subject)
        case .untrusted(let reason):
            throw CPKError.check("Signer check FAILED: \(leaf.subject) is not issued by a trusted CA: \(reason)")
        }
    }
}

/// How the signer of an installed package was authenticated.
public enum SignerAuthentication: Sendable, Equatable {
    /// Its key is one of the trusted keys.
    case trustedKey(fingerprint: String)
    /// Its certificate chains to a trusted CA.
    case trustedCA(subject: String)
    /// No trust anchor was given: the signature was checked against the key the package
    /// itself carries, which proves integrity but not who signed.
    case notAuthenticated
}

extension TrustAnchors {
    /// The names of the anchors provisioned in a state directory.
    public static func provisionedNames(in state: StateDirectory) throws -> [String] {
        try StateDirectory.entries(in: state.trustPath)
    }

    /// Removes a provisioned anchor.
    public static func removeProvisioned(named name: String, in state: StateDirectory) throws {
        guard !name.contains("/"), try provisionedNames(in: state).contains(name) else {
            throw CPKError.usage("no trust anchor named \"\(name)\" (see cpk-install trust list)")
        }
        guard unlink(state.trustPath + "/" + name) == 0 else {
            throw FileDescriptor.systemError("cannot remove the trust anchor \(name)")
        }
    }
}
