import CPKCLI
import CPKCore
import CPKCrypto
import CPKKeyfetchCLI
import CPKKeys
import CPKManager
import CPKTestSupport
import XCTest

/// `cpk-keyfetch provision` and `fetch` against a file store in a scratch directory.
final class KeyfetchFrontendTests: XCTestCase {
    var directory = ""
    var store: KeyStoreOptions!

    override func setUpWithError() throws {
        directory = makeTemporaryDirectory(self)
        store = try KeyStoreOptions.parse(["--file-store", directory + "/keys.json"])
    }

    func testAProvisionedKeyIsNotReplacedWithoutForce() throws {
        try KeyfetchFrontend.provision(name: "app", store: store, force: false)
        let first = try FileKeyStore(path: directory + "/keys.json").key(named: "app")
        XCTAssertEqual(first.count, 32)
        XCTAssertThrowsError(try KeyfetchFrontend.provision(name: "app", store: store, force: false)) { error in
            XCTAssertEqual((error as? CPKError)?.reason, .keyExists)
        }
        XCTAssertEqual(try FileKeyStore(path: directory + "/keys.json").key(named: "app"), first)
        try KeyfetchFrontend.provision(name: "app", store: store, force: true)
        XCTAssertNotEqual(try FileKeyStore(path: directory + "/keys.json").key(named: "app"), first)
        XCTAssertThrowsError(try KeyfetchFrontend.provision(name: "", store: store, force: false)) { error in
            XCTAssertEqual((error as? CPKError)?.reason, .keyNameEmpty)
        }
    }

