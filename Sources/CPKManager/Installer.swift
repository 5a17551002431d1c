import CPKCore
import CPKCrypto
import CPKFormat
import CPKPackage

/// What `cpk-install` decides besides the package.
public struct InstallOptions: Sendable {
    public var trust: TrustAnchors
    public var allowDowngrade: Bool

    public init(trust: TrustAnchors = TrustAnchors(), allowDowngrade: Bool = false) {
        self.trust = trust
        self.allowDowngrade = allowDowngrade
    }
}

/// Installs a package through the Package Manager contract, the way the host side of a device
/// does: it reads the package, decides whether its signer is trusted, and drives the calls of
/// DESIGN.md §5 in order; every cryptographic check on the payload is made by the Package
/// Manager. It knows the contract only, so it works with any backend.
public final class PackageInstaller {
    private let manager: PackageManagerAdministration
    private let options: InstallOptions
    /// Called after each chunk with the bytes passed so far and the total.
    public var progress: ((UInt64, UInt64) -> Void)?

    public init(manager: PackageManagerAdministration, options: InstallOptions) {
        self.manager = manager
        self.options = options
    }

    /// Installs `input`; never throws: the report says what passed, and `failure` what stopped
    /// it (nothing is installed then).
    public func install(_ input: PackageInput) -> InstallReport {
        var report = InstallReport(source: input.name, manifest: input.head.manifest)
        var step: InstallCheck? = nil
        let id = report.manifest.id
        var begun = false
        do {
            let plan = try DeploymentPlan(manifest: report.manifest, name: input.name)
            let contents = try PackageContents(input)
            report.payloadSize = contents.payloadSize
            step = .signer
            let signer = try plan.signer(in: contents, trust: options.trust)
            report.signer = try options.trust.authenticate(key: signer.key, chain: signer.chain)
            report.outcomes[.signer] = report.signer == .notAuthenticated ? .notAuthenticated : .passed
            step = nil
            try requireContract()
            try manager.beginApplicationDeployment(applicationID: id, totalSize: contents.payloadSize)
            begun = true
            step = .version
            try manager.describeDeployment(applicationID: id, plan.description, allowDowngrade: options.allowDowngrade)
            report.outcomes[.version] = .passed
            step = .classKey
            try manager.initializeDecryptionAESGCM(
                applicationID: id, keyBits: plan.keyBits, iv: contents.stream(plan.nonceIndex), tag: contents.stream(plan.tagIndex))
            report.outcomes[.classKey] = .passed
            step = .tag
            let packageCheck = try PackageSectionCheck(head: contents.head)
            try deploy(contents, id: id) { try packageCheck?.addPayload($0) }
            let verdict = try manager.verifyApplicationSHA256RSAPKCS1v15(
                applicationID: id, keyBits: plan.signatureBits, digest: contents.stream(plan.digestIndex),
                signature: contents.stream(plan.signatureIndex), publicKey: signer.key)
            report.outcomes[.tag] = .passed
            report.outcomes[.digest] = verdict.digestOK ? .passed : .failed
            report.outcomes[.signature] = verdict.signatureOK ? .passed : .failed
            try Self.require(verdict)
            step = .package
            try packageCheck?.verify(deferred: contents.deferredStreams, name: input.name)
            report.outcomes[.package] = packageCheck == nil ? .absent : .passed
            step = .version  // checked again as the deployment commits
            try manager.endApplicationDeployment(applicationID: id)
            report.installed = true
        } catch {
            if begun { manager.abortApplicationDeployment(applicationID: id) }
            if let step, (error as? CPKError)?.kind == .checkFailed, report.outcomes[step] == nil {
                report.outcomes[step] = .failed
            }
            report.failure = Self.describe(error, source: input.name)
        }
        return report
    }

    /// The contract version and the calls this installer makes.
    private func requireContract() throws {
        let version = try manager.ping()
        guard version >= 1 else { throw CPKError.io("the Package Manager speaks contract version \(version); 1 or later is needed") }
        for operation in ContractOperation.allCases where try !manager.isOperationSupported(operation.rawValue) {
            throw CPKError.io("the Package Manager does not support \(operation.rawValue)")
        }
    }

    private func deploy(
        _ contents: PackageContents, id: String, alsoTo observe: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var done: UInt64 = 0
        progress?(0, contents.payloadSize)
        try contents.forEachPayloadChunk { chunk in
            try observe(chunk)
            try manager.addApplicationData(applicationID: id, chunk: chunk)
            done += UInt64(chunk.count)
            progress?(done, contents.payloadSize)
        }
    }

