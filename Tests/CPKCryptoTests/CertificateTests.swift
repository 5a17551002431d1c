import CPKCore
import CPKCrypto
import Foundation
import CPKTestSupport
import XCTest

/// A small PKI made with the openssl command line: a root CA, an intermediate, a leaf for
/// signing, a leaf without digitalSignature, and an unrelated self-signed certificate.
final class TestPKI: @unchecked Sendable {  // read-only after init
    let openssl: OpenSSLCommand

    init() throws {
        openssl = try OpenSSLCommand()
        try openssl.write(
            "ca.ext", Array("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n".utf8))
        try openssl.write("leaf.ext", Array("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n".utf8))
        try openssl.write("encipher.ext", Array("basicConstraints=CA:FALSE\nkeyUsage=critical,keyEncipherment\n".utf8))
        try makeKey("root")
        try openssl.runChecked([
            "req", "-x509", "-key", "root.key", "-subj", "/CN=Test Root", "-days", "30", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", "-out", "root.pem",
        ])
        try makeKey("intermediate")
        try issue("intermediate", subject: "/CN=Test Intermediate", by: "root", extensions: "ca.ext")
        try makeKey("leaf")
        try issue("leaf", subject: "/CN=Package Signer/O=Acme", by: "intermediate", extensions: "leaf.ext")
        try issue("encipher", subject: "/CN=Encipher Only", by: "intermediate", extensions: "encipher.ext", key: "leaf")
        try makeKey("stranger")
        try openssl.runChecked([
            "req", "-x509", "-key", "stranger.key", "-subj", "/CN=Stranger", "-days", "30", "-out", "stranger.pem",
        ])
    }

    private func makeKey(_ name: String) throws {
        try openssl.runChecked(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "\(name).key"])
    }

    private func issue(_ name: String, subject: String, by issuer: String, extensions: String, key: String? = nil) throws {
        try openssl.runChecked(["req", "-new", "-key", "\(key ?? name).key", "-subj", subject, "-out", "\(name).csr"])
        try openssl.runChecked([
            "x509", "-req", "-in", "\(name).csr", "-CA", "\(issuer).pem", "-CAkey", "\(issuer).key", "-CAcreateserial",
            "-days", "10", "-extfile", extensions, "-out", "\(name).pem",
        ])
    }

    func certificate(_ name: String) throws -> X509Certificate {
        try XCTUnwrap(try X509Certificate.chain(loading: try openssl.read("\(name).pem")).first)
    }
}

final class CertificateTests: XCTestCase {
    static let pki = try! TestPKI()
    var now: Int { Int(Date().timeIntervalSince1970) }  // read when used: the PKI is made later

    func testReadsAChainAndItsFields() throws {
        let pki = Self.pki
        let chainPEM = try pki.openssl.read("leaf.pem") + pki.openssl.read("intermediate.pem")
        let chain = try X509Certificate.chain(loading: chainPEM)
        XCTAssertEqual(chain.count, 2)
        XCTAssertEqual(chain[0].subject, "O=Acme,CN=Package Signer")
        XCTAssertEqual(chain[0].issuer, "CN=Test Intermediate")
        XCTAssertTrue(chain[0].allowsDigitalSignature)
        XCTAssertFalse(try pki.certificate("encipher").allowsDigitalSignature)
        XCTAssertTrue(try pki.certificate("root").allowsDigitalSignature == false)
        let leafKey = try SigningKey(loading: try pki.openssl.read("leaf.key"), passphrase: nil)
        XCTAssertTrue(try chain[0].publicKey.isSameKey(as: try leafKey.verifyingKey))
        let notBefore = try XCTUnwrap(chain[0].notBefore)
        let notAfter = try XCTUnwrap(chain[0].notAfter)
        XCTAssertLessThan(abs(notBefore - now), 3600)
        XCTAssertEqual(notAfter - notBefore, 10 * 86400)
        XCTAssertEqual(chain[0].validity(at: now), .valid)
        XCTAssertEqual(chain[0].validity(at: notAfter + 1), .expired)
        XCTAssertEqual(chain[0].validity(at: notBefore - 1), .notYetValid)
        // who signed whom
        XCTAssertTrue(chain[0].isSigned(by: try chain[1].publicKey))
        XCTAssertFalse(chain[0].isSigned(by: try chain[0].publicKey))
        XCTAssertFalse(chain[0].isSelfIssued)
        XCTAssertTrue(try pki.certificate("root").isSelfIssued)
        XCTAssertTrue(try pki.certificate("root").isSigned(by: try pki.certificate("root").publicKey))
        var tampered = chain[0].der
        tampered[tampered.count / 2] ^= 0x01
        if let altered = try? X509Certificate(der: tampered) {
            XCTAssertFalse(altered.isSigned(by: try chain[1].publicKey))
        }
        // DER, and the PEM we write reads back the same
        XCTAssertEqual(try X509Certificate(der: chain[0].der).subject, chain[0].subject)
        XCTAssertEqual(try X509Certificate.chain(loading: Array(try chain[0].pem().utf8)).first?.der, chain[0].der)
    }

