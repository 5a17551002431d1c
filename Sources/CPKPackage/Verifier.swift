import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat

/// The outcome of one check of `cpk-verify`.
public struct CheckResult: Sendable, Equatable {
    public enum Status: String, Sendable {
        case passed
        case failed
        case skipped
    }

    public let name: String
    public let status: Status
    /// What was checked and how it went, or why it failed or was skipped.
    public let detail: String
}

/// What the verifier trusts and when it checks: the `cpk-verify` options.
public struct VerifyPolicy {
    /// Trust anchors (`--ca`): a certificate chain must end at one of these.
    public var anchors: [X509Certificate] = []
    /// A pinned key (`--public-key`): the signer's key must be this one.
    public var pinnedKey: VerifyingKey?
    /// The signer's certificate and chain (`--cert`), for a package that does not embed it.
    public var certificates: [X509Certificate] = []
    /// Seconds since 1970 at which certificates must be valid.
    public var time: Int
    /// Accept certificates whose validity period has ended (and only that).
    public var allowExpired = false
    /// The AES-256 class key, to decrypt and check the payload.
    public var classKey: [UInt8]?

    public init(time: Int) { self.time = time }
}

/// Everything `cpk-verify` found, for people and for scripts.
public struct VerificationReport {
    public let input: String
    public var kind: InputKind?
    public var packageID: String?
    public let time: Int
    public var checks: [CheckResult] = []
    public var certificates: [CertificateInfo] = []

    /// A certificate's identity and validity, always reported.
    public struct CertificateInfo {
        public let target: SignatureTarget
        public let certificate: X509Certificate
        public let validity: X509Certificate.Validity
    }

    public init(input: String, time: Int) {
        self.input = input
        self.time = time
    }

    mutating func add(_ name: String, _ status: CheckResult.Status, _ detail: String) {
        checks.append(CheckResult(name: name, status: status, detail: Self.oneLine(detail)))
    }

    /// Details quote the package (URLs, names): control characters are shown escaped, so a
    /// hostile package can neither add a line of its own ("... PASSED") nor reach the terminal.
    static func oneLine(_ text: String) -> String {
        TerminalText.escaped(text)
    }

    /// The signatures that were checked and passed.
    public var signaturesChecked: Int {
        checks.filter { $0.name.hasSuffix("-signature") && $0.status == .passed }.count
    }

    /// Why the package is not verified under `required`, empty when it is: a failed check, a
    /// required check that did not pass, or no signature checked at all.
    public func problems(requiring required: [String]) -> [String] {
        var problems = checks.filter { $0.status == .failed }.map { "\($0.name) failed" }
        for name in required {
            guard let check = checks.first(where: { $0.name == name }) else {
                problems.append("\(name) is required but was not run")
                continue
            }
            if check.status == .skipped { problems.append("\(name) is required but was skipped") }
        }
        if signaturesChecked == 0 && !problems.contains(where: { $0.hasPrefix("structure") }) {
            problems.append("no signature was checked")
        }
        return problems
    }
}

/// Checks a package: structure, digests, signatures, certificates and trust (`cpk-verify`).
/// The payload streams through once, in bounded memory.
public enum Verifier {
    /// The names of the checks, in the order they are reported; `--require` takes these.
    public static let checkNames = [
        "structure", "payload-tag", "payload-digest", "payload-signature", "payload-certificate", "payload-trust",
        "package-digest", "package-signature", "package-certificate", "package-trust",
    ]

    public static func verify(_ input: PackageInput, policy: VerifyPolicy) throws -> VerificationReport {
        var report = VerificationReport(input: input.name, time: policy.time)
        let head = input.head
        report.kind = input is PackageFileInput ? .cpk : .envelope
        report.packageID = head.manifest.id
        let payload = try PayloadCheck(head: head, key: policy.classKey, name: input.name)
        let mapDigest = head.manifest.package.digest == .none ? nil : try PackageMapDigest(head: head)
        var streamed: (size: UInt64, deferred: [Int: [UInt8]])
        do {
            var size: UInt64 = 0
            while let chunk = try input.nextPayloadChunk() {
                try payload.add(chunk)
                try mapDigest?.addPayload(chunk)
                size += UInt64(chunk.count)
            }
            streamed = (size, try input.deferredStreams())
        } catch let error as CPKError where error.kind == .invalidInput {
            report.add("structure", .failed, error.message)
            return report
        }
        report.add("structure", .passed, "\(report.kind == .cpk ? ".cpk" : "envelope"), \(head.streams.count) streams, "
            + "\(streamed.size)-byte payload; frame and manifest consistent")
        payload.report(into: &report, deferred: streamed.deferred)
        var sections = SectionChecker(head: head, deferred: streamed.deferred, policy: policy)
        sections.check(.payload, into: &report)
        checkPackageDigest(head, mapDigest, deferred: streamed.deferred, into: &report)
        sections.check(.package, into: &report)
        return report
    }

