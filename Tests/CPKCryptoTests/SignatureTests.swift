import CPKCore
import CPKCrypto
import Foundation
import CPKTestSupport
import XCTest

/// Signing keys are slow to make (RSA above all): one of each type, shared by every test.
enum Keys {
    static let rsa = try! SigningKey.generate(.rsa(bits: 2048))
    static let rsaOther = try! SigningKey.generate(.rsa(bits: 2048))
    static let rsaPSS = try! SigningKey.generate(.rsaPSS(bits: 2048))
    static let p256 = try! SigningKey.generate(.ecP256)
    static let p384 = try! SigningKey.generate(.ecP384)
    static let ed25519 = try! SigningKey.generate(.ed25519)

    static func key(for scheme: SignatureScheme) -> SigningKey {
        switch scheme {
        case .rsaPKCS1v15: return rsa
        case .rsaPSS: return rsaPSS
        case .ecdsaP256: return p256
        case .ecdsaP384: return p384
        case .ed25519: return ed25519
        }
    }
}

final class SignatureTests: XCTestCase {
    let digest = Array(try! SHA256Hasher.digest(Array("the payload".utf8)))

    func testEverySchemeSignsAndVerifiesWithFixedSizes() throws {
        for scheme in SignatureScheme.allCases {
            let key = Keys.key(for: scheme)
            let publicKey = try key.verifyingKey
            let signature = try key.sign(digest: digest, scheme: scheme)
            XCTAssertEqual(signature.count, publicKey.signatureSize(for: scheme), scheme.rawValue)
            XCTAssertEqual(signature.count, [256, 256, 64, 96, 64][SignatureScheme.allCases.firstIndex(of: scheme)!])
            XCTAssertTrue(try publicKey.verify(signature: signature, digest: digest, scheme: scheme), scheme.rawValue)

            var flipped = signature
            flipped[flipped.count / 2] ^= 0x01
            XCTAssertFalse(try publicKey.verify(signature: flipped, digest: digest, scheme: scheme), scheme.rawValue)
            var otherDigest = digest
            otherDigest[0] ^= 0x80
            XCTAssertFalse(try publicKey.verify(signature: signature, digest: otherDigest, scheme: scheme), scheme.rawValue)
            XCTAssertFalse(try publicKey.verify(signature: Array(signature.dropLast()), digest: digest, scheme: scheme))
        }
    }

    func testAnotherKeyDoesNotVerify() throws {
        let signature = try Keys.rsa.sign(digest: digest, scheme: .rsaPKCS1v15)
        XCTAssertFalse(try Keys.rsaOther.verifyingKey.verify(signature: signature, digest: digest, scheme: .rsaPKCS1v15))
        XCTAssertFalse(try Keys.rsa.verifyingKey.isSameKey(as: try Keys.rsaOther.verifyingKey))
        XCTAssertTrue(try Keys.rsa.verifyingKey.isSameKey(as: try Keys.rsa.verifyingKey))
    }

    func testKeyAndSchemeMustFit() throws {
        XCTAssertCPKError(.usage, containing: "cannot make ecdsa-p256", try Keys.rsa.sign(digest: digest, scheme: .ecdsaP256))
        XCTAssertCPKError(.usage, containing: "cannot make rsa-pkcs1v15", try Keys.rsaPSS.sign(digest: digest, scheme: .rsaPKCS1v15))
        XCTAssertCPKError(.usage, containing: "cannot make ecdsa-p384", try Keys.p256.sign(digest: digest, scheme: .ecdsaP384))
        XCTAssertCPKError(
            .invalidInput, containing: "cannot be used for ed25519",
            try Keys.p256.verifyingKey.verify(signature: [], digest: digest, scheme: .ed25519))
        XCTAssertCPKError(.invalidInput, containing: "32-byte", try Keys.rsa.sign(digest: [1, 2, 3], scheme: .rsaPKCS1v15))
        // An ordinary RSA key may make PSS signatures too.
        XCTAssertTrue(
            try Keys.rsa.verifyingKey.verify(
                signature: try Keys.rsa.sign(digest: digest, scheme: .rsaPSS), digest: digest, scheme: .rsaPSS))
    }

