import CPKCore
import CPKCrypto
import CPKKeys
import CPKTestSupport
import XCTest

@testable import CPKManager

/// `cpk-install add-key`, `trust list` and `check-state`: the rules and the report schemas.
final class ReportRenderingTests: XCTestCase {
    var statePath = ""
    override func setUpWithError() throws { statePath = makeTemporaryDirectory(self) + "/state/cpm" }

    func testAddKeyInstallsADocumentForThisDeviceAndReportsItWithoutTheKey() throws {
        let manager = try PackageManagerSimulator(statePath: statePath)
        let device = try PublicKey(loading: try manager.exportDevicePublicKey())
        let key = [UInt8](repeating: 0x42, count: 32)
        let document = try WrappedKey(wrapping: key, named: "app", to: device, padding: .pkcs1v15).encoded()
        let installed = try ClassKeyInstallation.install(document, id: nil, into: manager)
        XCTAssertEqual(installed.applicationID, "app")
        XCTAssertEqual(
            installed.json.compactText,
            #"{"installed":"app","form":"document","padding":"pkcs1v15","device-key-sha256":"\#(Hex.encode(try device.fingerprint))"}"#)
        XCTAssertFalse(installed.json.compactText.contains(Hex.encode(key)))
        XCTAssertEqual(try manager.checkState().classKeys, ["app"])
    }

    func testAddKeyRefusesWithTypedReasons() throws {
        let manager = try PackageManagerSimulator(statePath: statePath)
        let device = try PublicKey(loading: try manager.exportDevicePublicKey())
        let oaep = try WrappedKey(wrapping: [UInt8](repeating: 1, count: 32), named: "app", to: device, padding: .oaepSHA256).encoded()
        XCTAssertEqual(try ClassKeyInstallation.install(oaep, id: nil, into: manager).padding, .oaepSHA256)
        // The simulator posing as the reference Package Manager has no OAEP call.
        let reference = try PackageManagerSimulator(statePath: statePath, profile: .reference)
        XCTAssertThrowsError(try ClassKeyInstallation.install(oaep, id: nil, into: reference)) {
            XCTAssertEqual(($0 as? CPKError)?.reason, .devicePaddingNeeded)
        }
        let bare = try device.wrap([UInt8](repeating: 1, count: 32), padding: .pkcs1v15)
        XCTAssertThrowsError(try ClassKeyInstallation.install(bare, id: nil, into: manager)) {
            XCTAssertEqual(($0 as? CPKError)?.reason, .applicationIDNeeded)
        }
        XCTAssertEqual(try ClassKeyInstallation.install(bare, id: "raw", into: manager).form, "bare")
        let other = try RSAPrivateKey.generate(bits: 2048).publicKey
        let elsewhere = try WrappedKey(wrapping: [UInt8](repeating: 1, count: 32), named: "app", to: other, padding: .pkcs1v15).encoded()
        XCTAssertThrowsError(try ClassKeyInstallation.install(elsewhere, id: nil, into: manager)) {
            XCTAssertEqual(($0 as? CPKError)?.kind, .checkFailed)
        }
        // a document whose name is not the id given
        let named = try WrappedKey(wrapping: [UInt8](repeating: 1, count: 32), named: "app", to: device, padding: .pkcs1v15).encoded()
        XCTAssertThrowsError(try ClassKeyInstallation.install(named, id: "other", into: manager))
    }

    func testStateCheckRendering() {
        var report = StateCheckReport()
        report.applications = ["a"]
        report.classKeys = ["a", "b"]
        XCTAssertEqual(report.summaryLine, "1 applications, 2 class keys, 0 staging files in use: consistent")
        XCTAssertEqual(
            report.json.compactText,
            #"{"consistent":true,"applications":["a"],"class-keys":["a","b"],"staging-in-use":0,"problems":[]}"#)
        report.problems = ["the class key of b is damaged"]
        XCTAssertTrue(report.summaryLine.hasSuffix("NOT consistent"))
        XCTAssertTrue(report.json.compactText.hasPrefix(#"{"consistent":false"#))
    }
}
