import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat
import CPKTestSupport
import Foundation
import XCTest

@testable import CPKPackage

/// Verifier's checks and verdicts, by typed check and status (never by message text).
final class VerifierTests: XCTestCase {
    var scratch: Scratch!

    override func setUpWithError() throws { scratch = try Scratch() }
    override func tearDown() { scratch = nil }

    typealias Statuses = [VerificationCheck: CheckResult.Status]

    private func verify(
        _ path: String, pinned: [SigningKey] = [], scope: TrustPolicy.Scope = .anyApplication, classKey: [UInt8]? = nil,
        time: Int? = nil, allowExpired: Bool = false
    ) throws -> VerificationReport {
        var trust = TrustPolicy(time: time ?? Int(Date().timeIntervalSince1970))
        trust.pinnedKeys = try pinned.map { .init(try $0.verifyingKey, scope: scope) }
        trust.allowExpired = allowExpired
        var policy = VerifyPolicy(trust: trust)
        policy.classKey = classKey
        return try Verifier.verify(try openPackage(path), policy: policy)
    }

    private func statuses(_ report: VerificationReport) -> Statuses {
        Dictionary(report.checks.map { ($0.check, $0.status) }, uniquingKeysWith: { first, _ in first })
    }

    private func expect(
        _ report: VerificationReport, _ expected: Statuses, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(report.checks.map(\.check), VerificationCheck.allCases, "every check once, in order", file: file, line: line)
        for check in VerificationCheck.allCases {
            XCTAssertEqual(statuses(report)[check], expected[check] ?? .skipped, "\(check.rawValue): \(report.result(check)?.detail ?? "-")",
                file: file, line: line)
        }
    }

    private func signed(
        _ targets: [SignatureTarget], _ key: SigningKey = TestKeys.ed25519, certificate: CertificateEmbedding? = nil,
        payload: [UInt8] = testPayload(4000), from source: String? = nil, name: String = "signed"
    ) throws -> String {
        let embedding = try certificate ?? .publicKey(try key.verifyingKey, form: .pem)
        return try scratch.sign(try source ?? scratch.pack(payload), try signingRequest(targets, key, certificate: embedding), name: name).path
    }

    // MARK: - verdicts

    func testAnUnsignedPackageIsIntactButNotVerified() throws {
        let report = try verify(try scratch.pack(testPayload(100)), pinned: [TestKeys.ed25519])
        expect(report, [.structure: .passed, .payloadDigest: .passed])
        XCTAssertEqual(report.kind, .cpk)
        XCTAssertEqual(report.packageID, "test")
        XCTAssertEqual(report.signaturesChecked, 0)
        XCTAssertEqual(report.problems(requiring: [], integrityOnly: false), [.noSignature])
        XCTAssertEqual(report.problems(requiring: [], integrityOnly: true), [.noSignature])
        XCTAssertEqual(report.verdict(requiring: [], integrityOnly: true), .notVerified)
    }

    func testAPayloadSignatureByAPinnedKeyIsAuthenticated() throws {
        let report = try verify(try signed([.payload]), pinned: [TestKeys.ed25519])
        expect(report, [.structure: .passed, .payloadDigest: .passed, .payloadSignature: .passed, .payloadTrust: .passed])
        XCTAssertEqual(report.signaturesChecked, 1)
        XCTAssertTrue(report.isAuthenticated)
        XCTAssertFalse(report.isManifestAuthenticated, "no package signature covers the manifest")
        XCTAssertEqual(report.problems(requiring: [], integrityOnly: false), [])
        XCTAssertEqual(report.verdict(requiring: [], integrityOnly: false), .authenticated)
        XCTAssertEqual(report.verdict(requiring: [.manifest], integrityOnly: false), .notVerified)
        XCTAssertEqual(report.problems(requiring: [.manifest], integrityOnly: false), [.requiredSkipped(.manifest)])
    }

    func testWithoutATrustInputASignedPackageIsOnlyIntact() throws {
        let report = try verify(try signed([.payload]))
        expect(report, [.structure: .passed, .payloadDigest: .passed, .payloadSignature: .passed])
        XCTAssertFalse(report.hadTrustInput)
        XCTAssertEqual(report.problems(requiring: [], integrityOnly: false), [.noTrustInput])
        XCTAssertEqual(report.verdict(requiring: [], integrityOnly: false), .notVerified)
        XCTAssertEqual(report.verdict(requiring: [], integrityOnly: true), .intact)
    }

    func testAnotherPinnedKeyDoesNotAuthenticateTheSigner() throws {
        let report = try verify(try signed([.payload]), pinned: [TestKeys.other])
        expect(report, [.structure: .passed, .payloadDigest: .passed, .payloadSignature: .passed, .payloadTrust: .failed])
        XCTAssertEqual(report.result(.payloadTrust)?.reason, .noCertificate)
        XCTAssertEqual(report.problems(requiring: [], integrityOnly: true), [.failed(.payloadTrust)])
        let scoped = try verify(try signed([.payload], name: "scoped"), pinned: [TestKeys.ed25519], scope: .applications(["other"]))
        XCTAssertEqual(scoped.result(.payloadTrust)?.reason, .outOfScope)
    }