    func testDefaultSchemes() throws {
        XCTAssertEqual(Keys.rsa.type.defaultScheme, .rsaPKCS1v15)
        XCTAssertEqual(Keys.rsaPSS.type.defaultScheme, .rsaPSS)
        XCTAssertEqual(Keys.p256.type.defaultScheme, .ecdsaP256)
        XCTAssertEqual(Keys.p384.type.defaultScheme, .ecdsaP384)
        XCTAssertEqual(Keys.ed25519.type.defaultScheme, .ed25519)
        XCTAssertEqual(Keys.rsa.type, .rsa(bits: 2048))
    }

    func testDiagnosesTheCommonOfflineMistakes() throws {
        let publicKey = try Keys.rsa.verifyingKey
        let pss = try Keys.rsa.sign(digest: digest, scheme: .rsaPSS)
        XCTAssertEqual(
            publicKey.diagnose(signature: pss, digest: digest, expected: .rsaPKCS1v15),
            "it is a valid rsa-pss signature, not rsa-pkcs1v15")
        let rehashed = try Keys.rsa.sign(digest: try SHA256Hasher.digest(digest), scheme: .rsaPKCS1v15)
        XCTAssertEqual(
            publicKey.diagnose(signature: rehashed, digest: digest, expected: .rsaPKCS1v15)?.contains("hashed again"), true)
        let other = try Keys.rsaOther.sign(digest: digest, scheme: .rsaPKCS1v15)
        XCTAssertNil(publicKey.diagnose(signature: other, digest: digest, expected: .rsaPKCS1v15))
        XCTAssertEqual(
            try Keys.p256.verifyingKey.diagnose(signature: [0x30, 1, 2], digest: digest, expected: .ecdsaP256)?
                .contains("64 bytes"), true)
    }

    func testECDSAConversionRoundTrips() throws {
        for scheme in [SignatureScheme.ecdsaP256, .ecdsaP384] {
            let raw = try Keys.key(for: scheme).sign(digest: digest, scheme: scheme)
            let der = try XCTUnwrap(ECDSASignature.der(fromRaw: raw))
            XCTAssertTrue(ECDSASignature.looksLikeDER(der))
            XCTAssertEqual(ECDSASignature.raw(fromDER: der, scheme: scheme), raw)
            XCTAssertNil(ECDSASignature.raw(fromDER: der + [0], scheme: scheme), "trailing bytes")
        }
        // r and s with leading zero bytes keep their fixed width.
        let small = [UInt8](repeating: 0, count: 31) + [7] + [UInt8](repeating: 0, count: 30) + [1, 2]
        XCTAssertEqual(ECDSASignature.raw(fromDER: try XCTUnwrap(ECDSASignature.der(fromRaw: small)), scheme: .ecdsaP256), small)
    }
}

final class KeyLoadingTests: XCTestCase {
    func testPrivateKeysInEveryForm() throws {
        let openssl = try OpenSSLCommand()
        try openssl.runChecked(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "pkcs8.pem"])
        try openssl.runChecked(["pkey", "-in", "pkcs8.pem", "-traditional", "-out", "traditional.pem"])
        try openssl.runChecked(["pkey", "-in", "pkcs8.pem", "-outform", "DER", "-out", "pkcs8.der"])
        try openssl.runChecked(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.pem"])
        try openssl.write("pass", Array("correct horse".utf8))
        try openssl.runChecked(["pkey", "-in", "pkcs8.pem", "-aes256", "-passout", "file:pass", "-out", "encrypted.pem"])
        try openssl.runChecked([
            "pkey", "-in", "ec.pem", "-traditional", "-aes256", "-passout", "file:pass", "-out", "ec-encrypted.pem",
        ])

        let expected = try SigningKey(loading: try openssl.read("pkcs8.pem"), passphrase: nil).verifyingKey
        for name in ["traditional.pem", "pkcs8.der"] {
            let key = try SigningKey(loading: try openssl.read(name), passphrase: nil)
            XCTAssertTrue(try key.verifyingKey.isSameKey(as: expected), name)
        }
        XCTAssertTrue(try String(decoding: openssl.read("traditional.pem"), as: UTF8.self).contains("RSA PRIVATE KEY"))
        let pass = Array("correct horse".utf8)
        let decrypted = try SigningKey(loading: try openssl.read("encrypted.pem"), passphrase: pass)
        XCTAssertTrue(try decrypted.verifyingKey.isSameKey(as: expected))
        XCTAssertEqual(try SigningKey(loading: try openssl.read("ec-encrypted.pem"), passphrase: pass).type, .ecP256)

        XCTAssertCPKError(.usage, containing: "encrypted", try SigningKey(loading: try openssl.read("encrypted.pem"), passphrase: nil))
        XCTAssertCPKError(
            .invalidInput, containing: "wrong passphrase",
            try SigningKey(loading: try openssl.read("encrypted.pem"), passphrase: Array("wrong".utf8)))
        XCTAssertCPKError(
            .invalidInput, containing: "not a private key", try SigningKey(loading: Array("hello".utf8), passphrase: nil))
    }

