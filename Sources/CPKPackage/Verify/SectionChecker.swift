import CPKCore
import CPKCrypto
import CPKFormat

/// The signature, certificate and trust checks of the payload or the package section, once
/// every small stream is known. cpk-verify reports them; cpk-unpack and cpk-install require
/// them (through `SignatureGate`), so all three judge a signer by the same `TrustPolicy`.
struct SectionChecker {
    let head: PackageHead
    let deferred: [Int: [UInt8]]
    let policy: VerifyPolicy

    /// What the checks of one signed section found.
    struct Outcome {
        let signer: SignerCredentials
        let signatureVerified: Bool
        let verdict: TrustVerdict
    }

    /// The section's signature scheme, signature stream and digest stream, or nil when it is
    /// not signed.
    func signed(_ target: SignatureTarget) -> (signature: Signature, digest: Int, certificate: Certificate)? {
        let section =
            target == .payload
            ? (head.manifest.payload.signature, head.manifest.payload.digest, head.manifest.payload.certificate)
            : (head.manifest.package.signature, head.manifest.package.digest, head.manifest.package.certificate)
        guard section.0 != .none, let digest = section.1.stream else { return nil }
        return (section.0, digest, section.2)
    }

    /// Adds the section's signature, certificate and trust checks to `report`; nil when the
    /// section is not signed or its signer cannot be found.
    func check(_ target: SignatureTarget, into report: inout VerificationReport) -> Outcome? {
        let checks = (VerificationCheck.signature(target), VerificationCheck.certificate(target), VerificationCheck.trust(target))
        guard let section = signed(target), let scheme = section.signature.scheme, let signatureIndex = section.signature.stream
        else {
            for check in [checks.0, checks.1, checks.2] { report.add(check, .skipped, "the \(target.rawValue) is not signed") }
            return nil
        }
        let signatureBytes = bytes(signatureIndex)
        let digestBytes = bytes(section.digest)
        let signer: SignerCredentials
        do {
            signer = try SignerCredentials.resolve(
                section.certificate, stream: { streamBytes(head, $0, deferred: deferred) }, external: policy.certificates,
                candidates: policy.trust.pinnedKeys.map(\.key),
                verifies: { (try? $0.verify(signature: signatureBytes, digest: digestBytes, scheme: scheme)) == true })
        } catch {
            report.add(checks.0, .failed, "\(error)")
            for check in [checks.1, checks.2] { report.add(check, .skipped, "no signer's key to check") }
            return nil
        }
        let verified = checkSignature(
            target, scheme: scheme, keyStrength: section.signature.keyStrength, signatureIndex: signatureIndex,
            digestIndex: section.digest, signer: signer, into: &report)
        checkCertificate(target, signer: signer, into: &report)
        let verdict = policy.trust.evaluate(signer, applicationID: head.manifest.id)
        switch verdict {
        case .trusted(let trusted): report.add(checks.2, .passed, trusted.explanation)
        case .untrusted(let failure): report.add(checks.2, failure: failure)
        case .noTrustInput:
            report.add(checks.2, .skipped, "no trust anchor or pinned key given: the signature shows the package is intact, not who signed it")
        }
        return Outcome(signer: signer, signatureVerified: verified, verdict: verdict)
    }

    private func bytes(_ index: Int) -> [UInt8] { streamBytes(head, index, deferred: deferred) ?? [] }

    private func checkSignature(
        _ target: SignatureTarget, scheme: SignatureScheme, keyStrength: Int?, signatureIndex: Int, digestIndex: Int,
        signer: SignerCredentials, into report: inout VerificationReport
    ) -> Bool {
        let check = VerificationCheck.signature(target)
        if head.pendingSignatures.contains(signatureIndex) {
            report.add(check, .failed, "stream \(signatureIndex) awaits an offline signature (cpk-sign stitch)")
            return false
        }
        if let bits = keyStrength, bits != signer.key.type.bits {
            report.add(check, .failed, "the manifest says a \(bits)-bit key, but the signer's key (\(signer.origin)) is \(signer.key.type)")
            return false
        }
        let fingerprint = (try? signer.key.fingerprint).map { String(hex($0).prefix(16)) } ?? "?"
        do {
            if try signer.key.verify(signature: bytes(signatureIndex), digest: bytes(digestIndex), scheme: scheme) {
                report.add(check, .passed, "\(scheme.rawValue) over the \(target.rawValue) digest (stream \(digestIndex)) by the \(signer.key.type) key sha256:\(fingerprint)… (\(signer.origin))")
                return true
            }
            report.add(check, .failed, "the \(scheme.rawValue) signature (stream \(signatureIndex)) does not verify over the \(target.rawValue) digest (stream \(digestIndex)) with \(signer.origin)")
        } catch {
            report.add(check, .failed, "\(error)")
        }
        return false
    }

    private func checkCertificate(_ target: SignatureTarget, signer: SignerCredentials, into report: inout VerificationReport) {
        let check = VerificationCheck.certificate(target)
        guard let leaf = signer.chain.first else {
            report.add(check, .skipped, "\(signer.origin) is a bare key: no certificate, no validity period")
            return
        }
        let validity = leaf.validity(at: policy.time)
        report.certificates.append(.init(target: target, certificate: leaf, validity: validity))
        if let problem = policy.trust.certificateProblem(signer) {
            guard !policy.judgesValidity, problem.reason == .expired || problem.reason == .notYetValid else {
                report.add(check, failure: problem)
                return
            }
            // One rule for every tool: where nothing is authenticated, validity is said, not judged.
            report.add(check, .passed, "\(problem.message); not judged: nothing is authenticated (integrity only)")
            return
        }
        let period = "valid \(TrustPolicy.date(leaf.notBefore)) to \(TrustPolicy.date(leaf.notAfter))"
        let at = "at \(Timestamp.format(secondsSinceEpoch: policy.time))"
        if validity == .expired {
            report.add(check, .passed, "\(leaf.subject) expired on \(TrustPolicy.date(leaf.notAfter)) (checked \(at)), accepted as asked")
        } else {
            report.add(check, .passed, "\(leaf.subject), \(period), checked \(at)")
        }
    }
}
