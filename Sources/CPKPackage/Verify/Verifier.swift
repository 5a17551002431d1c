import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat

/// What the verifier trusts and what it may use: the `cpk-verify` inputs.
public struct VerifyPolicy: Sendable {
    /// Anchors, pinned keys, identities, the checking time: the shared trust decision.
    public var trust: TrustPolicy
    /// The signer's certificate and chain, for a package that does not embed it.
    public var certificates: [X509Certificate] = []
    /// The AES-256 class key, to decrypt and check the payload.
    public var classKey: [UInt8]?
    /// False where nothing is to be authenticated (integrity only, without a trust input): a
    /// certificate's validity period is then reported but decides nothing (docs/format.md §8.3,
    /// rule 4), as in a development-mode install.
    public var judgesValidity = true

    public init(trust: TrustPolicy) { self.trust = trust }

    public var time: Int { trust.time }
}

/// Checks a package: structure, digests, signatures, certificates and trust (`cpk-verify`).
/// The payload streams through once, in bounded memory.
public enum Verifier {
    public static func verify(_ input: PackageInput, policy: VerifyPolicy) throws -> VerificationReport {
        var report = VerificationReport(input: input.name, time: policy.time)
        let head = input.head
        report.kind = input is PackageFileInput ? .cpk : .envelope
        report.packageID = head.manifest.id
        report.hadTrustInput = policy.trust.hasTrustInput
        let payload = try PayloadCheck(head: head, key: policy.classKey, name: input.name)
        let mapDigest = head.manifest.package.digest == .none ? nil : try PackageMapDigest(head: head)
        var streamed: (size: UInt64, deferred: [Int: [UInt8]])
        do {
            var size: UInt64 = 0
            let overlap = Overlap()
            var next = try input.nextPayloadChunk()
            while let chunk = next {
                size += UInt64(chunk.count)
                if let mapDigest, input.keepsPreviousChunk {
                    // The second core decrypts and hashes the plaintext while this one digests
                    // the package and reads the next chunk into the input's other buffer: all
                    // only read this chunk (0.82 against 0.67 s/GiB of work).
                    try overlap.run({ try payload.add(chunk) }, alongside: {
                        try mapDigest.addPayload(chunk)
                        next = try input.nextPayloadChunk()
                    })
                } else if let mapDigest, payload.decryptsAhead {
                    // An input with one buffer: the second core hashes the previous chunk's
                    // plaintext, in a buffer of the check's own, while this one digests the
                    // package, decrypts this chunk into the other buffer and reads the next.
                    let previous = payload.takePending()
                    try overlap.run({ payload.hash(previous) }, alongside: {
                        try mapDigest.addPayload(chunk)
                        try payload.decryptAhead(chunk)
                        next = try input.nextPayloadChunk()
                    })
                } else if let mapDigest {
                    // The package digest on the second core while this one decrypts and hashes
                    // the plaintext: both only read the chunk.
                    try overlap.run({ try mapDigest.addPayload(chunk) }, alongside: { try payload.add(chunk) })
                    next = try input.nextPayloadChunk()
                } else {
                    try payload.add(chunk)
                    next = try input.nextPayloadChunk()
                }
            }
            payload.hash(payload.takePending())
            streamed = (size, try input.deferredStreams())
        } catch let error as CPKError where error.kind == .invalidInput {
            report.add(.structure, .failed, error.message)
            return report
        }
        report.add(.structure, .passed, "\(report.kind == .cpk ? ".cpk" : "envelope"), \(head.streams.count) streams, "
            + "\(streamed.size)-byte payload; frame and manifest consistent")
        payload.report(into: &report, deferred: streamed.deferred)
        let sections = SectionChecker(head: head, deferred: streamed.deferred, policy: policy)
        _ = sections.check(.payload, into: &report)
        checkPackageDigest(head, mapDigest, deferred: streamed.deferred, into: &report)
        let package = sections.check(.package, into: &report)
        checkManifest(head, package: package, into: &report)
        return report
    }

    /// The report for an input that is not a readable package at all.
    public static func structureFailure(_ name: String, _ error: CPKError, time: Int) -> VerificationReport {
        var report = VerificationReport(input: name, time: time)
        report.add(.structure, .failed, error.message)
        return report
    }

    static func checkPackageDigest(
        _ head: PackageHead, _ mapDigest: PackageMapDigest?, deferred: [Int: [UInt8]], into report: inout VerificationReport
    ) {
        guard let mapDigest, let index = head.manifest.package.digest.stream else {
            report.add(.packageDigest, .skipped, "the package has no package digest")
            return
        }
        do {
            let computed = try mapDigest.finish(deferred: deferred)
            let stored = streamBytes(head, index, deferred: deferred) ?? []
            let uncovered = head.streams.indices.filter {
                !head.manifest.package.map.contains($0) && $0 != index && $0 != head.manifest.package.signature.stream
            }
            let coverage = uncovered.isEmpty ? "every other stream" : "streams \(head.manifest.package.map), not \(uncovered)"
            if computed == stored {
                report.add(.packageDigest, .passed, "SHA-256 over \(coverage) matches stream \(index)")
            } else {
                report.add(
                    .packageDigest, .failed,
                    "the streams of package.map hash to \(hex(computed)), stream \(index) says \(hex(stored)): "
                        + "a covered stream or the manifest was changed")
            }
        } catch {
            report.add(.packageDigest, .failed, "\(error)")
        }
    }

