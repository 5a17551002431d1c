import CPKCore
import CPKCrypto
import CPKCBOR
import CPKKeys
import CPKTestSupport
import XCTest

final class WrappedKeyTests: XCTestCase {
    func document(padding: KeyWrapPadding = .pkcs1v15) throws -> WrappedKey {
        try WrappedKey(wrapping: TestKeys.classKey, named: "test", to: TestKeys.pair.publicKey, padding: padding)
    }

    func testDocumentRoundTripsAndUnwraps() throws {
        for padding in KeyWrapPadding.allCases {
            let original = try document(padding: padding)
            let bytes = original.encoded()
            XCTAssertEqual(Array(bytes.prefix(3)), [0xD9, 0xD9, 0xF7])
            let decoded = try WrappedKey(decoding: bytes)
            XCTAssertEqual(decoded, original)
            XCTAssertEqual(decoded.wrappingKeySHA256, try TestKeys.pair.publicKey.fingerprint)
            XCTAssertEqual(try decoded.unwrap(with: TestKeys.pair), TestKeys.classKey)
        }
    }

    func testTheDocumentIsThePlainCBORDescribed() throws {
        let key = try document()
        let value = try CBORValue(decoding: key.encoded())
        let expected = CBORValue.tagged(
            55799,
            .textMap([
                ("cpk-wrapped-key", .unsigned(1)), ("key-name", .text("test")), ("algorithm", .text("rsa-pkcs1v15")),
                ("wrapped", .bytes(key.wrapped)), ("wrapping-key-sha256", .bytes(key.wrappingKeySHA256)),
            ]))
        XCTAssertEqual(value, expected)
    }

    /// One rule for "is this document the key I asked for", shared by cpk-install add-key,
    /// cpk-wrap unwrap and the cpk-keyfetch bridge: canonical names, the document's spelling back.
    func testANameResolvesByItsCanonicalForm() throws {
        var key = try document()
        XCTAssertEqual(try key.resolvedName(expecting: nil), "test")
        XCTAssertEqual(try key.resolvedName(expecting: "test"), "test")
        XCTAssertCPKError(.checkFailed, containing: "named \"test\", not \"other\"", try key.resolvedName(expecting: "other"))
        XCTAssertCPKError(.checkFailed, containing: "not \"Test\"", try key.resolvedName(expecting: "Test"))

        key.keyName = "default/key/k1"
        for spelling in ["default/key/k1", "kbs:///default/key/k1", "kbs://kbs.example:8080/default/key/k1", "/default/key/k1"] {
            XCTAssertEqual(try key.resolvedName(expecting: spelling), "default/key/k1", spelling)
        }
        XCTAssertCPKError(.checkFailed, containing: "not", try key.resolvedName(expecting: "kbs:///default/key/k2"))
        key.keyName = "kbs:///default/key/k1"
        XCTAssertEqual(try key.resolvedName(expecting: "default/key/k1"), "kbs:///default/key/k1")
    }

    func testAWrongPrivateKeyIsRefusedByFingerprint() throws {
        XCTAssertCPKError(.checkFailed, containing: "matching private key", try document().unwrap(with: TestKeys.other))
    }

    func testDecodingIsStrict() throws {
        let key = try document()
        func encoded(_ entries: [(String, CBORValue)], tag: UInt64? = 55799) -> [UInt8] {
            let map = CBORValue.textMap(entries)
            return CBOREncoding.encode(tag.map { .tagged($0, map) } ?? map)
        }
        let good: [(String, CBORValue)] = [
            ("cpk-wrapped-key", .unsigned(1)), ("key-name", .text("test")), ("algorithm", .text("rsa-pkcs1v15")),
            ("wrapped", .bytes(key.wrapped)), ("wrapping-key-sha256", .bytes(key.wrappingKeySHA256)),
        ]
        XCTAssertNoThrow(try WrappedKey(decoding: encoded(good)))
        func replacing(_ name: String, with value: CBORValue?) -> [(String, CBORValue)] {
            good.compactMap { $0.0 == name ? value.map { (name, $0) } : $0 }
        }
        XCTAssertCPKError(.invalidInput, containing: "tagged 55799", try WrappedKey(decoding: encoded(good, tag: nil)))
        XCTAssertCPKError(.invalidInput, containing: "version 2", try WrappedKey(decoding: encoded(replacing("cpk-wrapped-key", with: .unsigned(2)))))
        XCTAssertCPKError(.invalidInput, containing: "no \"key-name\"", try WrappedKey(decoding: encoded(replacing("key-name", with: nil))))
        XCTAssertCPKError(.invalidInput, containing: "unknown algorithm", try WrappedKey(decoding: encoded(replacing("algorithm", with: .text("rsa-oaep-sha1")))))
        XCTAssertCPKError(.invalidInput, containing: "byte string", try WrappedKey(decoding: encoded(replacing("wrapped", with: .text("AAAA")))))
        XCTAssertCPKError(.invalidInput, containing: "expected 32", try WrappedKey(decoding: encoded(replacing("wrapping-key-sha256", with: .bytes([1, 2])))))
        XCTAssertCPKError(.invalidInput, containing: "unknown key \"extra\"", try WrappedKey(decoding: encoded(good + [("extra", .null)])))
        XCTAssertCPKError(.invalidInput, containing: "empty", try WrappedKey(decoding: encoded(replacing("key-name", with: .text("")))))
        XCTAssertCPKError(.invalidInput, containing: "truncated", try WrappedKey(decoding: Array(encoded(good).dropLast())))
        XCTAssertCPKError(.invalidInput, containing: "after", try WrappedKey(decoding: encoded(good) + [0]))
    }

