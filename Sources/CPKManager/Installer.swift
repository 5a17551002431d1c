#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKFormat
import CPKPackage

/// What `cpk-install` decides besides the package.
public struct InstallOptions: Sendable {
    /// The device's trust policy (provisioned anchors and those given for this install). With
    /// no trust input, the device is in development mode: nothing is authenticated.
    public var trust: TrustPolicy
    public var allowDowngrade: Bool
    /// With a trust policy, install a package whose manifest no trusted signature covers; its
    /// version then leaves the anti-rollback floor where it is, and the record says so.
    public var acceptUnauthenticatedManifest = false
    /// With a trust policy, let an upgrade come from another signer identity than the
    /// installed version's.
    public var allowSignerChange = false

    public init(trust: TrustPolicy = TrustPolicy(time: Int(time(nil))), allowDowngrade: Bool = false) {
        self.trust = trust
        self.allowDowngrade = allowDowngrade
    }
}

/// Installs a package through the Package Manager contract, the way the host side of a device
/// does: it reads the package, decides with the device's trust policy whether its signers are
/// trusted and its manifest authenticated, and drives the contract's calls (cpk-install(1), DESCRIPTION) in order; every
/// cryptographic check on the payload is made by the Package Manager. It knows the contract
/// only, so it works with any backend.
public final class PackageInstaller {
    private let manager: PackageManagerAdministration
    private let options: InstallOptions
    /// Called after each chunk with the bytes passed so far and the total.
    public var progress: ((UInt64, UInt64) -> Void)?
    /// Called once the host-side checks passed, just before the payload flows to the Package
    /// Manager, with the report so far (its identity is complete).
    public var beforePayload: ((InstallReport) -> Void)?

    public init(manager: PackageManagerAdministration, options: InstallOptions) {
        self.manager = manager
        self.options = options
    }

    /// Installs `input`; never throws: the report says what passed, and `failure` what stopped
    /// it (nothing is installed then).
    public func install(_ input: PackageInput) -> InstallReport {
        var report = InstallReport(source: input.name, manifest: input.head.manifest)
        report.developmentMode = !options.trust.hasTrustInput
        var step: InstallCheck? = nil
        let id = report.manifest.id
        var begun = false
        var keyCheckValue: [UInt8]?
        do {
            let plan = try DeploymentPlan(manifest: report.manifest)
            let contents = try PackageContents(input)
            keyCheckValue = contents.head.keyCheckValue
            report.payloadSize = contents.payloadSize
            // The package signature's integrity first (its signer is judged with the payload's).
            step = .package
            let gate = try SignatureGate(
                head: contents.head, trust: TrustPolicy(time: options.trust.time), checkPayloadSignature: false)
            let package = try gate.checkSignature(.package, deferred: contents.deferredStreams, name: input.name)
            step = .signer
            let signer = try plan.signer(in: contents, trust: options.trust)
            let packageSigner = try judge(signer: signer, package: package?.signer, id: id, into: &report)
            step = .manifest
            let coversManifest = packageSigner != nil && contents.head.packageSignatureCoversManifest
            let provenance = try decideProvenance(coversManifest: coversManifest, into: &report)
            step = nil
            try requireContract(for: plan.scheme)
            try manager.beginApplicationDeployment(applicationID: id, totalSize: contents.payloadSize)
            begun = true
            step = .version
            var description = plan.description
            description.provenance = provenance
            try manager.describeDeployment(applicationID: id, description, allowDowngrade: options.allowDowngrade)
            report.outcomes[.version] = .passed
            step = .classKey
            try manager.initializeDecryptionAESGCM(
                applicationID: id, keyBits: plan.keyBits, iv: contents.stream(plan.nonceIndex), tag: contents.stream(plan.tagIndex))
            report.outcomes[.classKey] = .passed
            step = .tag
            beforePayload?(report)
            try deploy(contents, id: id) { try gate.addPayload($0) }
            let verdict = try manager.verifyApplication(
                applicationID: id, scheme: plan.scheme, keyBits: plan.signatureBits, digest: contents.stream(plan.digestIndex),
                signature: contents.stream(plan.signatureIndex), publicKey: signer.key.subjectPublicKeyInfoDER)
            report.outcomes[.tag] = .passed
            report.outcomes[.digest] = verdict.digestOK ? .passed : .failed
            report.outcomes[.signature] = verdict.signatureOK ? .passed : .failed
            try Self.require(verdict)
            step = .package
            try gate.checkPackageDigest(deferred: contents.deferredStreams, name: input.name)
            report.outcomes[.package] = contents.head.manifest.package.signature == .none ? .absent : .passed
            if provenance.manifestAuthenticated {
                report.manifestAuthenticated = true
                report.outcomes[.manifest] = .passed
            }
            step = .version  // checked again as the deployment commits
            try manager.endApplicationDeployment(applicationID: id)
            report.installed = true
        } catch {
            if begun { manager.abortApplicationDeployment(applicationID: id) }
            if let step, (error as? CPKError)?.kind == .checkFailed, report.outcomes[step] == nil {
                report.outcomes[step] = .failed
            }
            let error = explainTagFailure(error, id: id, keyCheckValue: keyCheckValue, into: &report)
            report.failure = Self.describe(error, source: input.name)
        }
        return report
    }