    private static func require(_ verdict: VerificationResult) throws {
        switch (verdict.digestOK, verdict.signatureOK) {
        case (true, true): return
        case (false, true):
            throw CPKError.check("Digest check FAILED: the decrypted payload does not hash to the package's SHA-256 digest")
        case (true, false):
            throw CPKError.check("Signature check FAILED: the signature over the digest does not verify with the signer's key")
        case (false, false):
            throw CPKError.check(
                "Digest check FAILED and Signature check FAILED: the decrypted payload does not hash to the package's "
                    + "digest, and the signature does not verify")
        }
    }

    private static func describe(_ error: Error, source: String) -> Error {
        guard let error = error as? CPKError else { return error }
        let message = error.message.contains("nothing was installed") ? error.message : error.message + "; nothing was installed"
        return CPKError(error.kind, message).located(in: source)
    }
}

/// What the manifest says about deploying the payload, checked against what the contract can do.
struct DeploymentPlan {
    let description: ApplicationDescription
    let keyBits: Int
    let nonceIndex: Int
    let tagIndex: Int
    let digestIndex: Int
    let signatureBits: Int
    let signatureIndex: Int
    let certificate: Certificate

    init(manifest: Manifest, name: String) throws {
        let payload = manifest.payload
        description = ApplicationDescription(
            name: manifest.name, vendor: manifest.vendor, target: payload.target, version: payload.version)
        guard case .aesGCM(let keyName, let bits, let nonce, let tag) = payload.encryption else {
            throw CPKError.invalid("\(name): the payload is not encrypted; the Package Manager installs only sealed packages (cpk-seal)")
        }
        guard keyName == manifest.id else {
            throw CPKError.invalid(
                "\(name): the payload is encrypted with the key \"\(keyName)\", not with the key of its id \"\(manifest.id)\"; "
                    + "the Package Manager finds class keys by application id")
        }
        guard case .sha256(let digest) = payload.digest else {
            throw CPKError.invalid("\(name): the package has no payload digest; the Package Manager checks the plaintext against one")
        }
        guard case .rsaPKCS1v15(let signatureBits, let signature) = payload.signature else {
            throw CPKError.invalid(
                payload.signature == .none
                    ? "\(name): the payload is not signed; the Package Manager installs only signed packages (cpk-sign)"
                    : "\(name): the payload signature is not rsa-pkcs1v15, the only scheme the Package Manager contract verifies")
        }
        (keyBits, nonceIndex, tagIndex, digestIndex) = (bits, nonce, tag, digest)
        (self.signatureBits, signatureIndex, certificate) = (signatureBits, signature, payload.certificate)
    }

    /// The signer's key (DER SubjectPublicKeyInfo) and certificate chain, from the package, or
    /// from the trusted keys when the package does not carry its signer's key.
    func signer(in contents: PackageContents, trust: TrustAnchors) throws -> (key: [UInt8], chain: [X509Certificate]) {
        switch certificate {
        case .x509PEM(let index), .x509DER(let index):
            let chain: [X509Certificate]
            do {
                chain = try X509Certificate.chain(loading: contents.stream(index))
            } catch let error as CPKError {
                throw CPKError.invalid("the package's certificate cannot be read: \(error.message)")
            }
            guard let leaf = chain.first else { throw CPKError.invalid("the package's certificate stream is empty") }
            return (try leaf.publicKey.subjectPublicKeyInfoDER, chain)
        case .publicKeyPEM(let index), .publicKeyDER(let index):
            do {
                return (try VerifyingKey(loading: contents.stream(index)).subjectPublicKeyInfoDER, [])
            } catch let error as CPKError {
                throw CPKError.invalid("the package's public key cannot be read: \(error.message)")
            }
        case .none, .targetDomain, .url:
            let digest = contents.stream(digestIndex)
            let signature = contents.stream(signatureIndex)
            for key in trust.keys
            where (try? RSASignatureCheck.verify(digest: digest, signature: signature, publicKeyDER: key, keyBits: signatureBits)) == true {
                return (key, [])
            }
            throw CPKError.check(
                "Signer check FAILED: the package does not carry its signer's certificate, and no key given with "
                    + "--trusted-key made its signature")
        }
    }
}
