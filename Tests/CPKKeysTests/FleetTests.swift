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

    static let signingKey = try! SigningKey(loading: try! FleetTests.device.pem(), passphrase: nil)

    func distributor(
        _ selection: FleetDistributor.KeySelection = .named(["app"]), authenticator: DeviceAuthenticator = .insecureAnyDevice,
        generation: UInt64? = nil, at time: Int = 1_700_000_000
    ) throws -> FleetDistributor {
        try FleetDistributor(
            fileStore: openssl.path("keys.json"), selection: selection, authenticator: authenticator,
            signer: .init(key: Self.signingKey, scheme: .rsaPKCS1v15, chain: []),
            terms: try .init(padding: .oaepSHA256, validity: 3600, generation: generation), at: time)
    }

    /// The signed release in `bytes`, checked as a device checks it (the signer's key pinned).
    func release(_ bytes: [UInt8], for id: String = "dev-a", key: PublicKey = FleetTests.devicePublic) throws -> KeyRelease {
        let anchor = FleetAnchor(key: try Self.signingKey.verifyingKey)
        return try KeyRelease(
            verifying: bytes,
            against: .init(anchor: anchor, deviceID: id, deviceKeySHA256: try key.fingerprint, lastGeneration: nil, time: 1_700_000_000))
    }

    func testDistributeServesTheGoodReportsAndNamesTheRefusals() throws {
        let dir = openssl.directory.path
        try openssl.write("keys.json", Array(#"{"app": "\#(testKeyBase64)", "other": "\#(testKeyBase64)"}"#.utf8))
        try FileManager.default.createDirectory(atPath: dir + "/reports", withIntermediateDirectories: true)
        try openssl.write("reports/a.json", report("dev-a"))
        try openssl.write("reports/b.json", Array("{oops".utf8))
        try openssl.write("reports/c.json", report("dev-c", key: Self.otherPublic.subjectPublicKeyInfoDER))
        try openssl.write("reports/ignored.txt", Array("not a report".utf8))
        let first = try distributor()
        // the store is read once: changing it now changes nothing
        try openssl.write("keys.json", Array("{}".utf8))
        var heard: [String] = []
        // a missing output directory is made
        let summary = try first.run(inputs: [.directory(dir + "/reports")], output: .directory(dir + "/out")) {
            heard.append($0.name)
        }
        XCTAssertEqual(summary.served, ["dev-a", "dev-c"])
        XCTAssertEqual(heard, ["\(dir)/reports/b.json"])
        XCTAssertEqual(summary.refused.map { $0.error.reason }, [.malformedReport])
        XCTAssertEqual(summary.wraps, 2)
        XCTAssertTrue(summary.insecureAnyDevice)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/out").sorted(), ["dev-a.json", "dev-c.json"])
        let release = try release(try openssl.read("out/dev-a.json"))
        XCTAssertEqual(release.keys.map(\.name), ["app"])
        XCTAssertEqual([release.issuedAt, release.expiresAt], [1_700_000_000, 1_700_003_600])
        XCTAssertEqual(try Self.device.unwrap(release.keys[0].wrapped, padding: .oaepSHA256), Base64.decode(testKeyBase64))
        XCTAssertFalse(summary.json.compactText.contains(testKeyBase64))
        // A second run goes above the generation of the document it replaces.
        try openssl.write("keys.json", Array(#"{"app": "\#(testKeyBase64)"}"#.utf8))
        _ = try distributor(generation: release.generation + 1000).run(inputs: [.file(dir + "/reports/a.json")], output: .directory(dir + "/out")) { _ in }
        _ = try distributor().run(inputs: [.file(dir + "/reports/a.json")], output: .directory(dir + "/out")) { _ in }
        XCTAssertEqual(try self.release(try openssl.read("out/dev-a.json")).generation, release.generation + 1001)
    }

    func testAKeyStoreWithoutTheNamedKeyStopsBeforeAnyDevice() throws {
        try openssl.write("keys.json", Array(#"{"app": "\#(testKeyBase64)"}"#.utf8))
        XCTAssertCPKError(.invalidInput, containing: "no key named \"missing\"", try distributor(.named(["missing"])))
        let policy = try ReleasePolicy(parsing: Array(#"{"cpk_release_policy": 1, "rules": [{"match": {"any": true}, "keys": ["gone"]}]}"#.utf8))
        XCTAssertCPKError(.usage, containing: "\"gone\"", try distributor(.policy(policy)))
    }

    func testJSONLinesAreReadInBoundedPiecesAndOverlongLinesRefused() throws {
        let long = String(repeating: "x", count: ReportedState.sizeLimit + 10)
        let text = String(decoding: report("dev-a"), as: UTF8.self) + "\n\n  \n\"\(long)\"\n" + String(decoding: report("dev-b"), as: UTF8.self)
        try openssl.write("reports.jsonl", Array(text.utf8))
        try openssl.write("keys.json", Array(#"{"app": "\#(testKeyBase64)"}"#.utf8))
        let summary = try distributor().run(inputs: [.lines(openssl.path("reports.jsonl"))], output: .lines(openssl.path("out.jsonl"))) { _ in }
        XCTAssertEqual(summary.served, ["dev-a", "dev-b"])
        XCTAssertEqual(summary.refused.map(\.source), ["\(openssl.path("reports.jsonl")) line 4"])
        XCTAssertEqual(summary.refused.first?.error.reason, .malformedReport)
        let lines = String(decoding: try openssl.read("out.jsonl"), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
    }

    // MARK: - authentication, duplicates, policy

    func testOnlyAuthenticatedDevicesClaimAnIdAndTwoClaimsServeNobody() throws {
        let (ca, device, _, _) = try certificates()
        try openssl.write("keys.json", Array(#"{"app": "\#(testKeyBase64)"}"#.utf8))
        let fingerprint = Hex.encode(try Self.otherPublic.fingerprint)
        let allowList = try DeviceAllowList(parsing: Array(
            #"{"cpk_device_allow_list": 1, "devices": [{"device_id": "dev-2", "device_public_key_sha256": "\#(fingerprint)"}]}"#.utf8))
        let lines = [
            report("dev-1"),  // uncertified, first: must not block the certified one
            report("dev-1", cert: device),
            report("dev-2", key: Self.devicePublic.subjectPublicKeyInfoDER),  // not the listed key
            report("dev-2", key: Self.otherPublic.subjectPublicKeyInfoDER),
            report("dev-3", key: Self.otherPublic.subjectPublicKeyInfoDER, cert: nil),
            report("dev-2", key: Self.otherPublic.subjectPublicKeyInfoDER),  // a second authenticated dev-2
        ].map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
        try openssl.write("r.jsonl", Array(lines.utf8))
        let summary = try distributor(authenticator: DeviceAuthenticator(fleetCAs: ca, allowList: allowList), at: Int(Date().timeIntervalSince1970))
            .run(inputs: [.lines(openssl.path("r.jsonl"))], output: .lines(openssl.path("out.jsonl"))) { _ in }
        XCTAssertEqual(summary.served, ["dev-1"])
        XCTAssertFalse(summary.insecureAnyDevice)
        XCTAssertEqual(summary.refused.map(\.source), ["line 1", "line 3", "line 5", "line 4", "line 6"].map { "\(openssl.path("r.jsonl")) \($0)" })
        XCTAssertEqual(
            summary.refused.map { $0.error.reason }, [.untrustedDevice, .untrustedDevice, .untrustedDevice, .duplicateDevice, .duplicateDevice])
        let written = String(decoding: try openssl.read("out.jsonl"), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(written.count, 1)
    }

    func testACertificateMustNameTheReportedDevice() throws {
        let (ca, device, _, _) = try certificates()  // CN=dev-1
        let now = Int(Date().timeIntervalSince1970)
        XCTAssertCPKError(
            .checkFailed, containing: "not the reported device id \"dev-2\"",
            try DeviceReport(parsing: report("dev-2", cert: device)).requireCertificate(chainingTo: ca, at: now))
    }

    func testUnusualDeviceKeysAreRefused() throws {
        XCTAssertEqual(try openssl.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-pkeyopt", "rsa_keygen_pubexp:3", "-out", "e3.pem"]), 0)
        XCTAssertEqual(try openssl.run(["pkey", "-in", "e3.pem", "-pubout", "-outform", "DER", "-out", "e3.der"]), 0)
        XCTAssertEqual(try PublicKey(loading: try openssl.read("e3.der")).publicExponent, 3)
        XCTAssertEqual(Self.devicePublic.publicExponent, 65537)
        assertRefused(report(key: try openssl.read("e3.der")), .unusableDeviceKey, containing: "exponent is 3")
    }

    func testReleasePoliciesAreReadStrictly() throws {
        func policy(_ text: String) throws -> ReleasePolicy { try ReleasePolicy(parsing: Array(text.utf8)) }
        let good = try policy(#"{"cpk_release_policy": 1, "rules": [{"match": {"group": "canary"}, "keys": ["b", "a"]}, {"match": {"device_id": "d"}, "keys": ["a"]}]}"#)
        XCTAssertEqual(good.keyNames, ["b", "a"])
        XCTAssertEqual(good.rules.map(\.match), [.group("canary"), .deviceID("d")])
        for (text, needle) in [
            (#"{"cpk_release_policy": 2, "rules": []}"#, "must be 1"),
            (#"{"cpk_release_policy": 1, "rules": [], "x": 1}"#, "unknown member \"x\""),
            (#"{"cpk_release_policy": 1, "rules": []}"#, "non-empty"),
            (#"{"cpk_release_policy": 1, "rules": [{"match": {"any": false}, "keys": ["a"]}]}"#, "must be true"),
            (#"{"cpk_release_policy": 1, "rules": [{"match": {"group": "a", "ou": "b"}, "keys": ["a"]}]}"#, "exactly one"),
            (#"{"cpk_release_policy": 1, "rules": [{"match": {"any": true}, "keys": []}]}"#, "names no key"),
            (#"{"cpk_release_policy": 1, "rules": [{"match": {"any": true}}]}"#, "keys must be"),
            ("[", "not JSON"),
        ] {
            XCTAssertCPKError(.invalidInput, containing: needle, try policy(text))
        }
        XCTAssertCPKError(.invalidInput, containing: "larger than", try ReleasePolicy(parsing: [UInt8](repeating: 0x20, count: (1 << 20) + 1)))
    }

    /// The attestation requirement: a rule's own, else the policy's; every typo refused.
    func testAttestationRequirementsAreReadStrictly() throws {
        func policy(_ text: String) throws -> ReleasePolicy { try ReleasePolicy(parsing: Array(text.utf8)) }
        let zero = String(repeating: "00", count: 32)
        let read = try policy(#"""
            {"cpk_release_policy": 1, "attestation": {"tpm": true},
             "rules": [{"match": {"any": true}, "keys": ["a"]},
                       {"match": {"group": "g"}, "keys": ["b"], "attestation": {"tpm": true, "pcrs": {"sha256": {"7": "\#(zero)"}}}}]}
            """#)
        XCTAssertNotNil(read.rules[0].attestation)
        XCTAssertNil(read.rules[0].attestation?.pcrs)
        XCTAssertEqual(read.rules[1].attestation?.pcrs?.banks[.sha256]?[7], [UInt8](repeating: 0, count: 32))
        XCTAssertTrue(read.requiresAttestation && read.requiresPCRs)
        XCTAssertFalse(try policy(#"{"cpk_release_policy": 1, "rules": [{"match": {"any": true}, "keys": ["a"]}]}"#).requiresAttestation)
        func rule(_ attestation: String) -> String {
            #"{"cpk_release_policy": 1, "rules": [{"match": {"any": true}, "keys": ["a"], "attestation": \#(attestation)}]}"#
        }
        for (text, needle) in [
            (rule(#"{"tpm": false}"#), "must be true"),
            (rule(#"{"tpm": true, "pcr": {}}"#), "unknown member \"pcr\""),
            (rule(#"{"tpm": true, "pcrs": {}}"#), "PCR banks"),
            (rule(#"{"tpm": true, "pcrs": {"sha1": {"0": "00"}}}"#), "unknown bank"),
            (rule(#"{"tpm": true, "pcrs": {"sha256": {"24": "\#(zero)"}}}"#), "0 to 23"),
            (rule(#"{"tpm": true, "pcrs": {"sha256": {"07": "\#(zero)"}}}"#), "0 to 23"),
            (rule(#"{"tpm": true, "pcrs": {"sha256": {"7": "00"}}}"#), "64 hex digits"),
            (#"{"cpk_release_policy": 1, "attestation": {}, "rules": [{"match": {"any": true}, "keys": ["a"]}]}"#, "must be true"),
        ] {
            XCTAssertCPKError(.invalidInput, containing: needle, try policy(text))
        }
    }

    func testAllowListsAreReadStrictly() throws {
        let hex = String(repeating: "ab", count: 32)
        let list = try DeviceAllowList(parsing: Array(
            #"{"cpk_device_allow_list": 1, "devices": [{"device_id": "d", "device_public_key_sha256": "\#(hex)", "groups": ["g"]}]}"#.utf8))
        XCTAssertEqual(list.entry(deviceID: "d", keySHA256: [UInt8](repeating: 0xab, count: 32))?.groups, ["g"])
        XCTAssertNil(list.entry(deviceID: "d", keySHA256: [UInt8](repeating: 0, count: 32)))
        for (text, needle) in [
            (#"{"cpk_device_allow_list": 1, "devices": [{"device_id": "d", "device_public_key_sha256": "ab"}]}"#, "64 hex"),
            (#"{"cpk_device_allow_list": 1, "devices": [{"device_id": "../x", "device_public_key_sha256": "\#(hex)"}]}"#, "device id"),
            (#"{"cpk_device_allow_list": 1, "devices": [{"device_id": "d", "device_public_key_sha256": "\#(hex)", "group": []}]}"#, "unknown member"),
            (#"{"cpk_device_allow_list": 1, "devices": [{"device_id": "d", "device_public_key_sha256": "\#(hex)"}, {"device_id": "d", "device_public_key_sha256": "\#(hex)"}]}"#, "twice"),
        ] {
            XCTAssertCPKError(.invalidInput, containing: needle, try DeviceAllowList(parsing: Array(text.utf8)))
        }
    }
}