    /// The report for an input that is not a readable package at all.
    public static func structureFailure(_ name: String, _ error: CPKError, time: Int) -> VerificationReport {
        var report = VerificationReport(input: name, time: time)
        report.add("structure", .failed, error.message)
        return report
    }

    static func checkPackageDigest(
        _ head: PackageHead, _ mapDigest: PackageMapDigest?, deferred: [Int: [UInt8]], into report: inout VerificationReport
    ) {
        guard let mapDigest, let index = head.manifest.package.digest.stream else {
            report.add("package-digest", .skipped, "the package has no package digest")
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
                report.add("package-digest", .passed, "SHA-256 over \(coverage) matches stream \(index)")
            } else {
                report.add(
                    "package-digest", .failed,
                    "the streams of package.map hash to \(hex(computed)), stream \(index) says \(hex(stored)): "
                        + "a covered stream or the manifest was changed")
            }
        } catch {
            report.add("package-digest", .failed, "\(error)")
        }
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

    func report(into report: inout VerificationReport, deferred: [Int: [UInt8]]) {
        reportTag(into: &report, deferred: deferred)
        guard let plan, let hasher, let actual = try? hasher.finalize() else {
            let why = plan == nil && encrypted ? "the payload is encrypted; give a key source to decrypt it and check its digest"
                : "the package has no payload digest"
            report.add("payload-digest", .skipped, why)
            return
        }
        let expected = plan.stream(plan.digestIndex, deferred: deferred)
        if actual == expected {
            report.add("payload-digest", .passed, "the \(encrypted ? "decrypted " : "")payload hashes to \(hex(actual)), as stream \(plan.digestIndex) says")
        } else {
            report.add("payload-digest", .failed, "the \(encrypted ? "decrypted " : "")payload hashes to \(hex(actual)), stream \(plan.digestIndex) says \(hex(expected))")
        }
    }

    private func reportTag(into report: inout VerificationReport, deferred: [Int: [UInt8]]) {
        guard encrypted else {
            report.add("payload-tag", .skipped, "the payload is not encrypted")
            return
        }
        guard let plan, let decryptor, let tagIndex = plan.tagIndex else {
            report.add("payload-tag", .skipped, "no key source given, so the payload was not decrypted")
            return
        }
        if (try? decryptor.finishDecryption(tag: plan.stream(tagIndex, deferred: deferred))) == true {
            report.add("payload-tag", .passed, "AES-256-GCM tag (stream \(tagIndex)) authenticates the ciphertext")
        } else {
            report.add("payload-tag", .failed, "AES-GCM authentication failed: the ciphertext, nonce or tag was altered, or the key is wrong")
        }
    }
}

/// The signature, certificate and trust checks of the payload or the package section.
struct SectionChecker {
    let head: PackageHead
    let deferred: [Int: [UInt8]]
    let policy: VerifyPolicy

    /// The signer's key, the certificate chain that names it (leaf first, may be empty), and
    /// where both came from.
    struct Signer {
        let key: VerifyingKey
        let chain: [X509Certificate]
        let origin: String
    }

    func check(_ target: SignatureTarget, into report: inout VerificationReport) {
        let (signature, digest, certificate) =
            target == .payload
            ? (head.manifest.payload.signature, head.manifest.payload.digest, head.manifest.payload.certificate)
            : (head.manifest.package.signature, head.manifest.package.digest, head.manifest.package.certificate)
        let name = target.rawValue
        guard let scheme = signature.scheme, let signatureIndex = signature.stream, let digestIndex = digest.stream else {
            for check in ["signature", "certificate", "trust"] { report.add("\(name)-\(check)", .skipped, "the \(name) is not signed") }
            return
        }
        let signer: Signer
        do {
            signer = try resolveSigner(certificate)
        } catch {
            report.add("\(name)-signature", .failed, "\(error)")
            for check in ["certificate", "trust"] { report.add("\(name)-\(check)", .skipped, "no signer's key to check") }
            return
        }
        checkSignature(
            target, scheme: scheme, keyStrength: signature.keyStrength, signatureIndex: signatureIndex,
            digestIndex: digestIndex, signer: signer, into: &report)
        checkCertificate(target, certificate: certificate, signer: signer, into: &report)
        checkTrust(target, signer: signer, into: &report)
    }

