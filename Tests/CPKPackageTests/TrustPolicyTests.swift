import CPKCore
import CPKCrypto
import Foundation
import CPKTestSupport
import XCTest

@testable import CPKPackage

/// The one trust decision, against certificates made by the openssl command line: a root, an
/// intermediate, code-signing, TLS-server and e-mail leaves, and an unrelated CA.
final class TrustPolicyTests: XCTestCase {
    var command: OpenSSLCommand!
    var directory: URL { command.directory }

    override func setUpWithError() throws {
        command = try OpenSSLCommand()
        try write("ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
        try write("code.ext", "keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n"
            + "subjectAltName=email:release@acme.example,URI:https://acme.example/release\n")
        try write("tls.ext", "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:acme.example\n")
        try write("nosign.ext", "keyUsage=critical,keyEncipherment\n")
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.pem", "-out", "root.crt",
                     "-subj", "/CN=Test Root", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign"])
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.pem", "-out", "other.crt",
                     "-subj", "/CN=Other Root", "-days", "30"])
        try issue("intermediate", subject: "/CN=Test Intermediate", by: "root", extensions: "ca.ext")
        try issue("code", subject: "/CN=Release Signer/O=Acme", by: "intermediate", extensions: "code.ext")
        try issue("direct", subject: "/CN=Direct Signer", by: "root", extensions: "code.ext")
        try issue("tls", subject: "/CN=acme.example", by: "root", extensions: "tls.ext")
        try issue("nosign", subject: "/CN=No Signing", by: "root", extensions: "nosign.ext")
    }

    // MARK: - the rules

    func testWithoutATrustInputNothingIsAuthenticated() throws {
        XCTAssertEqual(policy().evaluate(try signer("direct"), applicationID: "app"), .noTrustInput)
    }

    func testAChainToAnAnchorIsTrustedAndNamesThePath() throws {
        var policy = policy()
        policy.anchors = [.init(try certificate("root"))]
        guard case .trusted(let trusted) = policy.evaluate(try signer("direct"), applicationID: "app") else {
            return XCTFail("not trusted")
        }
        XCTAssertEqual(trusted.identity.text, "subject:CN=Direct Signer")
        XCTAssertEqual(trusted.basis, .anchor(path: ["CN=Direct Signer", "CN=Test Root"]))
        policy.anchors = [.init(try certificate("other"))]
        XCTAssertEqual(reason(policy.evaluate(try signer("direct"), applicationID: "app")), .untrustedChain)
    }

    func testAnIntermediateCompletesTheChainWithoutBeingTrusted() throws {
        var policy = policy()
        policy.anchors = [.init(try certificate("root"))]
        let leafOnly = try signer("code")
        XCTAssertEqual(reason(policy.evaluate(leafOnly, applicationID: "app")), .untrustedChain)
        policy.intermediates = [try certificate("intermediate")]
        XCTAssertNotNil(policy.evaluate(leafOnly, applicationID: "app").trustedSigner)
        // the intermediate is not an anchor: a leaf it signs does not make it one
        var other = self.policy()
        other.anchors = [.init(try certificate("other"))]
        other.intermediates = [try certificate("intermediate")]
        XCTAssertEqual(reason(other.evaluate(leafOnly, applicationID: "app")), .untrustedChain)
    }

    func testAPinnedKeyIsTrustedAndAnotherIsNot() throws {
        var policy = policy()
        policy.pinnedKeys = [.init(try certificate("direct").publicKey)]
        guard case .trusted(let trusted) = policy.evaluate(try signer("direct"), applicationID: "app"),
            case .pinnedKey = trusted.basis
        else { return XCTFail("not trusted by its pinned key") }
        XCTAssertEqual(reason(policy.evaluate(try signer("tls"), applicationID: "app")), .extendedKeyUsage)
        XCTAssertEqual(reason(policy.evaluate(try signer("code", chain: ["intermediate"]), applicationID: "app")), .notPinned)
    }

    func testUsageRulesHoldEvenForAPinnedKey() throws {
        var policy = policy()
        policy.anchors = [.init(try certificate("root"))]
        XCTAssertEqual(reason(policy.evaluate(try signer("tls"), applicationID: "app")), .extendedKeyUsage)
        XCTAssertEqual(reason(policy.evaluate(try signer("nosign"), applicationID: "app")), .keyUsage)
        policy.anchors = []
        policy.pinnedKeys = [.init(try certificate("tls").publicKey)]
        XCTAssertEqual(reason(policy.evaluate(try signer("tls"), applicationID: "app")), .extendedKeyUsage)
    }

    func testValidityIsCheckedAtTheGivenTime() throws {
        let leaf = try certificate("direct")
        var policy = policy()
        policy.anchors = [.init(try certificate("root"))]
        policy.time = (leaf.notAfter ?? 0) + 86_400
        XCTAssertEqual(reason(policy.evaluate(try signer("direct"), applicationID: "app")), .expired)
        policy.allowExpired = true
        XCTAssertNotNil(policy.evaluate(try signer("direct"), applicationID: "app").trustedSigner)
        policy.time = (leaf.notBefore ?? 0) - 86_400
        XCTAssertEqual(reason(policy.evaluate(try signer("direct"), applicationID: "app")), .notYetValid, "never forgiven")
    }

    func testAnAnchorScopedToOneApplicationDoesNotVouchForAnother() throws {
        var policy = policy()
        policy.anchors = [.init(try certificate("root"), scope: .applications(["a"]))]
        XCTAssertNotNil(policy.evaluate(try signer("direct"), applicationID: "a").trustedSigner)
        XCTAssertEqual(reason(policy.evaluate(try signer("direct"), applicationID: "b")), .outOfScope)
        policy.pinnedKeys = [.init(try certificate("direct").publicKey, scope: .applications(["a"]))]
        policy.anchors = []
        XCTAssertEqual(reason(policy.evaluate(try signer("direct"), applicationID: "b")), .outOfScope)
    }

    func testIdentitiesMatchSubjectCommonNameOrAlternativeNames() throws {
        var policy = policy()
        policy.anchors = [.init(try certificate("root"))]
        policy.intermediates = [try certificate("intermediate")]
        let code = try signer("code")
        let subject = try certificate("code").subject  // RFC 2253 order, as cpk-verify prints it
        for identity in ["release@acme.example", "https://acme.example/release", "Release Signer", subject] {
            policy.identities = [IdentityRule(exact: identity)]
            XCTAssertNotNil(policy.evaluate(code, applicationID: "app").trustedSigner, identity)
        }
        policy.identities = [IdentityRule(exact: "release@acme.example.evil")]
        XCTAssertEqual(reason(policy.evaluate(code, applicationID: "app")), .identityMismatch)
        policy.identities = [try IdentityRule(pattern: "release@acme\\.example")]
        XCTAssertNotNil(policy.evaluate(code, applicationID: "app").trustedSigner)
        policy.identities = [try IdentityRule(pattern: "release")]  // the whole name must match
        XCTAssertEqual(reason(policy.evaluate(code, applicationID: "app")), .identityMismatch)
        XCTAssertThrowsError(try IdentityRule(pattern: "(unclosed"))
    }

    func testAnAlteredChainIsBrokenWithOrWithoutATrustInput() throws {
        let leaf = try certificate("direct")
        var der = leaf.der
        der[der.count - 5] ^= 0x01  // inside the signature value
        let altered = try X509Certificate(der: der)
        let broken = SignerCredentials(key: try altered.publicKey, chain: [altered, try certificate("root")], origin: "test")
        XCTAssertEqual(policy().certificateProblem(broken)?.reason, .brokenChain)
    }

    // MARK: - the verdict of a report

    func testAReportWithoutATrustInputIsNotVerifiedUnlessIntegrityOnly() {
        var report = VerificationReport(input: "x", time: 0)
        report.add(.structure, .passed, "ok")
        report.add(.payloadSignature, .passed, "ok")
        report.add(.payloadTrust, .skipped, "no trust input")
        XCTAssertEqual(report.problems(requiring: [], integrityOnly: false), [.noTrustInput])
        XCTAssertEqual(report.verdict(requiring: [], integrityOnly: true), .intact)
        XCTAssertEqual(report.verdict(requiring: [.manifest], integrityOnly: true), .notVerified)
        report.checks.removeLast()
        report.add(.payloadTrust, .passed, "anchor")
        XCTAssertEqual(report.verdict(requiring: [], integrityOnly: false), .authenticated)
    }

    // MARK: - helpers

    private func policy() -> TrustPolicy { TrustPolicy(time: Int(Date().timeIntervalSince1970)) }

    private func reason(_ verdict: TrustVerdict) -> TrustFailure.Reason? {
        if case .untrusted(let failure) = verdict { return failure.reason }
        return nil
    }

    func certificate(_ name: String) throws -> X509Certificate {
        let bytes = try Data(contentsOf: directory.appendingPathComponent("\(name).crt"))
        guard let first = try X509Certificate.chain(loading: Array(bytes)).first else { throw CPKError.invalid("empty") }
        return first
    }

    private func signer(_ name: String, chain: [String] = []) throws -> SignerCredentials {
        let leaf = try certificate(name)
        return SignerCredentials(key: try leaf.publicKey, chain: [leaf] + (try chain.map(certificate)), origin: name)
    }

    private func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }

    private func issue(_ name: String, subject: String, by issuer: String, extensions: String) throws {
        try openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).pem", "-out", "\(name).csr", "-subj", subject])
        try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "\(issuer).crt", "-CAkey", "\(issuer).pem", "-CAcreateserial",
                     "-days", "10", "-extfile", extensions, "-out", "\(name).crt"])
    }

    private func openssl(_ arguments: [String]) throws {
        guard try command.run(arguments) == 0 else { throw CPKError.io("openssl \(arguments.joined(separator: " ")) failed") }
    }
}