    func testAFetchedKeyIsWrappedToTheRecipientAndOpensWithItsPrivateKey() throws {
        try KeyfetchFrontend.provision(name: "app", store: store, force: false)
        let recipient = try RSAPrivateKey.generate(bits: 2048)
        try Data(try recipient.publicKey.pem().utf8).write(to: URL(fileURLWithPath: directory + "/device.pem"))
        for padding in [KeyWrapPadding.oaepSHA256, .pkcs1v15] {
            let output = directory + "/app-\(padding.rawValue).cpkkey"
            try KeyfetchFrontend.fetch(
                .init(
                    keyName: "app", recipient: directory + "/device.pem", store: store, inline: nil, twin: nil, padding: padding,
                    format: .document, output: output, json: false, messages: try MessageOptions.parse(["-q"])))
            let document = try WrappedKey(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: output))))
            XCTAssertEqual(document.keyName, "app")
            XCTAssertEqual(document.padding, padding)
            XCTAssertEqual(document.wrappingKeySHA256, try recipient.publicKey.fingerprint)
            XCTAssertEqual(try document.unwrap(with: recipient), try FileKeyStore(path: directory + "/keys.json").key(named: "app"))
        }
    }

    func testAnUnknownKeyIsRefusedAndNothingIsWritten() throws {
        try KeyfetchFrontend.provision(name: "app", store: store, force: false)
        let recipient = try RSAPrivateKey.generate(bits: 2048)
        try Data(try recipient.publicKey.pem().utf8).write(to: URL(fileURLWithPath: directory + "/device.pem"))
        XCTAssertThrowsError(
            try KeyfetchFrontend.fetch(
                .init(
                    keyName: "other", recipient: directory + "/device.pem", store: store, inline: nil, twin: nil,
                    padding: .oaepSHA256, format: .document, output: directory + "/out", json: false,
                    messages: try MessageOptions.parse(["-q"]))))
        XCTAssertEqual(access(directory + "/out", F_OK), -1)
    }

    func testTheFetchReportNamesTheKeyAndStoreButNeverHoldsTheKey() throws {
        try KeyfetchFrontend.provision(name: "app", store: store, force: false)
        let recipient = try RSAPrivateKey.generate(bits: 2048)
        try Data(try recipient.publicKey.pem().utf8).write(to: URL(fileURLWithPath: directory + "/device.pem"))
        var printed: [String] = []
        try KeyfetchFrontend.fetch(
            .init(
                keyName: "app", recipient: directory + "/device.pem", store: store, inline: nil, twin: nil, padding: .pkcs1v15,
                format: .base64, output: directory + "/app.b64", json: true, messages: try MessageOptions.parse(["-q"]))
        ) { printed.append($0) }
        let report = try JSONValue(parsing: Array(try XCTUnwrap(printed.first).utf8))
        XCTAssertEqual(report["padding"], .string("pkcs1v15"), printed[0])
        XCTAssertEqual(report["store"], .string("file"), printed[0])
        let key = try FileKeyStore(path: directory + "/keys.json").key(named: "app")
        XCTAssertFalse(printed[0].contains(Base64.encode(key)), "the report holds the key")
    }

    /// A distribution request signed with a fresh key written to the scratch directory.
    func distribution(reports: [String]) throws -> KeyfetchFrontend.Distribution {
        try Data(try RSAPrivateKey.generate(bits: 2048).pem()).write(to: URL(fileURLWithPath: directory + "/release.key"))
        let signingKey = SigningKeyReference(
            reference: directory + "/release.key", passphraseFile: nil, passphraseEnvironment: nil, token: TokenOptions(),
            option: "--key")
        var request = KeyfetchFrontend.Distribution(reports: reports, fileStore: directory + "/keys.json", signingKey: signingKey)
        request.messages = try MessageOptions.parse(["-q"])
        return request
    }

    /// The fleet loop in-process: a device's report, then distribute signs a release for it.
    func testADistributedReleaseIsSignedForTheReportingDevice() throws {
        try KeyfetchFrontend.provision(name: "app", store: store, force: false)
        let device = try PackageManagerSimulator(statePath: directory + "/state")
        let report = try DeviceReportBuilder.report(of: device, deviceID: "dev-01", certificate: nil)
        try Data((report.compactText + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/dev-01.json"))
        var request = try distribution(reports: [directory + "/dev-01.json"])
        (request.keyNames, request.insecureAnyDevice, request.json) = (["app"], true, true)
        request.outputDirectory = directory + "/desired"
        var printed: [String] = []
        try KeyfetchFrontend.distribute(request) { printed.append($0) }
        let summary = try JSONValue(parsing: Array(try XCTUnwrap(printed.first).utf8))
        XCTAssertEqual(summary["served"], .array([.string("dev-01")]), printed[0])
        XCTAssertEqual(summary["refused"], .array([]), printed[0])
        XCTAssertEqual(summary["insecure-any-device"], .bool(true), printed[0])

        let signer = try SigningKey(loading: try Data(contentsOf: URL(fileURLWithPath: directory + "/release.key")).map { $0 }, passphrase: nil)
        let deviceKey = try PublicKey(loading: try device.exportDevicePublicKey())
        let release = try KeyRelease(
            verifying: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/desired/dev-01.json"))),
            against: .init(
                anchor: FleetAnchor(key: try signer.verifyingKey), deviceID: "dev-01", deviceKeySHA256: try deviceKey.fingerprint,
                lastGeneration: nil, time: Int(Date().timeIntervalSince1970)))
        XCTAssertEqual(release.keys.map(\.name), ["app"])
        // The device, provisioned with the operator's key as its fleet anchor, applies it.
        try FleetMembership.provision(
            anchor: Array(try signer.verifyingKey.pem().utf8), source: "release.pub", deviceID: "dev-01", in: device.state)
        try KeysFrontend.apply(
            document: directory + "/desired/dev-01.json", allowUnsigned: false, json: false,
            state: try StateOptions.parse(["--state", directory + "/state"]), messages: try MessageOptions.parse(["-q"]))
        XCTAssertTrue(device.hasClassKey(for: "app"))
    }

    func testDistributeRefusesToGuessWhoIsADeviceOrWhichKeysGoOut() throws {
        func refused(_ change: (inout KeyfetchFrontend.Distribution) -> Void) throws -> CPKError? {
            var request = try distribution(reports: [])
            (request.keyNames, request.fleetCAs, request.outputDirectory) = (["app"], ["ca.pem"], directory)
            change(&request)
            do {
                try KeyfetchFrontend.distribute(request) { _ in }
                return nil
            } catch let error as CPKError {
                return error
            }
        }
        XCTAssertEqual(try refused { $0.output = "x" }?.message.contains("not both"), true)
        XCTAssertEqual(try refused { ($0.outputDirectory, $0.json) = (nil, true) }?.message.contains("standard output free"), true)
        XCTAssertEqual(try refused { $0.fleetCAs = [] }?.message.contains("--insecure-any-device"), true)
        XCTAssertEqual(try refused { $0.insecureAnyDevice = true }?.message.contains("contradicts"), true)
        XCTAssertEqual(try refused { $0.keyNames = [] }?.message.contains("--policy FILE"), true)
        XCTAssertEqual(try refused { $0.policy = "p.json" }?.message.contains("not both"), true)
        XCTAssertEqual(try refused { $0.fleetCAs = [] }?.kind, .usage)
    }

    func testReleaseValidityIsSecondsOrMinutesHoursDays() {
        XCTAssertEqual(ReleaseValidity(argument: "3600")?.seconds, 3600)
        XCTAssertEqual(ReleaseValidity(argument: "90m")?.seconds, 5400)
        XCTAssertEqual(ReleaseValidity(argument: "12h")?.seconds, 43200)
        XCTAssertEqual(ReleaseValidity(argument: "366d")?.seconds, 366 * 86400)
        for bad in ["", "0", "367d", "d", "1.5h", "-1", "7w", "99999999999"] { XCTAssertNil(ReleaseValidity(argument: bad), bad) }
        XCTAssertEqual(ReleaseValidity.default.seconds, 7 * 86400)
    }
}
