import CPKCore
import CPKCrypto
import CPKKeys
import Foundation
import CPKTestSupport
import XCTest

/// The key of the repository's test.json.
let testKeyBase64 = "suAWDWNySJO7M94wBw91NHMJyof4Q71rx6LBw6PMQfQ="

final class FileKeyStoreTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "cpk-keys-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func store(_ text: String, name: String = "store.json") throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    func testReadsTheKeyAndEveryKBSSpellingOfIt() throws {
        let path = try store(#"{"test": "\#(testKeyBase64)", "default/key/key_id1": "\#(testKeyBase64)"}"#)
        let store = try FileKeyStore(path: path)
        XCTAssertEqual(try store.key(named: "test"), Base64.decode(testKeyBase64))
        for name in ["default/key/key_id1", "kbs:///default/key/key_id1", "kbs://kbs:8080/default/key/key_id1", "/default/key/key_id1"] {
            XCTAssertEqual(try store.key(named: name), Base64.decode(testKeyBase64), name)
        }
    }

    func testBadStoresAndValuesNameTheProblemButNeverTheValue() throws {
        XCTAssertCPKError(.invalidInput, containing: "not JSON", try FileKeyStore(path: store("{test")))
        XCTAssertCPKError(.invalidInput, containing: "must be a JSON object", try FileKeyStore(path: store("[]")))
        let bad = try FileKeyStore(path: store(#"{"a": "not base64!", "b": "AAAA", "c": 7}"#))
        XCTAssertCPKError(.invalidInput, containing: "\"a\" is not valid base64", try bad.key(named: "a"))
        XCTAssertCPKError(.invalidInput, containing: "3 bytes", try bad.key(named: "b"))
        XCTAssertCPKError(.invalidInput, containing: "base64 string", try bad.key(named: "c"))
        XCTAssertCPKError(.invalidInput, containing: "no key named \"d\"", try bad.key(named: "d"))
        XCTAssertCPKError(.usage, containing: "empty", try bad.key(named: ""))
        do {
            _ = try bad.key(named: "a")
        } catch let error as CPKError {
            XCTAssertFalse(error.message.contains("not base64!"))
        }
    }

    func testProvisionKeepsOtherKeysAndMode0600() throws {
        let path = try store(#"{"zeta": "\#(testKeyBase64)", "alpha": "\#(testKeyBase64)"}"#)
        chmod(path, 0o644)
        let key = try SecureRandom.bytes(32)
        XCTAssertEqual(try FileKeyStore.provision(key, named: "kbs:///default/key/new", path: path, force: false), "default/key/new")
        let store = try FileKeyStore(path: path)
        XCTAssertEqual(store.entries.map(\.name), ["zeta", "alpha", "default/key/new"])
        XCTAssertEqual(try store.key(named: "default/key/new"), key)
        XCTAssertEqual(try store.key(named: "zeta"), Base64.decode(testKeyBase64))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["store.json"], "no temporary or lock file left")
    }

    func testProvisionRefusesToOverwriteUnlessForced() throws {
        let path = try store(#"{"test": "\#(testKeyBase64)"}"#)
        let key = try SecureRandom.bytes(32)
        XCTAssertThrowsError(try FileKeyStore.provision(key, named: "test", path: path, force: false)) { error in
            XCTAssertEqual((error as? CPKError)?.reason, .keyExists, "a typed reason, for the command line's hint")
        }
        XCTAssertEqual(try FileKeyStore(path: path).key(named: "test"), Base64.decode(testKeyBase64), "unchanged")
        try FileKeyStore.provision(key, named: "test", path: path, force: true)
        XCTAssertEqual(try FileKeyStore(path: path).key(named: "test"), key)
    }

    func testProvisionCreatesAMissingStoreButNotOverABrokenOne() throws {
        let path = directory + "/new.json"
        try FileKeyStore.provision(try SecureRandom.bytes(32), named: "app", path: path, force: false)
        XCTAssertEqual(try FileKeyStore(path: path).entries.map(\.name), ["app"])
        let broken = try store("not json", name: "broken.json")
        XCTAssertCPKError(.invalidInput, containing: "not JSON", try FileKeyStore.provision(try SecureRandom.bytes(32), named: "app", path: broken, force: true))
        XCTAssertEqual(try String(contentsOfFile: broken, encoding: .utf8), "not json")
        XCTAssertCPKError(.usage, containing: "print keys", try FileKeyStore.provision(try SecureRandom.bytes(32), named: "app", path: "-", force: false))
    }

    func testFileSourceWrapsToThePublicKey() throws {
        let path = try store(#"{"test": "\#(testKeyBase64)"}"#)
        for padding in KeyWrapPadding.allCases {
            let wrapped = try FileKeySource(path: path).wrappedKey(named: "test", to: TestKeys.pair.publicKey, padding: padding)
            XCTAssertEqual(wrapped.keyName, "test")
            XCTAssertEqual(wrapped.padding, padding)
            XCTAssertEqual(try wrapped.unwrap(with: TestKeys.pair), Base64.decode(testKeyBase64))
        }
    }
}

final class ReceivedKeySourceTests: XCTestCase {
    func wrappedBase64(_ padding: KeyWrapPadding) throws -> String {
        Base64.encode(try TestKeys.pair.publicKey.wrap(Base64.decode(testKeyBase64)!, padding: padding))
    }

    func testInlineKeysRoundTrip() throws {
        for padding in KeyWrapPadding.allCases {
            let source = InlineKeySource(base64: Array((try wrappedBase64(padding) + "\n").utf8), from: "inline")
            let wrapped = try source.wrappedKey(named: "test", to: TestKeys.pair.publicKey, padding: padding)
            XCTAssertEqual(try wrapped.unwrap(with: TestKeys.pair), Base64.decode(testKeyBase64))
        }
        let truncated = InlineKeySource(base64: Array(Base64.encode([1, 2, 3]).utf8), from: "inline")
        XCTAssertCPKError(.invalidInput, containing: "truncated", try truncated.wrappedKey(named: "t", to: TestKeys.pair.publicKey, padding: .pkcs1v15))
        let garbage = InlineKeySource(base64: Array("%%%".utf8), from: "inline")
        XCTAssertCPKError(.invalidInput, containing: "not valid base64", try garbage.wrappedKey(named: "t", to: TestKeys.pair.publicKey, padding: .pkcs1v15))
    }

    func testTwinDocumentsAtEitherPlace() throws {
        let keys = #"{"confidential_package_keys": {"test": "\#(try wrappedBase64(.pkcs1v15))"}, "$version": 3}"#
        for document in [#"{"properties": {"desired": \#(keys), "reported": {}}}"#, #"{"desired": \#(keys)}"#, keys] {
            let source = DeviceTwinKeySource(document: Array(document.utf8), from: "twin.json")
            let wrapped = try source.wrappedKey(named: "test", to: TestKeys.pair.publicKey, padding: .pkcs1v15)
            XCTAssertEqual(try wrapped.unwrap(with: TestKeys.pair), Base64.decode(testKeyBase64))
        }
    }

    func testTwinProblems() throws {
        func fetch(_ document: String, _ name: String = "test") throws -> WrappedKey {
            try DeviceTwinKeySource(document: Array(document.utf8), from: "twin.json")
                .wrappedKey(named: name, to: TestKeys.pair.publicKey, padding: .pkcs1v15)
        }
        XCTAssertCPKError(.invalidInput, containing: "not JSON", try fetch("{"))
        XCTAssertCPKError(.invalidInput, containing: "no confidential_package_keys", try fetch(#"{"properties": {}}"#))
        XCTAssertCPKError(.invalidInput, containing: "must be an object", try fetch(#"{"confidential_package_keys": []}"#))
        XCTAssertCPKError(.invalidInput, containing: "no key named", try fetch(#"{"confidential_package_keys": {}}"#))
        XCTAssertCPKError(.invalidInput, containing: "not a base64", try fetch(#"{"confidential_package_keys": {"test": 1}}"#))
    }
}
