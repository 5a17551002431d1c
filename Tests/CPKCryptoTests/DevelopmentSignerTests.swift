import CPKCore
import CPKCrypto
import CPKTestSupport
import XCTest

/// `cpk-sign keygen`'s identity: a key for each scheme and a self-signed certificate that the
/// signing rules accept and the openssl command line reads as a code-signing certificate.
final class DevelopmentSignerTests: XCTestCase {
    func testEverySchemeGetsAFittingKeyAndACodeSigningCertificate() throws {
        for scheme in SignatureScheme.allCases {
            let signer = try DevelopmentSigner.make(scheme: scheme, rsaBits: 2048, commonName: "Dev \(scheme.rawValue)", days: 30)
            let publicKey = try signer.key.verifyingKey
            XCTAssertNoThrow(try publicKey.requireFit(scheme), scheme.rawValue)
            let certificate = signer.certificate
            XCTAssertTrue(try certificate.publicKey.isSameKey(as: publicKey), scheme.rawValue)
            XCTAssertEqual(certificate.subject, "CN=Dev \(scheme.rawValue)")
            XCTAssertEqual(certificate.issuer, certificate.subject, "self-signed")
            XCTAssertTrue(certificate.allowsDigitalSignature, scheme.rawValue)
            XCTAssertTrue(certificate.allowsCodeSigning, scheme.rawValue)
            let (start, end) = (try XCTUnwrap(certificate.notBefore), try XCTUnwrap(certificate.notAfter))
            XCTAssertEqual(end - start, 30 * 86_400)
            // the key signs what its certificate's key verifies
            let digest = [UInt8](repeating: 7, count: 32)
            XCTAssertTrue(try publicKey.verify(signature: try signer.key.sign(digest: digest, scheme: scheme), digest: digest, scheme: scheme))
        }
    }

    func testOpenSSLReadsTheCertificateAsCodeSigningAndSelfSigned() throws {
        let openssl = try OpenSSLCommand()
        let signer = try DevelopmentSigner.make(scheme: .ecdsaP384, commonName: "Dev", days: 10)
        try openssl.write("dev.crt", Array(try signer.certificate.pem().utf8))
        // self-signed: it verifies against itself; the extensions as asked
        try openssl.runChecked(["verify", "-CAfile", openssl.path("dev.crt"), "-purpose", "any", openssl.path("dev.crt")])
        try openssl.runChecked(["x509", "-in", openssl.path("dev.crt"), "-noout", "-ext", "keyUsage,extendedKeyUsage,basicConstraints",
                                "-out", openssl.path("ext.txt")])
        let text = String(decoding: try openssl.read("ext.txt"), as: UTF8.self)
        XCTAssertTrue(text.contains("Digital Signature"), text)
        XCTAssertTrue(text.contains("Code Signing"), text)
        XCTAssertTrue(text.contains("CA:FALSE"), text)
    }

    func testBadParametersAreUsageErrors() {
        XCTAssertCPKError(.usage, containing: "2048, 3072 or 4096", try DevelopmentSigner.make(scheme: .rsaPSS, rsaBits: 1024, commonName: "x", days: 1))
        XCTAssertCPKError(.usage, containing: "1 to 3650 days", try DevelopmentSigner.make(scheme: .ed25519, commonName: "x", days: 0))
        XCTAssertCPKError(.usage, containing: "common name", try DevelopmentSigner.make(scheme: .ed25519, commonName: "a\nb", days: 1))
        XCTAssertCPKError(.usage, containing: "common name", try DevelopmentSigner.make(scheme: .ed25519, commonName: "", days: 1))
    }
}
