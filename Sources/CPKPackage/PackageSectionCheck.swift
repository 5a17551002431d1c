import CPKCore
import CPKFormat

#if canImport(Glibc)
import Glibc
#endif

/// The package digest and package signature, checked as the payload streams by, for the tools
/// that release or install a payload (cpk-unpack, cpk-install).
///
/// A package signature covers the manifest and every mapped stream; a tool that released the
/// payload of a package whose package signature fails would hide a change nobody signed. Trust
/// in the signer is not judged here: that is cpk-verify's and the installer's business.
public final class PackageSectionCheck {
    private let head: PackageHead
    private let mapDigest: PackageMapDigest

    /// Nil when the package has no package digest, so there is nothing to check.
    public init?(head: PackageHead) throws {
        guard head.manifest.package.digest != .none else { return nil }
        self.head = head
        mapDigest = try PackageMapDigest(head: head)
    }

    public func addPayload(_ chunk: UnsafeRawBufferPointer) throws { try mapDigest.addPayload(chunk) }

    /// Throws a `.check` error naming the package check that failed.
    public func verify(deferred: [Int: [UInt8]], name: String) throws {
        var report = VerificationReport(input: name, time: Int(time(nil)))
        Verifier.checkPackageDigest(head, mapDigest, deferred: deferred, into: &report)
        var policy = VerifyPolicy(time: report.time)
        policy.allowExpired = true  // validity is reported by cpk-verify; integrity is what matters here
        var sections = SectionChecker(head: head, deferred: deferred, policy: policy)
        sections.check(.package, into: &report)
        for check in report.checks where ["package-digest", "package-signature"].contains(check.name) && check.status == .failed {
            throw CPKError.check("\(name): \(check.name) FAILED: \(check.detail)")
        }
    }
}
