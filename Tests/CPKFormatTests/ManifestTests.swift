import CPKCore
import CPKFormat
import XCTest

/// The manifest of the reference layout of docs/format.md, built by hand.
func referenceManifest() -> Manifest {
    Manifest(
        id: "test", name: "Unknown", vendor: "Unknown",
        payload: PayloadSection(
            data: 0, target: Target(arch: "aarch64", os: "OP-TEE"),
            version: Version(major: 1, minor: 0, revision: 0, date: "2026-11-26 08:23:15.309608734 UTC"),
            encryption: .aesGCM(keyName: "test", keyStrength: 256, nonce: 1, tag: 2),
            digest: .sha256(data: 3), signature: .rsaPKCS1v15(keyStrength: 2048, data: 4),
            certificate: .x509PEM(data: 5)),
        package: PackageSection(map: [0, 1, 2, 3, 4, 5, 6]))
}

final class ManifestTests: XCTestCase {
    func testWritesTheReferenceKeyOrderCompactly() {
        let text = String(decoding: referenceManifest().encoded, as: UTF8.self)
        XCTAssertEqual(
            text,
            #"{"cp-id":"test","cp-name":"Unknown","cp-vendor":"Unknown","payload":{"data":0,"#
                + #""target":{"arch":"aarch64","os":"OP-TEE"},"ver":{"maj":1,"min":0,"rev":0,"#
                + #""date":"2026-11-26 08:23:15.309608734 UTC"},"enc":{"aes-gcm":{"key_name":"test","#
                + #""key_strength":256,"nonce":1,"tag":2}},"dig":{"sha256":{"data":3}},"#
                + #""sig":{"rsa-pkcs1v15":{"key_strength":2048,"data":4}},"#
                + #""cert":{"embedded-x509-pem":{"data":5}}},"#
                + #""package":{"map":[0,1,2,3,4,5,6],"dig":"none","sig":"none","cert":"none"}}"#)
    }

    func testEveryCertificateSchemeRoundTrips() throws {
        let schemes: [Certificate] = [
            .none, .targetDomain("example.com"), .url("https://example.com/c.pem"), .x509PEM(data: 5),
            .x509DER(data: 5), .publicKeyPEM(data: 5), .publicKeyDER(data: 5),
        ]
        for scheme in schemes {
            var manifest = referenceManifest()
            manifest.payload.certificate = scheme
            manifest.package.certificate = scheme
            XCTAssertEqual(try Manifest(encoded: manifest.encoded), manifest)
        }
    }

    func testRejectsUnknownSchemesNamingThem() {
        let cases = [
            (#""enc":{"aes-gcm""#, #""enc":{"chacha20""#, "chacha20"),
            (#""dig":{"sha256""#, #""dig":{"md5""#, "md5"),
            (#""sig":{"rsa-pkcs1v15""#, #""sig":{"rsa-pss-mystery""#, "rsa-pss-mystery"),
            (#""cert":{"embedded-x509-pem""#, #""cert":{"embedded-x509-xml""#, "embedded-x509-xml"),
            (#""enc":{"aes-gcm":{"key_name":"test","key_strength":256,"nonce":1,"tag":2}}"#, #""enc":"rot13""#, "rot13"),
        ]
        let good = String(decoding: referenceManifest().encoded, as: UTF8.self)
        for (from, to, name) in cases {
            let bad = good.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(bad, good)
            XCTAssertThrowsError(try Manifest(encoded: Array(bad.utf8))) { error in
                XCTAssertTrue("\(error)".contains("unknown scheme \"\(name)\""), "\(error)")
            }
        }
    }

    func testRejectsMissingAndUnknownKeysAndBadNumbers() {
        let good = String(decoding: referenceManifest().encoded, as: UTF8.self)
        let cases = [
            (#""cp-id":"test","#, "", "has no \"cp-id\""),
            (#""cp-id":"test""#, #""cp-id":"test","extra":1"#, "unknown key \"extra\""),
            (#""data":0"#, #""data":70000"#, "outside"),
            (#""maj":1"#, #""maj":-1"#, "outside"),
            (#""maj":1"#, #""maj":1.5"#, "whole number"),
            (#""key_strength":256"#, #""key_strength":128"#, "not supported"),
        ]
        for (from, to, expected) in cases {
            let bad = good.replacingOccurrences(of: from, with: to)
            XCTAssertThrowsError(try Manifest(encoded: Array(bad.utf8))) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
                XCTAssertEqual((error as? CPKError)?.exitCode, 1)
            }
        }
    }

    func testConsistencyChecksSizesAndIndexes() throws {
        let manifest = referenceManifest()
        let sizes: [UInt64?] = [100, 12, 16, 32, 256, 900, nil]
        XCTAssertNoThrow(try manifest.checkConsistency(streamSizes: sizes, manifestIndex: 6))
        var wrongTag = sizes
        wrongTag[2] = 15
        XCTAssertThrowsError(try manifest.checkConsistency(streamSizes: wrongTag, manifestIndex: 6))
        XCTAssertThrowsError(try manifest.checkConsistency(streamSizes: Array(sizes.prefix(5)), manifestIndex: 4))
        var twoRoles = manifest
        twoRoles.payload.digest = .sha256(data: 0)
        XCTAssertThrowsError(try twoRoles.checkConsistency(streamSizes: sizes, manifestIndex: 6))
    }

    func testRolesAndRenumbering() {
        var manifest = referenceManifest()
        XCTAssertEqual(
            manifest.roles(streamCount: 8, manifestIndex: 6).map(\.rawValue),
            ["payload", "nonce", "tag", "payload-digest", "payload-signature", "payload-certificate", "manifest",
             "unreferenced"])
        manifest.renumberStreams { $0 + 1 }
        XCTAssertEqual(manifest.payload.data, 1)
        XCTAssertEqual(manifest.payload.encryption, .aesGCM(keyName: "test", keyStrength: 256, nonce: 2, tag: 3))
        XCTAssertEqual(manifest.package.map, [1, 2, 3, 4, 5, 6, 7])
    }
}
