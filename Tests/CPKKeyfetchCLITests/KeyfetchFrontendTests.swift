import CPKCLI
import CPKCore
import CPKCrypto
import CPKKeyfetchCLI
import CPKKeys
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
}