extension TrustPolicyTests {
    /// A signer cannot embed a chain the verifier would call broken (its rule, applied at signing).
    func testSigningRefusesABrokenChain() throws {
        let leaf = try certificate("direct")
        let embedding = CertificateEmbedding.x509(chain: [leaf, try certificate("other")], form: .pem)
        XCTAssertCPKError(.invalidInput, containing: "chain is broken", try embedding.requireKey(try leaf.publicKey))
        XCTAssertNoThrow(try CertificateEmbedding.x509(chain: [leaf, try certificate("root")], form: .pem).requireKey(try leaf.publicKey))
    }
}

/// Signer continuity (issue 24): who signed is what the policy authenticated, not the name a
/// certificate claims.
extension TrustPolicyTests {
    private func continuity(_ policy: TrustPolicy, _ signer: SignerCredentials) throws -> SignerContinuity {
        guard let trusted = policy.evaluate(signer, applicationID: "app").trustedSigner else {
            throw CPKError.check("not trusted: \(policy.evaluate(signer, applicationID: "app"))")
        }
        return trusted.continuity
    }

    /// A certificate for the key of `key` (a .pem of this directory) with `subject`, issued by `issuer`.
    private func issue(_ name: String, key: String, subject: String, by issuer: String) throws {
        try runOpenSSL(["req", "-new", "-key", "\(key).pem", "-out", "\(name).csr", "-subj", subject])
        try runOpenSSL(["x509", "-req", "-in", "\(name).csr", "-CA", "\(issuer).crt", "-CAkey", "\(issuer).pem",
                        "-CAcreateserial", "-days", "10", "-extfile", "code.ext", "-out", "\(name).crt"])
    }