    /// Only a trusted package signature over a map that includes the manifest authenticates it.
    func testAPackageSignatureByATrustedSignerAuthenticatesTheManifest() throws {
        let path = try signed([.payload, .package])
        let report = try verify(path, pinned: [TestKeys.ed25519])
        expect(report, [
            .structure: .passed, .payloadDigest: .passed, .payloadSignature: .passed, .payloadTrust: .passed,
            .packageDigest: .passed, .packageSignature: .passed, .packageTrust: .passed, .manifest: .passed,
        ])
        XCTAssertEqual(report.signaturesChecked, 2)
        XCTAssertTrue(report.isManifestAuthenticated)
        XCTAssertEqual(report.verdict(requiring: [.manifest, .packageDigest], integrityOnly: false), .authenticated)
        let untrusted = try verify(path)
        XCTAssertEqual(statuses(untrusted)[.packageSignature], .passed)
        XCTAssertEqual(statuses(untrusted)[.manifest], .skipped, "intact, but nobody vouches for the signer")
    }

    func testAPackageSignatureWhoseMapLeavesOutTheManifestDoesNotAuthenticateIt() throws {
        // map [0, 1] only (payload and its digest), written by another writer, then signed by hand
        let payload = testPayload(500)
        var head = Packer.head(for: testIdentity, payloadSize: UInt64(payload.count))
        head.insertStream(.deferred(size: 32), at: 2)
        head.insertStream(.deferred(size: 64), at: 3)
        head.manifest.package.digest = .sha256(data: 2)
        head.manifest.package.signature = .ed25519(data: 3)
        head.manifest.package.map = [0, 1]
        let digest = try sha256(payload)
        let packageDigest = try sha256(payload + digest)
        let signature = try TestKeys.ed25519.sign(digest: packageDigest, scheme: .ed25519)
        let path = try scratch.package(head: head, payload: payload, deferred: [1: digest, 2: packageDigest, 3: signature], as: .cpk)
        let report = try verify(path, pinned: [TestKeys.ed25519])
        expect(report, [
            .structure: .passed, .payloadDigest: .passed, .packageDigest: .passed, .packageSignature: .passed, .packageTrust: .passed,
        ])
        XCTAssertFalse(report.isManifestAuthenticated)
    }

    // MARK: - tampering