    private func checkSignature(
        _ target: SignatureTarget, scheme: SignatureScheme, keyStrength: Int?, signatureIndex: Int, digestIndex: Int,
        signer: Signer, into report: inout VerificationReport
    ) {
        let name = "\(target.rawValue)-signature"
        if head.pendingSignatures.contains(signatureIndex) {
            report.add(name, .failed, "stream \(signatureIndex) awaits an offline signature (cpk-sign stitch)")
            return
        }
        if let bits = keyStrength, bits != signer.key.type.bits {
            report.add(name, .failed, "the manifest says a \(bits)-bit key, but the signer's key (\(signer.origin)) is \(signer.key.type)")
            return
        }
        let signatureBytes = streamBytes(head, signatureIndex, deferred: deferred) ?? []
        let digestBytes = streamBytes(head, digestIndex, deferred: deferred) ?? []
        let fingerprint = (try? signer.key.fingerprint).map { String(hex($0).prefix(16)) } ?? "?"
        do {
            if try signer.key.verify(signature: signatureBytes, digest: digestBytes, scheme: scheme) {
                report.add(name, .passed, "\(scheme.rawValue) over the \(target.rawValue) digest (stream \(digestIndex)) by the \(signer.key.type) key sha256:\(fingerprint)… (\(signer.origin))")
            } else {
                report.add(name, .failed, "the \(scheme.rawValue) signature (stream \(signatureIndex)) does not verify over the \(target.rawValue) digest (stream \(digestIndex)) with \(signer.origin)")
            }
        } catch {
            report.add(name, .failed, "\(error)")
        }
    }

    /// The embedded certificate or key; else --cert; else the pinned key. Given both an
    /// embedded key and --cert, they must agree.
    private func resolveSigner(_ certificate: Certificate) throws -> Signer {
        let external = try policy.certificates.first.map {
            Signer(key: try $0.publicKey, chain: policy.certificates, origin: "the certificate given with --cert")
        }
        guard let index = certificate.stream, let bytes = streamBytes(head, index, deferred: deferred) else {
            if let external { return external }
            if let pinned = policy.pinnedKey { return Signer(key: pinned, chain: [], origin: "the key given with --public-key") }
            throw CPKError.check("the package does not embed the signer's certificate or key (\(describe(certificate))); give --cert or --public-key")
        }
        let embedded = try embeddedSigner(certificate, bytes: bytes, index: index)
        if let external, !external.key.isSameKey(as: embedded.key) {
            throw CPKError.check("\(embedded.origin) is for another key than the certificate given with --cert")
        }
        return embedded
    }

    private func embeddedSigner(_ certificate: Certificate, bytes: [UInt8], index: Int) throws -> Signer {
        let what: String
        switch certificate {
        case .x509PEM, .publicKeyPEM: what = "PEM"
        default: what = "DER"
        }
        switch certificate {
        case .x509PEM, .x509DER:
            let origin = "the embedded certificate (stream \(index))"
            let chain: [X509Certificate]
            do {
                chain = try X509Certificate.chain(loading: bytes)
            } catch {
                throw CPKError.check("\(origin) cannot be read as X.509 \(what): \(error)")
            }
            guard let leaf = chain.first else { throw CPKError.check("\(origin) is empty") }
            return Signer(key: try leaf.publicKey, chain: chain, origin: "\(origin), \(leaf.subject)")
        default:
            let origin = "the embedded public key (stream \(index))"
            if case .publicKeyPEM = certificate { try requireOnlyPEMBlocks(bytes, origin: origin, single: true) }
            do {
                return Signer(key: try VerifyingKey(loading: bytes), chain: [], origin: origin)
            } catch {
                throw CPKError.check("\(origin) cannot be read as a \(what) public key: \(error)")
            }
        }
    }

    private func requireOnlyPEMBlocks(_ bytes: [UInt8], origin: String, single: Bool = false) throws {
        do {
            try PEMText.requireOnlyBlocks(in: bytes, single: single)
        } catch let error as CPKError {
            throw CPKError.check("\(origin): \(error.message)")
        }
    }

