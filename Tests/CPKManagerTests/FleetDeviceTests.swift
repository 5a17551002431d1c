import CPKCore
import CPKCrypto
import CPKKeys
import CPKTestSupport
import XCTest

@testable import CPKManager

/// The device side of DistributeKey: the reported document and applying a desired one.
final class FleetDeviceTests: XCTestCase {
    var statePath = ""

    override func setUpWithError() throws { statePath = makeTemporaryDirectory(self) + "/state/cpm" }

    func desired(for simulator: PackageManagerSimulator, _ keys: [(String, [UInt8])], padding: KeyWrapPadding,
                 to publicKey: PublicKey? = nil) throws -> [UInt8] {
        let device = try publicKey ?? PublicKey(loading: try simulator.exportDevicePublicKey())
        let wrapped = try keys.map { ($0.0, try device.wrap($0.1, padding: padding)) }
        let document = DesiredState(keys: wrapped, padding: padding, wrappingKeySHA256: try device.fingerprint)
        return Array(document.json(deviceID: "dev-1").compactText.utf8)
    }

    func testTheReportCarriesTheKeyAndTheInstalledClassKeysButNoValue() throws {
        let simulator = try PackageManagerSimulator(statePath: statePath)
        let key = try SecureRandom.bytes(32)
        let applied = try DesiredStateApplication.apply(
            try desired(for: simulator, [("app", key)], padding: .oaepSHA256), from: "doc", to: simulator)
        XCTAssertEqual(applied.applied, ["app"])
        let report = try DeviceReportBuilder.report(of: simulator, deviceID: "dev-1", certificate: nil)
        let parsed = try DeviceReport(parsing: Array(report.compactText.utf8))
        XCTAssertEqual(parsed.deviceID, "dev-1")
        XCTAssertEqual(try parsed.publicKey.pkcs1DER(), try simulator.exportDevicePublicKey())
        XCTAssertEqual(report["reported_properties"]?["class_keys"]?.compactText.contains("\"name\":\"app\""), true)
        XCTAssertFalse(report.compactText.contains(Base64.encode(key)))
        XCTAssertFalse(report.compactText.contains(Hex.encode(key)))
        XCTAssertCPKError(.usage, "device id", try DeviceReportBuilder.report(of: simulator, deviceID: "../x", certificate: nil))
    }

    func testEveryKeyOfTheDocumentIsAppliedOrRefusedByName() throws {
        let simulator = try PackageManagerSimulator(statePath: statePath)
        let document = Array(#"{"desired": {"confidential_package_keys": {"bad": "AAEC", "worse": 7}}}"#.utf8)
        let result = try DesiredStateApplication.apply(document, from: "doc", to: simulator)
        XCTAssertEqual(result.applied, [])
        XCTAssertEqual(result.refused.map(\.name), ["worse", "bad"])
        XCTAssertTrue(result.line.contains("refused 2"), result.line)
        let good = try desired(for: simulator, [("a", try SecureRandom.bytes(32)), ("short", [1, 2, 3])], padding: .pkcs1v15)
        let mixed = try DesiredStateApplication.apply(good, from: "doc", to: simulator)
        XCTAssertEqual(mixed.applied, ["a"])
        XCTAssertEqual(mixed.refused.map(\.name), ["short"])
        XCTAssertTrue(simulator.hasClassKey(for: "a"))
        XCTAssertFalse(simulator.hasClassKey(for: "short"))
    }

    func testADocumentForAnotherDeviceIsRefusedWhole() throws {
        let simulator = try PackageManagerSimulator(statePath: statePath)
        let other = try RSAPrivateKey.generate(bits: 2048).publicKey
        let document = try desired(for: simulator, [("a", try SecureRandom.bytes(32))], padding: .oaepSHA256, to: other)
        XCTAssertCPKError(.checkFailed, "another device", try DesiredStateApplication.apply(document, from: "doc", to: simulator))
        XCTAssertFalse(simulator.hasClassKey(for: "a"))
    }

    func testTheReferencePackageManagerTakesPKCS1v15Only() throws {
        let simulator = try PackageManagerSimulator(statePath: statePath, profile: .reference)
        XCTAssertFalse(try simulator.isOperationSupported("install_application_key_rsa_oaep_sha256"))
        let oaep = try DesiredStateApplication.apply(
            try desired(for: simulator, [("a", try SecureRandom.bytes(32))], padding: .oaepSHA256), from: "doc", to: simulator)
        XCTAssertEqual(oaep.refused.map(\.name), ["a"])
        XCTAssertTrue(oaep.refused[0].error.message.contains("PKCS#1 v1.5 only"))
        let pkcs1 = try DesiredStateApplication.apply(
            try desired(for: simulator, [("a", try SecureRandom.bytes(32))], padding: .pkcs1v15), from: "doc", to: simulator)
        XCTAssertEqual(pkcs1.applied, ["a"])
    }
}

private func XCTAssertCPKError<T>(
    _ kind: CPKError.Kind, _ text: String, _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual((error as? CPKError)?.kind, kind, "\(error)", file: file, line: line)
        XCTAssertTrue("\(error)".contains(text), "\(error)", file: file, line: line)
    }
}