    private func runOpenSSL(_ arguments: [String]) throws {
        guard try command.run(arguments) == 0 else { throw CPKError.io("openssl \(arguments.joined(separator: " ")) failed") }
    }

    private func credentials(_ name: String) throws -> SignerCredentials {
        let leaf = try certificate(name)
        return SignerCredentials(key: try leaf.publicKey, chain: [leaf], origin: name)
    }

    func testTheSameNameUnderAnotherAnchorIsAnotherSigner() throws {
        // "other" is a second trusted root that names a new key exactly as "direct" is named.
        try runOpenSSL(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "lookalike-key.pem"])
        try issue("lookalike", key: "lookalike-key", subject: "/CN=Direct Signer", by: "other")
        try runOpenSSL(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rotated-key.pem"])
        try issue("rotated", key: "rotated-key", subject: "/CN=Direct Signer", by: "root")
        var policy = policy()
        policy.time += 1  // certificates issued this very second are valid from it
        policy.anchors = [.init(try certificate("root")), .init(try certificate("other"))]
        let genuine = try continuity(policy, try credentials("direct"))
        let lookalike = try continuity(policy, try credentials("lookalike"))
        XCTAssertEqual(genuine.text, lookalike.text)  // the names agree ...
        XCTAssertFalse(lookalike.isSameSigner(as: genuine))  // ... the anchors do not
        XCTAssertTrue(genuine.isSameSigner(as: genuine))
        guard case .anchor(let sha256, let names)? = genuine.authority else { return XCTFail("no anchor") }
        XCTAssertEqual(sha256, Hex.encode(try certificate("root").fingerprint))
        XCTAssertEqual(names, ["release@acme.example", "https://acme.example/release"])
        XCTAssertTrue(genuine.description.contains("under the anchor CN=Test Root"), genuine.description)
        // the same name under the same anchor, another key: the anchor vouched for the name,
        // so it is the same signer (a key rotation)
        try runOpenSSL(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rotated-key.pem"])
        try issue("rotated", key: "rotated-key", subject: "/CN=Direct Signer", by: "root")
        XCTAssertTrue(try continuity(policy, try credentials("rotated")).isSameSigner(as: genuine))
        // a record written before issue 24 knows the text only: compared by what it has
        let earlier = SignerContinuity(text: "subject:CN=Direct Signer", authority: nil)
        XCTAssertTrue(lookalike.isSameSigner(as: earlier))
        XCTAssertFalse(try continuity(policy, try signer("code", chain: ["intermediate"])).isSameSigner(as: earlier))
    }

    func testTheSameKeyUnderAnotherNameIsAnotherSigner() throws {
        try issue("renamed", key: "direct", subject: "/CN=Renamed Signer", by: "root")
        var policy = policy()
        policy.time += 1  // certificates issued this very second are valid from it
        policy.anchors = [.init(try certificate("root"))]
        let genuine = try continuity(policy, try credentials("direct"))
        let renamed = try continuity(policy, try credentials("renamed"))
        XCTAssertTrue(try credentials("renamed").key.isSameKey(as: try credentials("direct").key))
        XCTAssertFalse(renamed.isSameSigner(as: genuine))
    }

    func testAPinnedKeyIsItsOwnIdentity() throws {
        try issue("renamed", key: "direct", subject: "/CN=Renamed Signer", by: "root")
        try runOpenSSL(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "lookalike-key.pem"])
        try issue("lookalike", key: "lookalike-key", subject: "/CN=Direct Signer", by: "other")
        var policy = policy()
        policy.time += 1  // certificates issued this very second are valid from it
        policy.pinnedKeys = [.init(try certificate("direct").publicKey), .init(try certificate("lookalike").publicKey)]
        let pinned = try continuity(policy, try credentials("direct"))
        guard case .pinnedKey(let sha256)? = pinned.authority else { return XCTFail("not a pinned key") }
        XCTAssertEqual(sha256, Hex.encode(try certificate("direct").publicKey.fingerprint))
        // the names around a pinned key were vouched for by nobody: the key decides
        XCTAssertTrue(try continuity(policy, try credentials("renamed")).isSameSigner(as: pinned))
        XCTAssertFalse(try continuity(policy, try credentials("lookalike")).isSameSigner(as: pinned))
        // the trust input changed (an anchor instead of the pin): the same key is the same
        // signer, another key under the same name is not
        var anchored = self.policy()
        anchored.time += 1
        anchored.anchors = [.init(try certificate("root")), .init(try certificate("other"))]
        XCTAssertTrue(try continuity(anchored, try credentials("direct")).isSameSigner(as: pinned))
        XCTAssertTrue(pinned.isSameSigner(as: try continuity(anchored, try credentials("direct"))))
        XCTAssertFalse(try continuity(anchored, try credentials("lookalike")).isSameSigner(as: pinned))
    }
}