    /// Whether what the manifest says (id, version, name, vendor, target) is authenticated: only
    /// a package signature that verifies, by a trusted signer, over a map that includes the
    /// manifest stream, with a matching package digest, vouches for it.
    static func checkManifest(_ head: PackageHead, package: SectionChecker.Outcome?, into report: inout VerificationReport) {
        let index = head.manifestIndex
        guard head.manifest.package.signature != .none else {
            report.add(.manifest, .skipped,
                "no package signature covers the manifest (stream \(index)): its id, version, name, vendor and target are not authenticated")
            return
        }
        guard head.packageSignatureCoversManifest else {
            report.add(.manifest, .skipped,
                "package.map \(head.manifest.package.map) leaves out the manifest (stream \(index)): its id, version, name, vendor and target are not authenticated")
            return
        }
        guard report.passed(.packageDigest), report.passed(.packageSignature) else {
            report.add(.manifest, .skipped, "the package signature did not verify, so the manifest is not authenticated")
            return
        }
        guard let signer = package?.verdict.trustedSigner else {
            report.add(.manifest, .skipped,
                "the package signature covers the manifest (stream \(index)), but its signer is not authenticated by a trust input")
            return
        }
        report.add(.manifest, .passed,
            "the package signature by the trusted \(signer.identity) covers the manifest (stream \(index)): id, version, name, vendor and target are authenticated")
    }
}

/// The payload as it streams: decrypted when a key is given, hashed when its plaintext is seen.
/// The checks reuse `PayloadRelease.Plan`, which resolves nonce, tag and digest streams.
private final class PayloadCheck {
    let plan: PayloadRelease.Plan?
    let encrypted: Bool
    let decryptor: AESGCM?
    let hasher: SHA256Hasher?
    let buffer = ChunkBuffer()
    /// For `decryptAhead`: plaintext alternates between two buffers, and the last one decrypted
    /// waits in `pending` to be hashed.
    private let buffers = [ChunkBuffer(), ChunkBuffer()]
    private var next = 0
    private var pending: UnsafeRawBufferPointer?

    init(head: PackageHead, key: [UInt8]?, name: String) throws {
        encrypted = head.manifest.payload.encryption != .none
        let visible = head.manifest.payload.digest != .none && (!encrypted || key != nil)
        plan = visible ? try PayloadRelease.Plan(head: head, key: key, name: name) : nil
        decryptor = try plan?.makeDecryptor()
        hasher = visible ? try SHA256Hasher() : nil
    }

    func add(_ chunk: UnsafeRawBufferPointer) throws {
        guard let plan, let hasher else { return }
        hasher.update(try plan.decrypt(chunk, with: decryptor, into: buffer))
    }

    /// True when the plaintext is decrypted into buffers of this check's own, so it outlives the
    /// input's chunk and can be hashed a step later.
    var decryptsAhead: Bool { plan != nil && decryptor != nil && hasher != nil }

    /// Decrypts `chunk` into the buffer not holding the pending plaintext; it is pending next.
    /// Only with `decryptsAhead`, and after `takePending()`.
    func decryptAhead(_ chunk: UnsafeRawBufferPointer) throws {
        guard let plan else { return }
        pending = try plan.decrypt(chunk, with: decryptor, into: buffers[next])
        next = 1 - next
    }

    /// The plaintext waiting to be hashed, which stays valid until the next `decryptAhead` but one.
    func takePending() -> UnsafeRawBufferPointer? {
        defer { pending = nil }
        return pending
    }

    func hash(_ plaintext: UnsafeRawBufferPointer?) {
        guard let plaintext, let hasher else { return }
        hasher.update(plaintext)
    }

    func report(into report: inout VerificationReport, deferred: [Int: [UInt8]]) {
        reportTag(into: &report, deferred: deferred)
        guard let plan, let hasher, let actual = try? hasher.finalize() else {
            let why = plan == nil && encrypted ? "the payload is encrypted; give a key source to decrypt it and check its digest"
                : "the package has no payload digest"
            report.add(.payloadDigest, .skipped, why)
            return
        }
        let expected = plan.stream(plan.digestIndex, deferred: deferred)
        if actual == expected {
            report.add(.payloadDigest, .passed, "the \(encrypted ? "decrypted " : "")payload hashes to \(hex(actual)), as stream \(plan.digestIndex) says")
        } else {
            report.add(.payloadDigest, .failed, "the \(encrypted ? "decrypted " : "")payload hashes to \(hex(actual)), stream \(plan.digestIndex) says \(hex(expected))")
        }
    }

    private func reportTag(into report: inout VerificationReport, deferred: [Int: [UInt8]]) {
        guard encrypted else {
            report.add(.payloadTag, .skipped, "the payload is not encrypted")
            return
        }
        guard let plan, let decryptor, let tagIndex = plan.tagIndex else {
            report.add(.payloadTag, .skipped, "no key source given, so the payload was not decrypted")
            return
        }
        if (try? decryptor.finishDecryption(tag: plan.stream(tagIndex, deferred: deferred))) == true {
            report.add(.payloadTag, .passed, "AES-256-GCM tag (stream \(tagIndex)) authenticates the ciphertext")
        } else {
            report.add(.payloadTag, .failed, "AES-GCM authentication failed: the ciphertext, nonce or tag was altered, or the key is wrong")
        }
    }
}

