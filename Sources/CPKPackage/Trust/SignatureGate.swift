import CPKCore
import CPKCrypto
import CPKFormat

/// The signature checks a tool requires before it releases a payload (`cpk-unpack`) or
/// installs one (`cpk-install`): the checks of `cpk-verify`, with the same `TrustPolicy`.
///
/// Without a trust input, a signature that does not verify, or a certificate chain that was
/// altered, still stops the tool: releasing the payload of such a package would hide a change
/// nobody signed. With a trust input, every signature that is there must also be by a trusted
/// signer, under the same certificate rules as `cpk-verify`.
public final class SignatureGate {
    /// A signed section's signer, as the gate found it.
    public struct Section: Sendable {
        public let signer: SignerCredentials
        public let verdict: TrustVerdict
    }

    private let head: PackageHead
    private let policy: TrustPolicy
    private let checkPayloadSignature: Bool
    private let mapDigest: PackageMapDigest?

    /// - Parameter checkPayloadSignature: false where the payload signature is checked
    ///   elsewhere (inside the Package Manager) or not wanted (a debugging option).
    public init(head: PackageHead, trust: TrustPolicy, checkPayloadSignature: Bool = true) throws {
        self.head = head
        policy = trust
        self.checkPayloadSignature = checkPayloadSignature
        mapDigest = head.manifest.package.digest == .none ? nil : try PackageMapDigest(head: head)
    }

    public func addPayload(_ chunk: UnsafeRawBufferPointer) throws { try mapDigest?.addPayload(chunk) }

    /// Checks one section's signature, certificate and signer (everything but the package
    /// digest, which needs the whole payload); nil when the section is not signed. Throws a
    /// `.check` error naming the failed check (the caller says where).
    public func checkSignature(_ target: SignatureTarget, deferred: [Int: [UInt8]], name: String) throws -> Section? {
        var report = VerificationReport(input: name, time: policy.time)
        var verifyPolicy = VerifyPolicy(trust: policy)
        verifyPolicy.judgesValidity = policy.hasTrustInput
        let checker = SectionChecker(head: head, deferred: deferred, policy: verifyPolicy)
        let outcome = checker.check(target, into: &report)
        try requirePassed(report, name: name)
        return outcome.map { Section(signer: $0.signer, verdict: $0.verdict) }
    }

    /// Checks the package digest, once the payload has gone through `addPayload`.
    public func checkPackageDigest(deferred: [Int: [UInt8]], name: String) throws {
        var report = VerificationReport(input: name, time: policy.time)
        Verifier.checkPackageDigest(head, mapDigest, deferred: deferred, into: &report)
        try requirePassed(report, name: name)
    }

    /// Everything, for a tool that checks once the payload has flowed (`cpk-unpack`).
    public func check(deferred: [Int: [UInt8]], name: String) throws {
        if checkPayloadSignature { _ = try checkSignature(.payload, deferred: deferred, name: name) }
        try checkPackageDigest(deferred: deferred, name: name)
        _ = try checkSignature(.package, deferred: deferred, name: name)
    }

    private func requirePassed(_ report: VerificationReport, name: String) throws {
        for result in report.checks where result.status == .failed && blocks(result) {
            throw CPKError.check("\(result.name) FAILED: \(result.detail)")
        }
    }

    /// Without a trust input, validity and usage are not judged (nothing is authenticated
    /// anyway, and the reference's demo certificate expired in 2022); integrity always is.
    private func blocks(_ result: CheckResult) -> Bool {
        switch result.check {
        case .payloadCertificate, .packageCertificate, .payloadTrust, .packageTrust:
            return policy.hasTrustInput || result.reason == .brokenChain
        default:
            return true
        }
    }
}

extension PackageHead {
    /// True when the package is signed over a map that includes the manifest stream: the only
    /// way the manifest is covered by a signature (docs/format.md §8.3, rule 2).
    public var packageSignatureCoversManifest: Bool {
        manifest.package.signature != .none && manifest.package.map.contains(manifestIndex)
    }
}