    private func checkCertificate(
        _ target: SignatureTarget, certificate: Certificate, signer: Signer, into report: inout VerificationReport
    ) {
        let name = "\(target.rawValue)-certificate"
        guard let leaf = signer.chain.first else {
            report.add(name, .skipped, "\(signer.origin) is a bare key: no certificate, no validity period")
            return
        }
        let validity = leaf.validity(at: policy.time)
        report.certificates.append(.init(target: target, certificate: leaf, validity: validity))
        if let broken = brokenLink(in: signer.chain) {
            report.add(name, .failed, broken)
            return
        }
        guard leaf.allowsDigitalSignature else {
            report.add(name, .failed, "\(leaf.subject): its key usage does not allow digital signatures")
            return
        }
        let period = "valid \(date(leaf.notBefore)) to \(date(leaf.notAfter))"
        let at = "at \(Timestamp.format(secondsSinceEpoch: policy.time))"
        switch validity {
        case .valid:
            report.add(name, .passed, "\(leaf.subject), \(period), checked \(at)")
        case .expired where policy.allowExpired:
            report.add(name, .passed, "\(leaf.subject) expired on \(date(leaf.notAfter)) (checked \(at)), accepted by --allow-expired")
        case .expired:
            report.add(name, .failed, "\(leaf.subject) expired on \(date(leaf.notAfter)) (checked \(at)); check at its time with --at, or accept it with --allow-expired")
        case .notYetValid:
            report.add(name, .failed, "\(leaf.subject) is not valid before \(date(leaf.notBefore)) (checked \(at))")
        }
    }

    /// Each certificate of an embedded chain must be signed by the next, and a self-issued last
    /// one by itself: a changed byte anywhere in them is caught even without --ca.
    private func brokenLink(in chain: [X509Certificate]) -> String? {
        for (certificate, issuer) in zip(chain, chain.dropFirst()) {
            guard let key = try? issuer.publicKey, certificate.isSigned(by: key) else {
                return "\(certificate.subject) is not signed by the next certificate of the chain, \(issuer.subject): altered or out of order"
            }
        }
        if let last = chain.last, last.isSelfIssued {
            guard let key = try? last.publicKey, last.isSigned(by: key) else {
                return "\(last.subject) is self-issued but its signature does not verify: the certificate was altered"
            }
        }
        return nil
    }

    private func checkTrust(_ target: SignatureTarget, signer: Signer, into report: inout VerificationReport) {
        let name = "\(target.rawValue)-trust"
        var passes: [String] = []
        if let pinned = policy.pinnedKey {
            guard pinned.isSameKey(as: signer.key) else {
                report.add(name, .failed, "the signer's key (\(signer.origin)) is not the key given with --public-key")
                return
            }
            passes.append("the signer's key is the pinned key (--public-key)")
        }
        if !policy.anchors.isEmpty {
            guard let leaf = signer.chain.first else {
                report.add(name, .failed, "\(signer.origin) has no certificate, so it cannot chain to a --ca anchor")
                return
            }
            let intermediates = Array(signer.chain.dropFirst()) + policy.certificates
            do {
                switch try CertificateChain.verify(
                    leaf: leaf, intermediates: intermediates, anchors: policy.anchors, at: policy.time,
                    allowExpired: policy.allowExpired)
                {
                case .trusted(let path): passes.append("chain \(path.joined(separator: " <- ")) ends at a --ca anchor")
                case .untrusted(let reason):
                    report.add(name, .failed, "untrusted certificate chain: \(reason)")
                    return
                }
            } catch {
                report.add(name, .failed, "\(error)")
                return
            }
        }
        if passes.isEmpty {
            report.add(name, .skipped, "no --ca or --public-key given: the signature shows the package is intact, not who signed it")
        } else {
            report.add(name, .passed, passes.joined(separator: "; "))
        }
    }

    private func date(_ seconds: Int?) -> String { seconds.map { Timestamp.format(secondsSinceEpoch: $0) } ?? "?" }

    private func describe(_ certificate: Certificate) -> String {
        switch certificate {
        case .none: return "none"
        case .url(let url): return "named by URL \(url)"
        case .targetDomain(let domain): return "named by target domain \(domain)"
        default: return "embedded"
        }
    }
}

