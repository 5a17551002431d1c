#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKKeys
import CPKTestSupport
import XCTest

@testable import CPKManager

/// The device side of DistributeKey: the reported document and applying a signed key release.
final class FleetDeviceTests: XCTestCase {
    var statePath = ""
    var generation: UInt64 = 0

    override func setUpWithError() throws { statePath = makeTemporaryDirectory(self) + "/state/cpm" }

    /// A simulator provisioned with `operatorKey`'s public key as its fleet anchor, as dev-1.
    func member(_ operatorKey: SigningKey, profile: PackageManagerSimulator.Profile = .full) throws -> PackageManagerSimulator {
        let simulator = try PackageManagerSimulator(statePath: statePath, profile: profile)
        let anchor = Array(try operatorKey.verifyingKey.pem().utf8)
        try FleetMembership.provision(anchor: anchor, source: "fleet.pub", deviceID: "dev-1", in: simulator.state)
        return simulator
    }

    /// A release of `keys` wrapped to the simulator's key (or `publicKey`), signed by `operatorKey`.
    func release(
        for simulator: PackageManagerSimulator, _ keys: [(String, [UInt8])], padding: KeyWrapPadding, signedBy operatorKey: SigningKey,
        to publicKey: PublicKey? = nil, deviceID: String = "dev-1", generation explicit: UInt64? = nil, expiresIn: Int = 3600
    ) throws -> [UInt8] {
        let device = try publicKey ?? PublicKey(loading: try simulator.exportDevicePublicKey())
        let wrapped = try keys.map { ($0.0, try device.wrap($0.1, padding: padding)) }
        generation += 1
        let now = Int(time(nil))
        let release = KeyRelease(
            deviceID: deviceID, deviceKeySHA256: try device.fingerprint, generation: explicit ?? generation, issuedAt: now,
            expiresAt: now + expiresIn, padding: padding, keys: wrapped)
        return Array(try release.signedDocument(with: operatorKey, scheme: .ecdsaP256, chain: []).compactText.utf8)
    }

    func apply(_ document: [UInt8], to simulator: PackageManagerSimulator) throws -> DesiredStateApplication {
        try DesiredStateApplication.apply(document, from: "doc", to: simulator, acceptance: .signedOnly, at: Int(time(nil)))
    }

