import CPKCLI
import CPKCore
import CPKCrypto
import CPKKeys
import CPKManager
import CPKTestSupport
import XCTest

/// `cpk-install add-key` and `trust add|list|remove` against a simulator in a scratch directory.
final class KeysAndTrustFrontendTests: XCTestCase {
    var directory = ""
    var state: StateOptions!
    var quiet: MessageOptions!

    override func setUpWithError() throws {
        directory = makeTemporaryDirectory(self)
        state = try StateOptions.parse(["--state", directory + "/state"])
        _ = try state.openManager()  // a device exists: read-only commands never make one
        quiet = try MessageOptions.parse(["-q"])
    }

    private func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name))
        return directory + "/" + name
    }

    func testADocumentWrappedToThisDeviceInstallsAndItsReportNeverHoldsTheKey() throws {
        let device = try PublicKey(loading: try state.openManager().exportDevicePublicKey())
        let classKey = try SecureRandom.bytes(32)
        let document = try WrappedKey(wrapping: classKey, named: "app", to: device, padding: .pkcs1v15)
        let path = try write("app.cpkkey", document.encoded())
        var printed: [String] = []
        try KeysFrontend.addKey(input: path, id: nil, json: true, state: state, messages: quiet) { printed.append($0) }
        XCTAssertEqual(
            printed, [#"{"installed":"app","form":"document","padding":"pkcs1v15","device-key-sha256":"\#(Hex.encode(try device.fingerprint))"}"#])
        XCTAssertTrue(try state.openManager().hasClassKey(for: "app"))
        XCTAssertFalse(printed[0].contains(Base64.encode(classKey)))
    }

    func testADocumentForAnotherIdOrAnotherDeviceIsRefused() throws {
        let device = try PublicKey(loading: try state.openManager().exportDevicePublicKey())
        let forThisDevice = try write("a.cpkkey", try WrappedKey(wrapping: try SecureRandom.bytes(32), named: "app", to: device, padding: .pkcs1v15).encoded())
        XCTAssertThrowsError(try KeysFrontend.addKey(input: forThisDevice, id: "other", json: false, state: state, messages: quiet))
        let elsewhere = try RSAPrivateKey.generate(bits: 2048).publicKey
        let forAnother = try write("b.cpkkey", try WrappedKey(wrapping: try SecureRandom.bytes(32), named: "app", to: elsewhere, padding: .pkcs1v15).encoded())
        XCTAssertCPKError(.checkFailed, containing: "wrapped to another public key",
            try KeysFrontend.addKey(input: forAnother, id: nil, json: false, state: state, messages: quiet))
        XCTAssertFalse(try state.openManager().hasClassKey(for: "app"))
    }

    func testAnAnchorIsProvisionedListedAndRemoved() throws {
        var printed: [String] = []
        try TrustFrontend.list(json: false, state: state) { printed.append($0) }
        XCTAssertEqual(printed, [], "no anchors: no output at all")
        let anchor = try write("vendor.pem", Array(try RSAPrivateKey.generate(bits: 2048).publicKey.pem().utf8))
        try TrustFrontend.add(file: anchor, ids: ["app"], state: state) { printed.append($0) }
        let name = try XCTUnwrap(printed.first)
        try TrustFrontend.list(json: true, state: state) { printed.append($0) }
        guard case .array(let entries) = try JSONValue(parsing: Array(printed[1].utf8)), let entry = entries.first else {
            return XCTFail(printed[1])
        }
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(entry["name"], .string(name))
        XCTAssertEqual(entry["ids"], .array([.string("app")]))
        try TrustFrontend.remove(name: name, state: state)
        try TrustFrontend.list(json: true, state: state) { printed.append($0) }
        XCTAssertEqual(printed.last, "[]")
    }
}
