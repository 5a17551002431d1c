import CPKCore
import CPKCrypto
import CPKTestSupport
import XCTest

/// Key pairs are slow to make: one pair shared by every test, one more for "the wrong key".
enum TestKeys {
    static let pair: RSAPrivateKey = try! RSAPrivateKey.generate(bits: 2048)
    static let other: RSAPrivateKey = try! RSAPrivateKey.generate(bits: 2048)
    static let classKey: [UInt8] = Array(0..<32)

    static let rsa1024PEM = """
        -----BEGIN PUBLIC KEY-----
        MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDd+IHQgfEhdZebyk6kaIdCBU41
        FOfRjNAISVTZ9HOwKx/ujtrAndIdsruAfbt6aCbIhj7saPnOA6RtBt04bWKWcZlq
        4P6CfJ65BjMClx4CBwy3eae8QoVJjpYC/Ttl0C5NvOUPySkucbiqajgMugtYTlAK
        ASeBnITOdZiqoqIIcwIDAQAB
        -----END PUBLIC KEY-----
        """
    static let ecPEM = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEY3rCf5Hc1ciO1jFsRqDeM81xo4Za
        KgeWJUbhnDMFEXOePloYdda9JXH6i/RS3GL948vdWUxp4BLoCH8kHCryKg==
        -----END PUBLIC KEY-----
        """
}

final class Base64Tests: XCTestCase {
    func testRoundTripsEveryLength() {
        for length in 0..<10 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 200) }
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes)
        }
        XCTAssertEqual(Base64.encode(Array("foobar".utf8)), "Zm9vYmFy")
        XCTAssertEqual(Base64.encode(Array("fo".utf8)), "Zm8=")
    }

    func testIsStrict() {
        XCTAssertNil(Base64.decode("Zm8"))  // no padding
        XCTAssertNil(Base64.decode("Zm9=Zm8="))  // padding in the middle
        XCTAssertNil(Base64.decode("Zm9"))
        XCTAssertNil(Base64.decode("Zm!="))
        XCTAssertNil(Base64.decode("Zm9="))  // non-zero unused bits: not the canonical encoding
        XCTAssertNil(Base64.decode("Zm8=\n"))  // whitespace only when asked
        XCTAssertEqual(Base64.decode("Zm8=\n", ignoringWhitespace: true), Array("fo".utf8))
    }
}

final class PublicKeyTests: XCTestCase {
    func testEveryFormLoadsToTheSameKey() throws {
        let key = try TestKeys.pair.publicKey
        let fingerprint = try key.fingerprint
        let forms: [[UInt8]] = [
            key.subjectPublicKeyInfoDER,
            Array(try key.pem().utf8),
            try key.pkcs1DER(),
            Array(try key.pkcs1PEM().utf8),
            Array(Base64.encode(key.subjectPublicKeyInfoDER).utf8),
            Array(Base64.encode(try key.pkcs1DER()).utf8),
        ]
        for form in forms {
            XCTAssertEqual(try PublicKey(loading: form).fingerprint, fingerprint)
        }
        XCTAssertEqual(try SHA256Hasher.digest(key.subjectPublicKeyInfoDER), fingerprint)
        XCTAssertEqual(key.bits, 2048)
        XCTAssertEqual(key.modulusBytes, 256)
    }

    func testPrivateKeyRoundTripsThroughPEM() throws {
        let pem = try TestKeys.pair.pem()
        XCTAssertTrue(String(decoding: pem, as: UTF8.self).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let reloaded = try RSAPrivateKey(loading: pem)
        XCTAssertEqual(try reloaded.publicKey.fingerprint, try TestKeys.pair.publicKey.fingerprint)
        XCTAssertEqual(try PublicKey(loadingPublicOrPrivate: pem).fingerprint, try TestKeys.pair.publicKey.fingerprint)
    }

    func testRejectsKeysThatCannotWrap() {
        XCTAssertCPKError(.invalidInput, containing: "1024-bit", try PublicKey(loading: Array(TestKeys.rsa1024PEM.utf8)))
        XCTAssertCPKError(.invalidInput, containing: "not RSA", try PublicKey(loading: Array(TestKeys.ecPEM.utf8)))
        XCTAssertCPKError(.usage, containing: "2048, 3072, 4096", try RSAPrivateKey.generate(bits: 1024))
    }

    func testRejectsWhatIsNotAPublicKey() throws {
        XCTAssertCPKError(.invalidInput, containing: "not a public key", try PublicKey(loading: Array("hello".utf8)))
        XCTAssertCPKError(.invalidInput, containing: "DER data", try PublicKey(loading: [0x30, 0x03, 0x02, 0x01, 0x00]))
        XCTAssertCPKError(.invalidInput, containing: "private key", try PublicKey(loading: try TestKeys.pair.pem()))
        var trailing = try TestKeys.pair.publicKey.subjectPublicKeyInfoDER
        trailing.append(0)
        XCTAssertCPKError(.invalidInput, containing: "DER data", try PublicKey(loading: trailing))
        XCTAssertCPKError(
            .invalidInput, containing: "no readable block",
            try PublicKey(loading: Array("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n".utf8)))
    }

    func testRejectsEncryptedPrivateKeysWithoutPrompting() {
        let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"
        XCTAssertCPKError(.invalidInput, containing: "encrypted", try RSAPrivateKey(loading: Array(encrypted.utf8)))
    }
}

final class KeyWrapTests: XCTestCase {
    func testWrapsAndUnwrapsWithBothPaddings() throws {
        let key = try TestKeys.pair.publicKey
        for padding in KeyWrapPadding.allCases {
            let wrapped = try key.wrap(TestKeys.classKey, padding: padding)
            XCTAssertEqual(wrapped.count, 256)
            XCTAssertNotEqual(try key.wrap(TestKeys.classKey, padding: padding), wrapped, "randomised padding")
            XCTAssertEqual(try TestKeys.pair.unwrap(wrapped, padding: padding), TestKeys.classKey)
        }
    }

    func testTheWrongKeyOrPaddingIsACheckFailure() throws {
        let wrapped = try TestKeys.pair.publicKey.wrap(TestKeys.classKey, padding: .oaepSHA256)
        XCTAssertCPKError(.checkFailed, containing: "not wrapped to this private key", try TestKeys.other.unwrap(wrapped, padding: .oaepSHA256))
        XCTAssertCPKError(.checkFailed, containing: "pkcs1v15", try TestKeys.pair.unwrap(wrapped, padding: .pkcs1v15))
    }

    /// A truncated key fails as any other: one answer for every cause, or it is an oracle.
    func testATruncatedWrappedKeyFailsAsAnyOther() throws {
        let wrapped = try TestKeys.pair.publicKey.wrap(TestKeys.classKey, padding: .pkcs1v15)
        let truncated = Array(wrapped.dropLast())
        XCTAssertEqual(
            catching { try TestKeys.pair.unwrap(truncated, padding: .pkcs1v15) },
            catching { try TestKeys.other.unwrap(wrapped, padding: .pkcs1v15) })
    }

    private func catching(_ body: () throws -> [UInt8]) -> CPKError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? CPKError
        }
    }

    func testKeysTooLongForOneBlockAreRefused() throws {
        let key = try TestKeys.pair.publicKey
        XCTAssertEqual(KeyWrapPadding.oaepSHA256.maximumKeySize(modulusBytes: 256), 190)
        XCTAssertNoThrow(try key.wrap([UInt8](repeating: 1, count: 190), padding: .oaepSHA256))
        XCTAssertCPKError(.invalidInput, containing: "at most 190", try key.wrap([UInt8](repeating: 1, count: 191), padding: .oaepSHA256))
        XCTAssertCPKError(.invalidInput, containing: "empty", try key.wrap([], padding: .pkcs1v15))
    }

    func testRandomBytesDiffer() throws {
        let a = try SecureRandom.bytes(32)
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, try SecureRandom.bytes(32))
    }
}