    func testRefusesAnythingButCertificates() throws {
        let pki = Self.pki
        let withKey = try pki.openssl.read("leaf.pem") + pki.openssl.read("leaf.key")
        XCTAssertCPKError(.invalidInput, containing: "private key", try X509Certificate.chain(loading: withKey))
        var damaged = try pki.openssl.read("leaf.pem") + pki.openssl.read("intermediate.pem")
        damaged[damaged.count - 100] = UInt8(ascii: "!")
        XCTAssertCPKError(.invalidInput, containing: "cannot be read", try X509Certificate.chain(loading: damaged))
        XCTAssertCPKError(.invalidInput, containing: "not an X.509", try X509Certificate.chain(loading: [0x30, 0x03, 1, 2, 3]))
    }

    /// Only blocks and blank space: any other text (which OpenSSL's reader would skip, so no
    /// signature notices it) is refused; CRLF line ends and indented lines are fine.
    func testPEMTextMayHoldOnlyItsBlocks() throws {
        let pem = try Self.pki.openssl.read("leaf.pem")
        let text = String(decoding: pem, as: UTF8.self)
        XCTAssertNoThrow(try PEMText.requireOnlyBlocks(in: pem, single: true))
        let crlf = Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        XCTAssertEqual(try X509Certificate.chain(loading: crlf).first?.subject, "O=Acme,CN=Package Signer")
        XCTAssertNoThrow(try PEMText.requireOnlyBlocks(in: Array(("\n  \t" + text + "\n\n").utf8)))
        XCTAssertCPKError(.invalidInput, containing: "outside its blocks", try PEMText.requireOnlyBlocks(in: Array(("note\n" + text).utf8)))
        XCTAssertCPKError(.invalidInput, containing: "outside its blocks", try PEMText.requireOnlyBlocks(in: pem + [0xFF, 0x0A]))
        XCTAssertCPKError(.invalidInput, containing: "one block expected", try PEMText.requireOnlyBlocks(in: pem + pem, single: true))
        XCTAssertCPKError(.invalidInput, containing: "not well-formed", try PEMText.requireOnlyBlocks(in: Array(pem.dropLast(10))))
        XCTAssertCPKError(.invalidInput, containing: "not well-formed", try PEMText.requireOnlyBlocks(in: []))
    }

    func testChainToTheRoot() throws {
        let pki = Self.pki
        let outcome = try CertificateChain.verify(
            leaf: try pki.certificate("leaf"), intermediates: [try pki.certificate("intermediate")],
            anchors: [try pki.certificate("root")], at: now, allowExpired: false)
        XCTAssertEqual(
            outcome,
            .trusted(path: ["O=Acme,CN=Package Signer", "CN=Test Intermediate", "CN=Test Root"], anchor: try pki.certificate("root").fingerprint))
    }

    func testUntrustedChains() throws {
        let pki = Self.pki
        let leaf = try pki.certificate("leaf")
        let missing = try CertificateChain.verify(
            leaf: leaf, intermediates: [], anchors: [try pki.certificate("root")], at: now, allowExpired: false)
        guard case .untrusted(let reason) = missing else { return XCTFail("\(missing)") }
        XCTAssertTrue(reason.contains("unable to get local issuer certificate"), reason)
        let stranger = try CertificateChain.verify(
            leaf: leaf, intermediates: [try pki.certificate("intermediate")], anchors: [try pki.certificate("stranger")],
            at: now, allowExpired: false)
        guard case .untrusted = stranger else { return XCTFail("\(stranger)") }
    }

    func testExpiryIsAnErrorUnlessAllowed() throws {
        let pki = Self.pki
        let (leaf, intermediate, root) = (try pki.certificate("leaf"), try pki.certificate("intermediate"), try pki.certificate("root"))
        let later = now + 20 * 86400  // leaf and intermediate expired, root still valid
        let expired = try CertificateChain.verify(leaf: leaf, intermediates: [intermediate], anchors: [root], at: later, allowExpired: false)
        guard case .untrusted(let reason) = expired else { return XCTFail("\(expired)") }
        XCTAssertTrue(reason.contains("certificate has expired"), reason)
        let allowed = try CertificateChain.verify(leaf: leaf, intermediates: [intermediate], anchors: [root], at: later, allowExpired: true)
        guard case .trusted = allowed else { return XCTFail("\(allowed)") }
        // allowing expiry does not allow a certificate that is not valid yet
        let earlier = now - 86400
        let early = try CertificateChain.verify(leaf: leaf, intermediates: [intermediate], anchors: [root], at: earlier, allowExpired: true)
        guard case .untrusted(let early) = early else { return XCTFail("\(early)") }
        XCTAssertTrue(early.contains("not yet valid"), early)
    }

    func testCheckTimes() {
        XCTAssertEqual(CheckTime.parse("1970-01-02T00:00:00Z"), 86400)
        XCTAssertEqual(CheckTime.parse("1970-01-02"), 86400)
        XCTAssertEqual(CheckTime.parse("1970-01-02T01:00:00+01:00"), 86400)
        XCTAssertEqual(CheckTime.parse("1970-01-01T23:00:00-01:00"), 86400)
        XCTAssertEqual(CheckTime.parse("@86400"), 86400)
        XCTAssertNil(CheckTime.parse("tomorrow"))
        XCTAssertNil(CheckTime.parse("2030-13"))
    }
}