    /// The signer check: with a trust policy, the payload's signer and the package's must be
    /// trusted, and an upgrade must come from the same identity. Returns the trusted package signer.
    private func judge(signer: SignerCredentials, package: SignerCredentials?, id: String, into report: inout InstallReport) throws
        -> TrustedSigner?
    {
        // Both signers are judged before either refusal, so the report names each with its own
        // verdict, the failing one included.
        let payloadVerdict = options.trust.evaluate(signer, applicationID: id)
        let packageVerdict = package.map { options.trust.evaluate($0, applicationID: id) }
        // One expiry rule (docs/format.md §8.3, rule 4): a signer accepted although its
        // certificate is not valid now is accepted aloud, in development mode as with allowExpired.
        let accepted = options.trust.hasTrustInput ? "accepted as asked" : "accepted: development mode judges no validity"
        for (role, credentials) in [("payload", signer), ("package", package)] {
            guard let credentials, let note = options.trust.validityNote(credentials) else { continue }
            report.validityNotes.append("the \(role) signer's certificate \(note); \(accepted)")
        }
        if case .noTrustInput = payloadVerdict {
            report.outcomes[.signer] = .notAuthenticated
            return nil
        }
        report.payloadSignerVerdict = SignerVerdict(identity: SignerIdentity(signer), verdict: payloadVerdict)
        if let package, let packageVerdict {
            report.packageSignerVerdict = SignerVerdict(identity: SignerIdentity(package), verdict: packageVerdict)
        }
        report.payloadSigner = payloadVerdict.trustedSigner
        report.packageSigner = packageVerdict?.trustedSigner
        if case .untrusted(let failure) = payloadVerdict {
            throw CPKError.check("Signer check FAILED: \(failure.message)")
        }
        if case .untrusted(let failure)? = packageVerdict {
            throw CPKError.check("Signer check FAILED: the package signature's signer: \(failure.message)")
        }
        let identity = report.recordedSigner?.continuity
        // What a removal kept counts as installed here: remove then install allows no more.
        let installed = try manager.applicationHistory(applicationID: id)
        // Under a trust policy a floor no authenticated manifest set does not bind (rule 7);
        // the report names it, so nobody wonders where the 99.0.0 went.
        report.setAsideFloor = installed?.unauthenticatedFloor
        if let installed, let previous = installed.description.provenance.recordedSignerIdentity, let identity,
            !identity.isSameSigner(as: previous)
        {
            report.previousSigner = previous.text
            report.previousSignerIdentity = previous
            guard options.allowSignerChange else {
                // Names first as before, then what vouched for each: two signers may share a name.
                throw CPKError(
                    .checkFailed,
                    "Signer check FAILED: the installed \(id) \(installed.description.version.dotted) was signed by "
                        + "\(SignerIdentity.shown(previous.text)), this package by \(SignerIdentity.shown(identity.text)) "
                        + "(installed: \(previous); this package: \(identity)); a change of signer must be allowed explicitly",
                    reason: .signerChange)
            }
        }
        report.outcomes[.signer] = .passed
        return report.packageSigner
    }

    /// The manifest check: what the manifest says counts only when a trusted signature covers it.
    private func decideProvenance(coversManifest: Bool, into report: inout InstallReport) throws -> Provenance {
        guard options.trust.hasTrustInput else {
            report.outcomes[.manifest] = .notAuthenticated
            return .development
        }
        let signer = report.recordedSigner?.identity.text
        let identity = report.recordedSigner?.continuity
        if coversManifest {
            // Reported as passed only once the package digest over the map matches (after the
            // payload): until then the manifest is only the package signature's claim.
            return Provenance(signer: signer, manifestAuthenticated: true, setsRollbackFloor: true, signerIdentity: identity)
        }
        guard options.acceptUnauthenticatedManifest else {
            throw CPKError.check(
                "Manifest check FAILED: no trusted signature covers the manifest, so its id, version, name and target "
                    + "are not authenticated (\(Self.whyUncovered(report.manifest)))")
        }
        report.outcomes[.manifest] = .acceptedUnauthenticated
        return Provenance(signer: signer, manifestAuthenticated: false, setsRollbackFloor: false, signerIdentity: identity)
    }

    private static func whyUncovered(_ manifest: Manifest) -> String {
        manifest.package.signature == .none
            ? "the package has a payload signature only, which covers the payload digest"
            : "the package signature's map leaves out the manifest"
    }