    func testSmallRSAKeysDoNotSign() throws {
        let openssl = try OpenSSLCommand()
        try openssl.runChecked(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "small.pem"])
        XCTAssertCPKError(.invalidInput, containing: "1024-bit", try SigningKey(loading: try openssl.read("small.pem"), passphrase: nil))
    }

    func testPublicKeysInEveryForm() throws {
        let openssl = try OpenSSLCommand()
        try openssl.write("key.pem", try Keys.rsa.pem())
        try openssl.runChecked(["pkey", "-in", "key.pem", "-pubout", "-out", "spki.pem"])
        try openssl.runChecked(["pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "spki.der"])
        try openssl.runChecked(["rsa", "-in", "key.pem", "-RSAPublicKey_out", "-outform", "DER", "-out", "pkcs1.der"])
        try openssl.runChecked(["req", "-x509", "-key", "key.pem", "-subj", "/CN=Signer", "-days", "1", "-out", "cert.pem"])
        try openssl.runChecked(["x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der"])
        let expected = try Keys.rsa.verifyingKey
        for name in ["spki.pem", "spki.der", "pkcs1.der", "cert.pem", "cert.der"] {
            XCTAssertTrue(try VerifyingKey(loading: try openssl.read(name)).isSameKey(as: expected), name)
        }
        let base64 = Array(Base64.encode(try openssl.read("spki.der")).utf8)
        XCTAssertTrue(try VerifyingKey(loading: base64).isSameKey(as: expected))
        XCTAssertCPKError(.invalidInput, containing: "private key", try VerifyingKey(loading: try openssl.read("key.pem")))
        for key in [Keys.p256, Keys.p384, Keys.ed25519] {
            let loaded = try VerifyingKey(loading: Array(try key.verifyingKey.pem().utf8))
            XCTAssertEqual(loaded.type, key.type)
        }
    }
}

/// Our signatures against the openssl command line, and the other way round, for every scheme.
final class OpenSSLInteropTests: XCTestCase {
    let payload = Array("an application payload\n".utf8)

    func testOpenSSLVerifiesOurSignatures() throws {
        let openssl = try OpenSSLCommand()
        let digest = try SHA256Hasher.digest(payload)
        try openssl.write("payload", payload)
        try openssl.write("digest", digest)
        for scheme in SignatureScheme.allCases {
            let key = Keys.key(for: scheme)
            try openssl.write("key.pem", try key.pem())
            try openssl.runChecked(["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"])
            var signature = try key.sign(digest: digest, scheme: scheme)
            if scheme == .ecdsaP256 || scheme == .ecdsaP384 {
                signature = try XCTUnwrap(ECDSASignature.der(fromRaw: signature))
            }
            try openssl.write("sig", signature)
            let verify = ["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-sigfile", "sig"]
            switch scheme {
            case .rsaPKCS1v15, .ecdsaP256:
                try openssl.runChecked(verify + ["-pkeyopt", "digest:sha256", "-in", "digest"])
                try openssl.runChecked(["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "payload"])
            case .rsaPSS:
                let pss = ["-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:32"]
                try openssl.runChecked(verify + ["-pkeyopt", "digest:sha256"] + pss + ["-in", "digest"])
                try openssl.runChecked(
                    ["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "-sigopt", "rsa_padding_mode:pss",
                     "-sigopt", "rsa_pss_saltlen:32", "payload"])
            case .ecdsaP384:
                try openssl.runChecked(["dgst", "-sha384", "-verify", "pub.pem", "-signature", "sig", "digest"])
            case .ed25519:
                try openssl.runChecked(verify + ["-rawin", "-in", "digest"])
            }
            // and a tampered signature is refused by openssl too: the checks above are real
            signature[signature.count - 1] ^= 0x01
            try openssl.write("sig", signature)
            XCTAssertNotEqual(
                try openssl.run(["dgst", scheme == .ecdsaP384 ? "-sha384" : "-sha256", "-verify", "pub.pem", "-signature",
                                 "sig", scheme == .ecdsaP384 ? "digest" : "payload"]), 0, scheme.rawValue)
        }
    }

    /// The offline path: openssl signs the digest with each scheme's documented command.
    func testWeVerifyOpenSSLSignaturesMadeWithTheDocumentedCommands() throws {
        let openssl = try OpenSSLCommand()
        let digest = try SHA256Hasher.digest(payload)
        try openssl.write("digest", digest)
        for scheme in SignatureScheme.allCases {
            let key = Keys.key(for: scheme)
            try openssl.write("key.pem", try key.pem())
            let command = scheme.opensslArguments.map {
                $0 == SignatureScheme.keyPlaceholder ? "key.pem" : $0 == SignatureScheme.digestPlaceholder ? "digest" : String($0)
            }
            try openssl.runChecked(command + ["-out", "sig"])
            var signature = try openssl.read("sig")
            if scheme == .ecdsaP256 || scheme == .ecdsaP384 {
                signature = try XCTUnwrap(ECDSASignature.raw(fromDER: signature, scheme: scheme), scheme.rawValue)
            }
            XCTAssertTrue(try key.verifyingKey.verify(signature: signature, digest: digest, scheme: scheme), scheme.rawValue)
        }
    }

    /// The help text's table: no line wider than ArgumentParser's 80-column wrap would break,
    /// and each scheme's command back whole once the continuations are joined.
    func testTheOpenSSLTableKeepsEachCommandWhole() {
        let lines = SignatureScheme.opensslTable()
        XCTAssertTrue(lines.allSatisfy { $0.count <= 78 }, lines.joined(separator: "\n"))
        let joined = lines.joined(separator: "\n").replacingOccurrences(of: " \\\n      ", with: " ")
        for scheme in SignatureScheme.allCases {
            XCTAssertTrue(joined.contains("  \(scheme.rawValue) ") && joined.contains(" \(scheme.opensslCommand)"), scheme.rawValue)
        }
    }

    func testOpenSSLWithoutDigestInfoIsDiagnosed() throws {
        let openssl = try OpenSSLCommand()
        let digest = try SHA256Hasher.digest(payload)
        try openssl.write("digest", digest)
        try openssl.write("key.pem", try Keys.rsa.pem())
        try openssl.runChecked(["pkeyutl", "-sign", "-inkey", "key.pem", "-in", "digest", "-out", "sig"])
        let signature = try openssl.read("sig")
        let publicKey = try Keys.rsa.verifyingKey
        XCTAssertFalse(try publicKey.verify(signature: signature, digest: digest, scheme: .rsaPKCS1v15))
        XCTAssertEqual(
            publicKey.diagnose(signature: signature, digest: digest, expected: .rsaPKCS1v15)?.contains("digest:sha256"), true)
        // PSS made with openssl's default salt length (the maximum) is named too
        try openssl.runChecked(
            ["pkeyutl", "-sign", "-inkey", "key.pem", "-pkeyopt", "digest:sha256", "-pkeyopt", "rsa_padding_mode:pss",
             "-in", "digest", "-out", "pss"])
        XCTAssertEqual(
            publicKey.diagnose(signature: try openssl.read("pss"), digest: digest, expected: .rsaPSS)?.contains("salt"), true)
        XCTAssertEqual(
            publicKey.diagnose(signature: try openssl.read("pss"), digest: digest, expected: .rsaPKCS1v15)?
                .contains("PSS padding, but PKCS#1 v1.5 padding is expected"), true)
    }
}
