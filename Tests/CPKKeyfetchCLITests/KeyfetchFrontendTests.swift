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

    /// The fleet loop in-process: a device's report, distribute, and the device applies its document.
    func testADistributedDocumentGivesTheReportingDeviceItsKey() throws {
        try KeyfetchFrontend.provision(name: "app", store: store, force: false)
        let device = try PackageManagerSimulator(statePath: directory + "/state")
        let report = try DeviceReportBuilder.report(of: device, deviceID: "dev-01", certificate: nil)
        try Data((report.compactText + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/dev-01.json"))
        try FileManager.default.createDirectory(atPath: directory + "/desired", withIntermediateDirectories: false)
        let quiet = try MessageOptions.parse(["-q"])
        var printed: [String] = []
        try KeyfetchFrontend.distribute(
            .init(
                reports: [directory + "/dev-01.json"], fileStore: directory + "/keys.json", keyNames: ["app"], padding: .pkcs1v15,
                fleetCAs: [], outputDirectory: directory + "/desired", output: nil, json: true, messages: quiet)
        ) { printed.append($0) }
        let summary = try JSONValue(parsing: Array(try XCTUnwrap(printed.first).utf8))
        XCTAssertEqual(summary["served"], .array([.string("dev-01")]), printed[0])
        XCTAssertEqual(summary["refused"], .array([]), printed[0])

        try KeysFrontend.apply(
            document: directory + "/desired/dev-01.json", allowUnsigned: true, json: false, state: try StateOptions.parse(["--state", directory + "/state"]),
            messages: quiet)
        XCTAssertTrue(device.hasClassKey(for: "app"))
    }

    func testDistributeRefusesTwoDestinationsAndJSONOnAStandardOutputItNeeds() throws {
        let quiet = try MessageOptions.parse(["-q"])
        func distribute(directory outputDirectory: String?, output: String?, json: Bool) throws {
            try KeyfetchFrontend.distribute(
                .init(
                    reports: [], fileStore: directory + "/keys.json", keyNames: [], padding: .pkcs1v15, fleetCAs: [],
                    outputDirectory: outputDirectory, output: output, json: json, messages: quiet)
            ) { _ in }
        }
        XCTAssertCPKError(.usage, containing: "not both", try distribute(directory: directory, output: "x", json: false))
        XCTAssertCPKError(.usage, containing: "standard output free", try distribute(directory: nil, output: nil, json: true))
        XCTAssertCPKError(.usage, containing: "standard output free", try distribute(directory: nil, output: "-", json: true))
    }
}