    /// A failed tag check, explained by the package's key check value when the Package Manager
    /// can compare it (docs/format.md §4.1): a package sealed with another class key than the
    /// installed one is not called altered. The value is unauthenticated, so it only chooses
    /// the words of a refusal that happens anyway, and is asked after the tag check failed.
    private func explainTagFailure(_ error: Error, id: String, keyCheckValue: [UInt8]?, into report: inout InstallReport) -> Error {
        guard let failure = error as? CPKError, failure.reason == .tagMismatch, let keyCheckValue,
            let checker = manager as? ApplicationKeyCheck,
            (try? manager.isOperationSupported(ContractOperation.checkApplicationKey.rawValue)) == true,
            let matches = try? checker.applicationKeyMatches(applicationID: id, keyCheckValue: keyCheckValue)
        else { return error }
        if matches {
            return CPKError(
                .checkFailed,
                "Tag check FAILED: AES-256-GCM does not authenticate the payload of \"\(id)\", sealed with the installed class "
                    + "key (its key check value matches): the ciphertext, nonce or tag was altered", reason: .tagMismatch, subject: id)
        }
        report.outcomes[.classKey] = .failed
        return CPKError(
            .checkFailed,
            "Class key check FAILED: \"\(id)\" was sealed with another class key than the installed one (its key check value "
                + "differs); sync keys first", reason: .classKeyMismatch, subject: id)
    }

    /// The contract version and the calls this installer makes, the verification call for
    /// the payload's signature scheme among them.
    private func requireContract(for scheme: SignatureScheme) throws {
        let version = try manager.ping()
        guard version >= 1 else { throw CPKError.io("the Package Manager speaks contract version \(version); 1 or later is needed") }
        let verification = ContractOperation.verification(of: scheme)
        if try !manager.isOperationSupported(verification.rawValue) {
            throw CPKError.invalid(
                "the payload signature is \(scheme.rawValue), but this Package Manager lacks \(verification.rawValue), "
                    + "the call that verifies it")
        }
        for operation in ContractOperation.allCases where operation.verifiedScheme == nil && !operation.isExtension {
            if try !manager.isOperationSupported(operation.rawValue) {
                throw CPKError.io("the Package Manager does not support \(operation.rawValue)")
            }
        }
    }

    private func deploy(
        _ contents: PackageContents, id: String, alsoTo observe: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var done: UInt64 = 0
        progress?(0, contents.payloadSize)
        // What observes the package (its digest) runs on the second core while the Package
        // Manager decrypts, hashes and stores the chunk: both only read it.
        try contents.forEachPayloadChunk(overlapping: Overlap(), observe) { chunk in
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
        return error.appending("; nothing was installed").located(in: source)
    }
}

/// What the manifest says about deploying the payload, checked against what the contract can do.
struct DeploymentPlan {
    let description: ApplicationDescription
    let keyBits: Int
    let nonceIndex: Int
    let tagIndex: Int
    let digestIndex: Int
    let scheme: SignatureScheme
    let signatureBits: Int
    let signatureIndex: Int
    let certificate: Certificate

    init(manifest: Manifest) throws {
        let payload = manifest.payload
        description = ApplicationDescription(
            name: manifest.name, vendor: manifest.vendor, target: payload.target, version: payload.version)
        guard case .aesGCM(let keyName, let bits, let nonce, let tag) = payload.encryption else {
            throw CPKError.invalid("the payload is not encrypted; the Package Manager installs only sealed packages (cpk-seal)")
        }
        guard keyName == manifest.id else {
            throw CPKError.invalid(
                "the payload is encrypted with the key \"\(keyName)\", not with the key of its id \"\(manifest.id)\"; "
                    + "the Package Manager finds class keys by application id")
        }
        guard case .sha256(let digest) = payload.digest else {
            throw CPKError.invalid("the package has no payload digest; the Package Manager checks the plaintext against one")
        }
        guard let scheme = payload.signature.scheme, let signature = payload.signature.stream else {
            throw CPKError.invalid("the payload is not signed; the Package Manager installs only signed packages (cpk-sign)")
        }
        (keyBits, nonceIndex, tagIndex, digestIndex) = (bits, nonce, tag, digest)
        (self.scheme, signatureBits, signatureIndex, certificate) = (scheme, payload.signature.keyStrength ?? 0, signature, payload.certificate)
    }

    /// The payload signer's key and certificate chain, from the package, or from the pinned
    /// keys when the package does not carry its signer's key.
    func signer(in contents: PackageContents, trust: TrustPolicy) throws -> SignerCredentials {
        let digest = contents.stream(digestIndex)
        let signature = contents.stream(signatureIndex)
        do {
            return try SignerCredentials.resolve(
                certificate, stream: { contents.stream($0) }, candidates: trust.pinnedKeys.map(\.key),
                verifies: { (try? $0.verify(signature: signature, digest: digest, scheme: scheme)) == true })
        } catch let failure as SignerCredentials.ResolutionFailure {
            switch failure {
            case .notEmbedded:
                throw CPKError.check(
                    "Signer check FAILED: the package does not carry its signer's certificate, and no trusted key made its signature")
            case .unreadable(let message), .mismatch(let message):
                throw CPKError.invalid("the package's signer cannot be read: \(message)")
            }
        }
    }
}