    func testTheReportCarriesTheKeyAndTheInstalledClassKeysButNoValue() throws {
        let operatorKey = try SigningKey.generate(.ecP256)
        let simulator = try member(operatorKey)
        let key = try SecureRandom.bytes(32)
        let applied = try apply(try release(for: simulator, [("app", key)], padding: .oaepSHA256, signedBy: operatorKey), to: simulator)
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

    func testEveryKeyIsAppliedOrRefusedByNameAndEveryUnwrapFailureReadsTheSame() throws {
        let operatorKey = try SigningKey.generate(.ecP256)
        let simulator = try member(operatorKey)
        var document = try release(
            for: simulator, [("a", try SecureRandom.bytes(32)), ("short", [1, 2, 3]), ("long", try SecureRandom.bytes(48))],
            padding: .oaepSHA256, signedBy: operatorKey)
        let result = try apply(document, to: simulator)
        XCTAssertEqual(result.applied, ["a"])
        XCTAssertEqual(result.refused.map(\.name), ["short", "long"])
        XCTAssertEqual(Set(result.refused.map(\.error.message)).count, 1)
        XCTAssertEqual(result.refused.first?.error.reason, .unwrapFailed)
        XCTAssertTrue(result.line.contains("refused 2"), result.line)
        XCTAssertTrue(simulator.hasClassKey(for: "a"))
        XCTAssertFalse(simulator.hasClassKey(for: "short"))
        // The same document again is a replay.
        XCTAssertCPKError(.checkFailed, "not above", try apply(document, to: simulator))
        document = try release(for: simulator, [("b", try SecureRandom.bytes(32))], padding: .oaepSHA256, signedBy: operatorKey)
        XCTAssertEqual(try apply(document, to: simulator).applied, ["b"])
    }

    func testAReleaseIsRefusedWholeUnlessSignedForThisDeviceNowAndAboveTheLastGeneration() throws {
        let operatorKey = try SigningKey.generate(.ecP256)
        let simulator = try member(operatorKey)
        let key = try SecureRandom.bytes(32)
        let other = try RSAPrivateKey.generate(bits: 2048).publicKey
        let cases: [(CPKError.Reason, [UInt8])] = [
            (.otherDeviceRelease, try release(for: simulator, [("a", key)], padding: .oaepSHA256, signedBy: operatorKey, to: other)),
            (.otherDeviceRelease, try release(for: simulator, [("a", key)], padding: .oaepSHA256, signedBy: operatorKey, deviceID: "dev-2")),
            (.untrustedRelease, try release(for: simulator, [("a", key)], padding: .oaepSHA256, signedBy: try SigningKey.generate(.ecP256))),
            (.expiredRelease, try release(for: simulator, [("a", key)], padding: .oaepSHA256, signedBy: operatorKey, expiresIn: -1)),
        ]
        for (reason, document) in cases {
            XCTAssertThrowsError(try apply(document, to: simulator)) { XCTAssertEqual(($0 as? CPKError)?.reason, reason, "\($0)") }
        }
        XCTAssertFalse(simulator.hasClassKey(for: "a"))
        // A statement changed after signing does not verify.
        let genuine = String(decoding: try release(for: simulator, [("a", key)], padding: .oaepSHA256, signedBy: operatorKey), as: UTF8.self)
        let edited = genuine.replacingOccurrences(of: "dev-1\\\",\\\"device_public_key", with: "dev-1\\\" ,\\\"device_public_key")
        XCTAssertNotEqual(edited, genuine)
        XCTAssertThrowsError(try apply(Array(edited.utf8), to: simulator)) { XCTAssertEqual(($0 as? CPKError)?.reason, .untrustedRelease) }
        XCTAssertEqual(try apply(Array(genuine.utf8), to: simulator).applied, ["a"])
    }

    func testAnUnsignedDocumentIsAppliedOnlyWhenAllowedAndThenAsTheReferenceContract() throws {
        let simulator = try PackageManagerSimulator(statePath: statePath)
        let device = try PublicKey(loading: try simulator.exportDevicePublicKey())
        let wrapped = try device.wrap(try SecureRandom.bytes(32), padding: .pkcs1v15)
        let document = Array("{\"desired\":{\"confidential_package_keys\":{\"a\":\"\(Base64.encode(wrapped))\"}}}".utf8)
        XCTAssertThrowsError(try apply(document, to: simulator)) { XCTAssertEqual(($0 as? CPKError)?.reason, .unsignedRelease) }
        let signed = try release(for: simulator, [("a", try SecureRandom.bytes(32))], padding: .oaepSHA256, signedBy: try SigningKey.generate(.ecP256))
        XCTAssertThrowsError(try apply(signed, to: simulator)) { XCTAssertEqual(($0 as? CPKError)?.reason, .noFleetAnchor) }
        let result = try DesiredStateApplication.apply(document, from: "doc", to: simulator, acceptance: .unsignedAllowed, at: 0)
        XCTAssertEqual(result.applied, ["a"])
    }

    func testTheReferencePackageManagerTakesPKCS1v15Only() throws {
        let operatorKey = try SigningKey.generate(.ecP256)
        let simulator = try member(operatorKey, profile: .reference)
        XCTAssertFalse(try simulator.isOperationSupported("install_application_key_rsa_oaep_sha256"))
        let oaep = try apply(try release(for: simulator, [("a", try SecureRandom.bytes(32))], padding: .oaepSHA256, signedBy: operatorKey), to: simulator)
        XCTAssertEqual(oaep.refused.map(\.name), ["a"])
        XCTAssertTrue(oaep.refused[0].error.message.contains("PKCS#1 v1.5 only"))
        let pkcs1 = try apply(try release(for: simulator, [("a", try SecureRandom.bytes(32))], padding: .pkcs1v15, signedBy: operatorKey), to: simulator)
        XCTAssertEqual(pkcs1.applied, ["a"])
    }

    func testPKCS1v15UnwrapRejectsImplicitlyAndDeterministically() throws {
        let key = try RSAPrivateKey.generate(bits: 2048)
        let secret = try SecureRandom.bytes(32)
        let classKey = try SecureRandom.bytes(32)
        let good = try key.publicKey.wrap(classKey, padding: .pkcs1v15)
        XCTAssertEqual(try key.unwrapPKCS1v15(good, length: 32, rejectionSecret: secret), classKey)
        let short = try key.publicKey.wrap(try SecureRandom.bytes(16), padding: .pkcs1v15)
        var broken = good
        broken[100] ^= 1
        for wrong in [short, broken] {
            let first = try key.unwrapPKCS1v15(wrong, length: 32, rejectionSecret: secret)
            XCTAssertEqual(first.count, 32)
            XCTAssertNotEqual(first, classKey)
            XCTAssertEqual(try key.unwrapPKCS1v15(wrong, length: 32, rejectionSecret: secret), first)
        }
        XCTAssertThrowsError(try key.unwrapPKCS1v15(Array(good.dropLast()), length: 32, rejectionSecret: secret)) {
            XCTAssertEqual(($0 as? CPKError)?.reason, .unwrapFailed)
        }
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
