import CPKCore
import CPKCrypto
import CPKKeys
import CPKTestSupport
import Foundation
import XCTest

/// The DistributeKey documents (docs/keys.md §4.4–4.5) and the refusal rules of `distribute`.
final class FleetTests: XCTestCase {
    static let device = try! RSAPrivateKey.generate(bits: 2048)
    static let other = try! RSAPrivateKey.generate(bits: 2048)
    static let devicePublic = try! device.publicKey
    static let otherPublic = try! other.publicKey

    var openssl: OpenSSLCommand!

    override func setUpWithError() throws { openssl = try OpenSSLCommand() }

    func report(_ id: String = "dev-1", key: [UInt8]? = nil, cert: [UInt8]? = nil, extra: [(String, JSONValue)] = []) -> [UInt8] {
        var properties: [(String, JSONValue)] = [
            ("device_public_key", .string(Base64.encode(key ?? Self.devicePublic.subjectPublicKeyInfoDER)))
        ]
        if let cert { properties.append(("device_cert", .string(Base64.encode(cert)))) }
        return Array(JSONValue.object([("device_id", .string(id)), ("reported_properties", .object(properties + extra))]).compactText.utf8)
    }

    func assertRefused(_ bytes: [UInt8], _ reason: CPKError.Reason, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try DeviceReport(parsing: bytes), file: file, line: line) { error in
            let error = (error as? DeviceReport.Refused)?.error ?? (error as? CPKError)
            XCTAssertEqual(error?.reason, reason, "\(String(describing: error))", file: file, line: line)
            XCTAssertTrue(error?.message.contains(text) == true, "\(String(describing: error?.message)) lacks \(text)", file: file, line: line)
        }
    }

    // MARK: - reported documents

    func testAWellFormedReportIsRead() throws {
        let report = try DeviceReport(parsing: report(extra: [("applications", .array([]))]))
        XCTAssertEqual(report.deviceID, "dev-1")
        XCTAssertEqual(try report.publicKey.fingerprint, try Self.devicePublic.fingerprint)
        XCTAssertNil(report.certificate)
        // An Azure-style twin keeps the reported properties at properties.reported.
        let twin = #"{"device_id": "dev-2", "properties": {"reported": {"device_public_key": "\#(Base64.encode(Self.devicePublic.subjectPublicKeyInfoDER))"}}}"#
        XCTAssertEqual(try DeviceReport(parsing: Array(twin.utf8)).deviceID, "dev-2")
    }

    func testMalformedReportsAreRefusedAsSuch() {
        assertRefused(Array("{\"device_id\": ".utf8), .malformedReport, containing: "not JSON")
        assertRefused(Array("[1]".utf8), .malformedReport, containing: "JSON object")
        assertRefused(Array(#"{"reported_properties": {}}"#.utf8), .malformedReport, containing: "device_id")
        for id in ["", "../etc/passwd", ".hidden", "a/b", String(repeating: "x", count: 129), "tab\there"] {
            assertRefused(report(id), .malformedReport, containing: "device id")
        }
        assertRefused(Array(#"{"device_id": "d"}"#.utf8), .malformedReport, containing: "reported_properties")
        assertRefused(Array(#"{"device_id": "d", "reported_properties": {}}"#.utf8), .malformedReport, containing: "device_public_key")
        assertRefused(report(extra: [("device_cert", .number("1"))]), .malformedReport, containing: "device_cert")
    }

    func testOnlyRSAKeysOfAtLeast2048BitsAreServed() throws {
        XCTAssertEqual(try openssl.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "weak.pem"]), 0)
        XCTAssertEqual(try openssl.run(["pkey", "-in", "weak.pem", "-pubout", "-outform", "DER", "-out", "weak.der"]), 0)
        XCTAssertEqual(try openssl.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.pem"]), 0)
        XCTAssertEqual(try openssl.run(["pkey", "-in", "ec.pem", "-pubout", "-outform", "DER", "-out", "ec.der"]), 0)
        assertRefused(report(key: try openssl.read("weak.der")), .unusableDeviceKey, containing: "1024-bit")
        assertRefused(report(key: try openssl.read("ec.der")), .unusableDeviceKey, containing: "not RSA")
        assertRefused(report(key: Array(try Self.devicePublic.pem().utf8)), .unusableDeviceKey, containing: "DER")
        assertRefused(report(key: [0x30, 0x03, 0x02, 0x01, 0x00]), .unusableDeviceKey, containing: "device_public_key")
        let notBase64 = #"{"device_id": "d", "reported_properties": {"device_public_key": "%%%"}}"#
        assertRefused(Array(notBase64.utf8), .unusableDeviceKey, containing: "base64")
        // the refusal names the device once its id is read
        XCTAssertThrowsError(try DeviceReport(parsing: report("named", key: try openssl.read("weak.der")))) { error in
            XCTAssertEqual((error as? DeviceReport.Refused)?.deviceID, "named")
        }
    }

    /// A CA, a certificate for the device key under it, and one for another key.
    func certificates() throws -> (ca: [X509Certificate], device: [UInt8], otherKey: [UInt8], outsider: [UInt8]) {
        try openssl.write("device.pub", Array(try Self.devicePublic.pem().utf8))
        try openssl.write("other.pub", Array(try Self.otherPublic.pem().utf8))
        for ca in ["ca", "rogue"] {
            XCTAssertEqual(try openssl.run([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(ca).key", "-out", "\(ca).pem", "-subj", "/CN=\(ca)",
                "-days", "2",
            ]), 0)
        }
        func issue(_ key: String, by ca: String, out: String) throws -> [UInt8] {
            XCTAssertEqual(try openssl.run([
                "x509", "-new", "-force_pubkey", key, "-subj", "/CN=dev-1", "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-days", "2",
                "-outform", "DER", "-out", out,
            ]), 0)
            return try openssl.read(out)
        }
        return (
            try X509Certificate.chain(loading: try openssl.read("ca.pem")), try issue("device.pub", by: "ca", out: "d.der"),
            try issue("other.pub", by: "ca", out: "o.der"), try issue("device.pub", by: "rogue", out: "r.der")
        )
    }

    func testDeviceCertificatesMustCertifyTheKeyAndChainToTheFleetCA() throws {
        let (ca, device, otherKey, outsider) = try certificates()
        let now = Int(Date().timeIntervalSince1970)
        let good = try DeviceReport(parsing: report(cert: device))
        XCTAssertNotNil(good.certificate)
        XCTAssertNoThrow(try good.requireCertificate(chainingTo: ca, at: now))
        assertRefused(report(cert: otherKey), .untrustedDevice, containing: "certifies another key")
        assertRefused(report(cert: [0x30, 0x00]), .untrustedDevice, containing: "certificate")
        let rogue = try DeviceReport(parsing: report(cert: outsider))  // well formed, but from another CA
        XCTAssertCPKError(.checkFailed, containing: "does not chain to the fleet CA", try rogue.requireCertificate(chainingTo: ca, at: now))
        let bare = try DeviceReport(parsing: report())
        XCTAssertCPKError(.checkFailed, containing: "no device_cert", try bare.requireCertificate(chainingTo: ca, at: now))
        XCTAssertCPKError(
            .checkFailed, containing: "does not chain", try good.requireCertificate(chainingTo: ca, at: now + 10 * 86400))
    }

    // MARK: - desired documents

    func testDesiredDocumentsRoundTripAndSayHowTheyAreWrapped() throws {
        let key = try SecureRandom.bytes(32)
        let wrapped = try Self.devicePublic.wrap(key, padding: .oaepSHA256)
        let fingerprint = try Self.devicePublic.fingerprint
        let document = DesiredState(keys: [("app", wrapped)], padding: .oaepSHA256, wrappingKeySHA256: fingerprint).json(deviceID: "dev-1")
        let read = try DesiredState(parsing: Array(document.compactText.utf8), from: "doc")
        XCTAssertEqual(read.keys.map(\.name), ["app"])
        XCTAssertEqual(read.keys.first?.wrapped, wrapped)
        XCTAssertEqual(read.padding, .oaepSHA256)
        XCTAssertEqual(read.wrappingKeySHA256, fingerprint)
        XCTAssertTrue(read.declaresWrapping)
        XCTAssertEqual(try Self.device.unwrap(wrapped, padding: .oaepSHA256), key)
        XCTAssertFalse(document.compactText.contains(Base64.encode(key)), "never the key in clear")
        // the reference contract's bare shape: PKCS#1 v1.5 assumed, entries that are not base64 kept apart
        let bare = try DesiredState(parsing: Array(#"{"confidential_package_keys": {"a": "AAEC", "b": 3}}"#.utf8), from: "doc")
        XCTAssertEqual(bare.padding, .pkcs1v15)
        XCTAssertFalse(bare.declaresWrapping)
        XCTAssertEqual(bare.keys.map(\.name), ["a"])
        XCTAssertEqual(bare.unreadable.map(\.name), ["b"])
        XCTAssertCPKError(.invalidInput, containing: "must name an algorithm", try DesiredState(
            parsing: Array(#"{"confidential_package_keys": {}, "confidential_package_keys_wrapping": {"algorithm": "rot13"}}"#.utf8),
            from: "doc"))
        XCTAssertCPKError(.invalidInput, containing: "no confidential_package_keys", try DesiredState(parsing: Array("{}".utf8), from: "doc"))
    }

    // MARK: - distribute

    func testDistributeServesTheGoodReportsAndNamesTheRefusals() throws {
        let dir = openssl.directory.path
        try openssl.write("keys.json", Array(#"{"app": "\#(testKeyBase64)", "other": "\#(testKeyBase64)"}"#.utf8))
        try FileManager.default.createDirectory(atPath: dir + "/reports", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
        try openssl.write("reports/a.json", report("dev-a"))
        try openssl.write("reports/b.json", Array("{oops".utf8))
        try openssl.write("reports/c.json", report("dev-a", key: Self.otherPublic.subjectPublicKeyInfoDER))
        try openssl.write("reports/ignored.txt", Array("not a report".utf8))
        let distributor = try FleetDistributor(
            fileStore: dir + "/keys.json", keyNames: ["app"], padding: .oaepSHA256, anchors: [], at: 0)
        // the store is read once: changing it now changes nothing
        try openssl.write("keys.json", Array("{}".utf8))
        var heard: [String] = []
        let summary = try distributor.run(inputs: [.directory(dir + "/reports")], output: .directory(dir + "/out")) {
            heard.append($0.name)
        }
        XCTAssertEqual(summary.served, ["dev-a"])
        XCTAssertEqual(heard, ["\(dir)/reports/b.json", "dev-a (\(dir)/reports/c.json)"])
        XCTAssertEqual(summary.refused.map { $0.error.reason }, [.malformedReport, .duplicateDevice])
        XCTAssertEqual(summary.wraps, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/out"), ["dev-a.json"])
        let desired = try DesiredState(parsing: try openssl.read("out/dev-a.json"), from: "out")
        XCTAssertEqual(desired.keys.map(\.name), ["app"])
        XCTAssertEqual(try Self.device.unwrap(desired.keys[0].wrapped, padding: .oaepSHA256), Base64.decode(testKeyBase64))
        XCTAssertFalse(summary.json.compactText.contains(testKeyBase64))
    }

    func testAKeyStoreWithoutTheNamedKeyStopsBeforeAnyDevice() throws {
        try openssl.write("keys.json", Array(#"{"app": "\#(testKeyBase64)"}"#.utf8))
        XCTAssertCPKError(.invalidInput, containing: "no key named \"missing\"", try FleetDistributor(
            fileStore: openssl.path("keys.json"), keyNames: ["missing"], padding: .pkcs1v15, anchors: [], at: 0))
    }

    func testJSONLinesAreReadInBoundedPiecesAndOverlongLinesRefused() throws {
        let long = String(repeating: "x", count: ReportedState.sizeLimit + 10)
        let text = String(decoding: report("dev-a"), as: UTF8.self) + "\n\n  \n\"\(long)\"\n" + String(decoding: report("dev-b"), as: UTF8.self)
        try openssl.write("reports.jsonl", Array(text.utf8))
        try openssl.write("keys.json", Array(#"{"app": "\#(testKeyBase64)"}"#.utf8))
        let distributor = try FleetDistributor(fileStore: openssl.path("keys.json"), keyNames: [], padding: .pkcs1v15, anchors: [], at: 0)
        let summary = try distributor.run(inputs: [.lines(openssl.path("reports.jsonl"))], output: .lines(openssl.path("out.jsonl"))) { _ in }
        XCTAssertEqual(summary.served, ["dev-a", "dev-b"])
        XCTAssertEqual(summary.refused.map(\.source), ["\(openssl.path("reports.jsonl")) line 4"])
        XCTAssertEqual(summary.refused.first?.error.reason, .malformedReport)
        let lines = String(decoding: try openssl.read("out.jsonl"), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
    }
}