    /// A changed manifest byte under a package signature: the package digest no longer matches,
    /// the signature (over the stored digest) still does, and the manifest is not authenticated.
    func testAChangedManifestFailsThePackageDigest() throws {
        let path = try signed([.payload, .package])
        var bytes = try scratch.read(path)
        let name = Array(#""cp-name":"Demo""#.utf8)
        let at = try XCTUnwrap((0...(bytes.count - name.count)).first { bytes[$0..<$0 + name.count].elementsEqual(name) })
        bytes[at + name.count - 2] ^= 0x01  // "Demo" -> "Demn": still a valid manifest
        let tampered = try scratch.write(bytes, to: "tampered.cpk")
        XCTAssertEqual(try openPackage(tampered).head.manifest.name, "Demn")
        let report = try verify(tampered, pinned: [TestKeys.ed25519])
        expect(report, [
            .structure: .passed, .payloadDigest: .passed, .payloadSignature: .passed, .payloadTrust: .passed,
            .packageDigest: .failed, .packageSignature: .passed, .packageTrust: .passed,
        ])
        XCTAssertEqual(report.problems(requiring: [], integrityOnly: false), [.failed(.packageDigest)])
        XCTAssertEqual(report.verdict(requiring: [], integrityOnly: false), .notVerified)
    }

    func testAChangedPayloadFailsBothDigestsAndAChangedSignatureFailsIt() throws {
        let path = try signed([.payload, .package])
        let original = try scratch.readAll(path)
        var bytes = try scratch.read(path)
        let payloadAt = try XCTUnwrap(
            (0...(bytes.count - 64)).first { bytes[$0..<$0 + 64].elementsEqual(original.streams[0][..<64]) })
        bytes[payloadAt + 10] ^= 0x80
        let report = try verify(try scratch.write(bytes, to: "payload.cpk"), pinned: [TestKeys.ed25519])
        XCTAssertEqual(statuses(report)[.payloadDigest], .failed)
        XCTAssertEqual(statuses(report)[.payloadSignature], .passed, "the signature is over the stored digest")
        XCTAssertEqual(statuses(report)[.packageDigest], .failed)
        XCTAssertEqual(statuses(report)[.manifest], .skipped)

        bytes = try scratch.read(path)
        let signature = original.streams[5]
        let signatureAt = try XCTUnwrap(
            (0...(bytes.count - signature.count)).first { bytes[$0..<$0 + signature.count].elementsEqual(signature) })
        bytes[signatureAt] ^= 0x01
        let forged = try verify(try scratch.write(bytes, to: "signature.cpk"), pinned: [TestKeys.ed25519])
        XCTAssertEqual(statuses(forged)[.packageDigest], .passed)
        XCTAssertEqual(statuses(forged)[.packageSignature], .failed)
        XCTAssertEqual(statuses(forged)[.manifest], .skipped)
        XCTAssertEqual(forged.problems(requiring: [], integrityOnly: false), [.failed(.packageSignature)])
    }

    func testAPendingOfflineSignatureFails() throws {
        let prepared = try scratch.sign(
            try scratch.pack(testPayload(100), as: .envelope), try signingRequest([.payload], TestKeys.ed25519,
                certificate: .publicKey(try TestKeys.ed25519.verifyingKey, form: .pem), offline: true), as: .envelope).path
        let report = try verify(prepared, pinned: [TestKeys.ed25519])
        XCTAssertEqual(report.kind, .envelope)
        XCTAssertEqual(statuses(report)[.payloadSignature], .failed)
        XCTAssertEqual(report.signaturesChecked, 0)
    }

    // MARK: - signer's key and certificate

    /// A package that does not embed its signer's key is checked with a pinned key that makes
    /// the signature; without one the signature check fails.
    func testASignerNotEmbeddedIsFoundAmongThePinnedKeys() throws {
        let path = try signed([.payload], TestKeys.p256, certificate: CertificateEmbedding.none)
        let report = try verify(path, pinned: [TestKeys.other, TestKeys.p256])
        expect(report, [.structure: .passed, .payloadDigest: .passed, .payloadSignature: .passed, .payloadTrust: .passed])
        let alone = try verify(path)
        XCTAssertEqual(statuses(alone)[.payloadSignature], .failed)
        XCTAssertEqual(statuses(alone)[.payloadCertificate], .skipped)
    }

    func testAnExpiredCertificateFailsWithItsReasonUnlessAllowed() throws {
        let (key, certificate) = try TestCertificates().make("Release Signer", days: 1)
        let path = try signed([.payload], key, certificate: .x509(chain: [certificate], form: .pem))
        let valid = try verify(path, pinned: [key], time: try XCTUnwrap(certificate.notBefore) + 3600)
        expect(valid, [
            .structure: .passed, .payloadDigest: .passed, .payloadSignature: .passed, .payloadCertificate: .passed,
            .payloadTrust: .passed,
        ])
        XCTAssertEqual(valid.certificates.map(\.validity), [.valid])
        let later = try XCTUnwrap(certificate.notAfter) + 86_400
        let expired = try verify(path, pinned: [key], time: later)
        expect(expired, [
            .structure: .passed, .payloadDigest: .passed, .payloadSignature: .passed, .payloadCertificate: .failed,
            .payloadTrust: .failed,
        ])
        XCTAssertEqual(expired.result(.payloadCertificate)?.reason, .expired)
        XCTAssertEqual(expired.result(.payloadTrust)?.reason, .expired)
        XCTAssertEqual(expired.certificates.map(\.validity), [.expired])
        XCTAssertEqual(expired.problems(requiring: [], integrityOnly: true), [.failed(.payloadCertificate), .failed(.payloadTrust)])
        // expired without a trust input: the certificate rules hold all the same
        XCTAssertEqual(try verify(path, time: later).result(.payloadCertificate)?.reason, .expired)
        let allowed = try verify(path, pinned: [key], time: later, allowExpired: true)
        XCTAssertEqual(statuses(allowed)[.payloadCertificate], .passed)
        XCTAssertEqual(statuses(allowed)[.payloadTrust], .passed)
        let early = try verify(path, pinned: [key], time: try XCTUnwrap(certificate.notBefore) - 86_400, allowExpired: true)
        XCTAssertEqual(early.result(.payloadCertificate)?.reason, .notYetValid)
    }

    // MARK: - encrypted payloads

    func testAnEncryptedPayloadIsCheckedOnlyWithItsClassKey() throws {
        let classKey = try SecureRandom.bytes(32)
        let sealed = try scratch.seal(try scratch.pack(testPayload(Chunks.size + 3)), key: classKey)
        let path = try signed([.payload], from: sealed)
        let without = try verify(path, pinned: [TestKeys.ed25519])
        expect(without, [.structure: .passed, .payloadSignature: .passed, .payloadTrust: .passed])
        XCTAssertEqual(without.verdict(requiring: [], integrityOnly: false), .authenticated)
        XCTAssertEqual(without.verdict(requiring: [.payloadDigest], integrityOnly: false), .notVerified)
        let with = try verify(path, pinned: [TestKeys.ed25519], classKey: classKey)
        expect(with, [
            .structure: .passed, .payloadTag: .passed, .payloadDigest: .passed, .payloadSignature: .passed, .payloadTrust: .passed,
        ])
        XCTAssertEqual(with.verdict(requiring: [.payloadTag, .payloadDigest], integrityOnly: false), .authenticated)
        var wrong = classKey
        wrong[0] ^= 1
        let wrongKey = try verify(path, pinned: [TestKeys.ed25519], classKey: wrong)
        XCTAssertEqual(statuses(wrongKey)[.payloadTag], .failed)
        XCTAssertEqual(statuses(wrongKey)[.payloadDigest], .failed)
    }
}
