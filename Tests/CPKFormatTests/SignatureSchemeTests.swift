import CPKCore
import CPKFormat
import XCTest

/// The signature variants added with cpk-sign: names, fields, fixed sizes, renumbering.
final class SignatureSchemeTests: XCTestCase {
    let variants: [(Signature, String, Int)] = [
        (.rsaPKCS1v15(keyStrength: 3072, data: 4), #"{"rsa-pkcs1v15":{"key_strength":3072,"data":4}}"#, 384),
        (.rsaPSS(keyStrength: 2048, data: 4), #"{"rsa-pss":{"key_strength":2048,"data":4}}"#, 256),
        (.ecdsaP256(data: 4), #"{"ecdsa-p256":{"data":4}}"#, 64),
        (.ecdsaP384(data: 4), #"{"ecdsa-p384":{"data":4}}"#, 96),
        (.ed25519(data: 4), #"{"ed25519":{"data":4}}"#, 64),
    ]

    func testEveryVariantRoundTripsWithItsFieldsInOrder() throws {
        for (signature, json, size) in variants {
            var manifest = referenceManifest()
            manifest.payload.signature = signature
            let text = String(decoding: manifest.encoded, as: UTF8.self)
            XCTAssertTrue(text.contains(#""sig":\#(json)"#), text)
            XCTAssertEqual(try Manifest(encoded: manifest.encoded), manifest)
            XCTAssertEqual(signature.expectedSize, size)
            XCTAssertEqual(signature.stream, 4)
        }
        XCTAssertEqual(Signature.none.schemeName, "none")
        XCTAssertNil(Signature.none.stream)
    }

    func testFixedSizesAreChecked() throws {
        for (signature, _, size) in variants {
            var manifest = referenceManifest()
            manifest.payload.signature = signature
            var sizes: [UInt64?] = [nil, 12, 16, 32, UInt64(size), 700, 300]
            XCTAssertNoThrow(try manifest.checkConsistency(streamSizes: sizes, manifestIndex: 6))
            sizes[4] = UInt64(size + 1)
            XCTAssertThrowsError(try manifest.checkConsistency(streamSizes: sizes, manifestIndex: 6)) { error in
                XCTAssertTrue("\(error)".contains("\(size) expected"), "\(error)")
            }
        }
    }

    func testRejectsFieldsThatDoNotBelong() {
        let good = String(decoding: referenceManifest().encoded, as: UTF8.self)
        let cases = [
            (#"{"ecdsa-p256":{"key_strength":256,"data":4}}"#, "unknown key \"key_strength\""),
            (#"{"ed25519":{}}"#, "has no \"data\""),
            (#"{"rsa-pss":{"data":4}}"#, "has no \"key_strength\""),
            (#"{"rsa-pss":{"key_strength":2047,"data":4}}"#, "not a whole number of bytes"),
            (#"{"ecdsa-p521":{"data":4}}"#, "known: none, rsa-pkcs1v15, rsa-pss, ecdsa-p256, ecdsa-p384, ed25519"),
        ]
        for (scheme, message) in cases {
            let bad = good.replacingOccurrences(of: #"{"rsa-pkcs1v15":{"key_strength":2048,"data":4}}"#, with: scheme)
            XCTAssertThrowsError(try Manifest(encoded: Array(bad.utf8))) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }

    func testThePackageDigestCannotBeInTheMap() {
        var manifest = referenceManifest()
        manifest.package.digest = .sha256(data: 7)
        manifest.package.signature = .ed25519(data: 8)
        manifest.package.map = [0, 1, 2, 3, 4, 5, 6, 7]
        let sizes: [UInt64?] = [nil, 12, 16, 32, 256, 700, 300, 32, 64]
        XCTAssertThrowsError(try manifest.checkConsistency(streamSizes: sizes, manifestIndex: 6)) { error in
            XCTAssertTrue("\(error)".contains("package digest stream 7"), "\(error)")
        }
        manifest.package.map = [0, 1, 2, 3, 4, 5, 6]
        XCTAssertNoThrow(try manifest.checkConsistency(streamSizes: sizes, manifestIndex: 6))
    }

    func testInsertionRenumbersNewVariantsAndPendingSignatures() {
        var manifest = referenceManifest()
        manifest.payload.signature = .ecdsaP384(data: 4)
        var head = PackageHead(
            manifest: manifest, manifestIndex: 6,
            streams: [.payload, .bytes(Array(repeating: 0, count: 12)), .deferred(size: 16), .deferred(size: 32),
                      .bytes(Array(repeating: 0, count: 96)), .bytes([1]), .manifest],
            payloadSize: nil)
        head.pendingSignatures = [4]
        XCTAssertNoThrow(try head.validate())
        head.insertStream(.bytes([9]), at: 3)
        XCTAssertEqual(head.manifest.payload.signature, .ecdsaP384(data: 5))
        XCTAssertEqual(head.pendingSignatures, [5])
        XCTAssertNoThrow(try head.validate())
        head.pendingSignatures = [1]
        XCTAssertThrowsError(try head.validate()) { XCTAssertTrue("\($0)".contains("not a signature stream"), "\($0)") }
    }
}