    func testInputFormsAreRecognised() throws {
        let key = try document()
        guard case .document(let decoded) = try WrappedKeyInput(parsing: key.encoded()) else { return XCTFail("document") }
        XCTAssertEqual(decoded, key)
        guard case .bare(let raw) = try WrappedKeyInput(parsing: key.wrapped) else { return XCTFail("raw") }
        XCTAssertEqual(raw, key.wrapped)
        let text = WrappedKeyFormat.base64.render(key)
        XCTAssertFalse(text.binary)
        guard case .bare(let fromBase64) = try WrappedKeyInput(parsing: text.bytes) else { return XCTFail("base64") }
        XCTAssertEqual(fromBase64, key.wrapped)
    }
}

final class KeyNameTests: XCTestCase {
    func testEveryKBSFormNormalises() {
        for form in [
            "kbs:///default/key/key_id1", "kbs://kbs.example:8080/default/key/key_id1",
            "kbs.example/default/key/key_id1", "/default/key/key_id1", "default/key/key_id1",
        ] {
            XCTAssertEqual(KBSResourceURI(parsing: form)?.path, "default/key/key_id1", form)
        }
        XCTAssertEqual(KBSResourceURI(parsing: "kbs://kbs.example:8080/default/key/k")?.host, "kbs.example:8080")
        for notKBS in ["test", "a/b", "a/b/c/d/e", "kbs:///a/b", "https://x/a/b/c", "/a//c", "a/../c", ""] {
            XCTAssertNil(KBSResourceURI(parsing: notKBS), notKBS)
        }
    }

    func testMatchingPrefersTheExactName() throws {
        let names = ["test", "default/key/key_id1"]
        XCTAssertEqual(try KeyName.match("test", in: names), "test")
        XCTAssertEqual(try KeyName.match("kbs:///default/key/key_id1", in: names), "default/key/key_id1")
        XCTAssertEqual(try KeyName.match("host/default/key/key_id1", in: names), "default/key/key_id1")
        XCTAssertNil(try KeyName.match("absent", in: names))
        XCTAssertCPKError(.invalidInput, containing: "several", try KeyName.match("kbs:///a/b/c", in: ["/a/b/c", "h/a/b/c"]))
    }

    func testValidation() {
        XCTAssertCPKError(.usage, containing: "empty", try KeyName.validate(""))
        XCTAssertCPKError(.usage, containing: "control", try KeyName.validate("a\nb"))
        XCTAssertNoThrow(try KeyName.validate("kbs:///default/key/key_id1"))
    }
}

final class FetchReportTests: XCTestCase {
    func testTheReportNamesTheKeyThePaddingAndTheRecipientButNotTheKey() throws {
        let recipient = try RSAPrivateKey.generate(bits: 2048).publicKey
        let secret = [UInt8](repeating: 0x5A, count: 32)
        let wrapped = try WrappedKey(wrapping: secret, named: "app", to: recipient, padding: .pkcs1v15)
        let text = wrapped.fetchReport(store: KeyStoreLocation.file("k.json").kind).compactText
        XCTAssertEqual(
            text,
            #"{"key-name":"app","algorithm":"rsa-pkcs1v15","wrapped-size":256,"wrapping-key-sha256":"\#(Hex.encode(try recipient.fingerprint))","padding":"pkcs1v15","store":"file"}"#)
        XCTAssertFalse(text.contains(Hex.encode(secret)))
        XCTAssertFalse(text.contains(Base64.encode(wrapped.wrapped)), "not even the wrapped bytes")
    }
}
