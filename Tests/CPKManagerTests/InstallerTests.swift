import CPKCore
import CPKCrypto
import CPKFormat
import CPKPackage
import CPKTestSupport
import Glibc
import XCTest

@testable import CPKManager

final class InstallerTests: XCTestCase {
    var directory = ""
    var signer: RSAPrivateKey!
    var simulator: PackageManagerSimulator!

    override func setUpWithError() throws {
        directory = makeTemporaryDirectory(self)
        signer = try RSAPrivateKey.generate(bits: 2048)
        simulator = try PackageManagerSimulator(statePath: directory + "/state")
    }

    func testAReferencePackageInstallsAndEveryCheckPasses() throws {
        let app = try SealedApplication(plaintext: try SecureRandom.bytes(300_000), signer: signer)
        try simulator.installClassKey(app.classKey, for: "test")
        let report = PackageInstaller(manager: simulator, options: InstallOptions()).install(try openPackage(writePackage(app)))
        XCTAssertNil(report.failure)
        XCTAssertTrue(report.installed)
        XCTAssertNil(report.payloadSigner)
        XCTAssertTrue(report.developmentMode)
        for check in InstallCheck.allCases where ![.signer, .manifest, .package].contains(check) {
            XCTAssertEqual(report.outcome(check), .passed, "\(check)")
        }
        XCTAssertEqual(report.outcome(.signer), .notAuthenticated)
        XCTAssertEqual(report.outcome(.package), .absent)
        for line in ["Digest check PASSED", "Signature check PASSED", "Tag check PASSED", "Name:      Demo", "NOT AUTHENTICATED"] {
            XCTAssertTrue(report.text.contains(line), line)
        }
        XCTAssertEqual(report.json["checks"]?["digest"], .string("passed"))
        XCTAssertEqual(try simulator.installed("test")?.sha256, app.digest)
    }

    func testTheInstallerDrivesTheContractInOrder() throws {
        let app = try SealedApplication(plaintext: try SecureRandom.bytes((2 << 20) + 5), signer: signer)
        try simulator.installClassKey(app.classKey, for: "test")
        let recorder = RecordingManager(simulator)
        let report = PackageInstaller(manager: recorder, options: InstallOptions()).install(try openPackage(writePackage(app)))
        XCTAssertNil(report.failure)
        let calls = recorder.calls.filter { $0 != "is_operation_supported" && $0 != "add_application_data" }
        XCTAssertEqual(calls, [
            "ping", "begin_application_deployment", "describe", "initialize_decryption_aes_gcm",
            "verify_application_sha256_rsa_pkcs1_v15", "end_application_deployment",
        ])
        XCTAssertEqual(recorder.calls.filter { $0 == "add_application_data" }.count, 3, "1 MiB chunks")
    }

    func testATrustedKeyAuthenticatesTheSignerAndAnUntrustedOneStopsBeforeAnyData() throws {
        let app = try SealedApplication(plaintext: Array("hello".utf8), signer: signer)
        try simulator.installClassKey(app.classKey, for: "test")
        var trusted = TrustPolicy(time: Int(time(nil)))
        trusted.pinnedKeys = [.init(try VerifyingKey(loading: Array(try signer.publicKey.pem().utf8)))]
        var options = InstallOptions(trust: trusted)
        let refused = PackageInstaller(manager: simulator, options: options).install(try openPackage(writePackage(app)))
        XCTAssertEqual(refused.outcome(.signer), .passed)
        XCTAssertEqual(refused.outcome(.manifest), .failed, "a payload signature alone does not cover the manifest")
        XCTAssertTrue("\(refused.failure!)".contains("Manifest check FAILED"))
        XCTAssertEqual(try simulator.installedApplications().count, 0)
        options.acceptUnauthenticatedManifest = true
        let good = PackageInstaller(manager: simulator, options: options).install(try openPackage(writePackage(app)))
        XCTAssertEqual(good.outcome(.signer), .passed)
        XCTAssertEqual(good.outcome(.manifest), .acceptedUnauthenticated)
        guard case .pinnedKey = good.payloadSigner?.basis else { return XCTFail("\(String(describing: good.payloadSigner))") }
        XCTAssertEqual(try simulator.installed("test")?.rollbackFloor, RollbackPolicy.noFloor, "an unauthenticated version sets no floor")

        try simulator.removeApplication(applicationID: "test")
        var other = TrustPolicy(time: Int(time(nil)))
        other.pinnedKeys = [.init(try VerifyingKey(loading: Array(try RSAPrivateKey.generate(bits: 2048).publicKey.pem().utf8)))]
        let recorder = RecordingManager(simulator)
        let bad = PackageInstaller(manager: recorder, options: InstallOptions(trust: other)).install(try openPackage(writePackage(app)))
        XCTAssertFalse(bad.installed)
        XCTAssertEqual(bad.outcome(.signer), .failed)
        XCTAssertEqual((bad.failure as? CPKError)?.kind, .checkFailed)
        XCTAssertTrue("\(bad.failure!)".contains("Signer check FAILED"))
        XCTAssertEqual(recorder.calls, [], "no call reaches the Package Manager for an untrusted signer")
        XCTAssertEqual(try simulator.installedApplications().count, 0)
    }

    func testATamperedTagIsNamedAndNothingIsInstalled() throws {
        let app = try SealedApplication(plaintext: try SecureRandom.bytes(10_000), signer: signer)
        try simulator.installClassKey(app.classKey, for: "test")
        var tag = app.tag
        tag[3] ^= 0x80
        let bad = SealedApplication(copying: app)
        let report = PackageInstaller(manager: simulator, options: InstallOptions()).install(
            try openPackage(writePackage(bad, tag: tag)))
        XCTAssertFalse(report.installed)
        XCTAssertEqual(report.outcome(.tag), .failed)
        XCTAssertEqual(report.outcome(.digest), .notRun)
        XCTAssertTrue("\(report.failure!)".contains("Tag check FAILED"))
        XCTAssertTrue("\(report.failure!)".hasSuffix("nothing was installed"))
        XCTAssertTrue(report.text.contains("NOT INSTALLED"))
        // the checks after the failure share one line
        XCTAssertTrue(report.resultText.contains("Tag check FAILED\nDigest check, Signature check, Package signature check not run"),
            report.resultText)
        XCTAssertEqual(report.text, report.identityText + "\n" + report.resultText)
        XCTAssertEqual(try simulator.installedApplications().count, 0)
        XCTAssertEqual(try StateDirectory.entries(in: directory + "/state/staging"), [])
    }

    func testPackagesTheContractCannotInstallAreRefusedBeforeAnyCall() throws {
        let app = try SealedApplication(plaintext: Array("hello".utf8), signer: signer)
        for (variant, expected) in [
            (Variant.unsigned, "not signed"), (.otherKeyName, "finds class keys by application id"), (.unencrypted, "not encrypted"),
        ] {
            let recorder = RecordingManager(simulator)
            let report = PackageInstaller(manager: recorder, options: InstallOptions()).install(
                try openPackage(writePackage(app, variant: variant)))
            XCTAssertEqual((report.failure as? CPKError)?.kind, .invalidInput, "\(variant)")
            XCTAssertTrue("\(report.failure!)".contains(expected), "\(report.failure!)")
            XCTAssertEqual(recorder.calls, [])
        }
    }

    // MARK: - packages

    enum Variant { case reference, unsigned, otherKeyName, unencrypted }

    /// The reference 7-stream layout, with the signer's public key embedded as PEM.
    func writePackage(_ app: SealedApplication, tag: [UInt8]? = nil, variant: Variant = .reference) throws -> String {
        let path = directory + "/app-\(UInt32.random(in: 0...UInt32.max)).cpk"
        let version = Version(major: 1, minor: 3, revision: 0, date: "2026-11-26 08:23:15.309608734 UTC")
        var payload = PayloadSection(
            data: 0, target: Target(arch: "aarch64", os: "OP-TEE"), version: version,
            encryption: .aesGCM(keyName: variant == .otherKeyName ? "other" : "test", keyStrength: 256, nonce: 1, tag: 2),
            digest: .sha256(data: 3), signature: .rsaPKCS1v15(keyStrength: 2048, data: 4), certificate: .publicKeyPEM(data: 5))
        if variant == .unsigned { (payload.signature, payload.certificate) = (.none, .none) }
        if variant == .unencrypted { payload.encryption = .none }
        let manifest = Manifest(id: "test", name: "Demo", vendor: "Acme", payload: payload, package: PackageSection(map: Array(0...6)))
        let streams: [[UInt8]] = [
            app.ciphertext, app.nonce, tag ?? app.tag, app.digest, app.signature, Array(try signer.publicKey.pem().utf8),
            manifest.encoded,
        ]
        let output = try OutputFile(path: path, binary: true)
        let writer = try PackageWriter(
            output: output.descriptor, streamSizes: streams.map { UInt64($0.count) }, manifestIndex: 6, payloadIndex: 0)
        try app.ciphertext.withUnsafeBytes { try writer.writePayload($0) }
        try writer.finish(streams: streams)
        try output.commit()
        return path
    }
}

/// Forwards to the simulator and notes each call by its EDL name: the installer must speak
/// only the contract.
final class RecordingManager: PackageManagerAdministration {
    let backend: PackageManagerSimulator
    var calls: [String] = []

    init(_ backend: PackageManagerSimulator) { self.backend = backend }

    func ping() throws -> Int { calls.append("ping"); return try backend.ping() }
    func isOperationSupported(_ name: String) throws -> Bool {
        calls.append("is_operation_supported")
        return try backend.isOperationSupported(name)
    }
    func devicePublicKeyDataSize() throws -> Int { try backend.devicePublicKeyDataSize() }
    func exportDevicePublicKey() throws -> [UInt8] { try backend.exportDevicePublicKey() }
    func installApplicationKey(applicationID: String, wrappedKey: [UInt8]) throws {
        try backend.installApplicationKey(applicationID: applicationID, wrappedKey: wrappedKey)
    }
    func beginApplicationDeployment(applicationID: String, totalSize: UInt64) throws {
        calls.append("begin_application_deployment")
        try backend.beginApplicationDeployment(applicationID: applicationID, totalSize: totalSize)
    }
    func initializeDecryptionAESGCM(applicationID: String, keyBits: Int, iv: [UInt8], tag: [UInt8]) throws {
        calls.append("initialize_decryption_aes_gcm")
        try backend.initializeDecryptionAESGCM(applicationID: applicationID, keyBits: keyBits, iv: iv, tag: tag)
    }
    func addApplicationData(applicationID: String, chunk: UnsafeRawBufferPointer) throws {
        calls.append("add_application_data")
        try backend.addApplicationData(applicationID: applicationID, chunk: chunk)
    }
    func verifyApplicationSHA256RSAPKCS1v15(
        applicationID: String, keyBits: Int, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult {
        calls.append("verify_application_sha256_rsa_pkcs1_v15")
        return try backend.verifyApplicationSHA256RSAPKCS1v15(
            applicationID: applicationID, keyBits: keyBits, digest: digest, signature: signature, publicKey: publicKey)
    }
    func verifyApplicationSHA256RSAPSS(
        applicationID: String, keyBits: Int, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult {
        calls.append("verify_application_sha256_rsa_pss")
        return try backend.verifyApplicationSHA256RSAPSS(
            applicationID: applicationID, keyBits: keyBits, digest: digest, signature: signature, publicKey: publicKey)
    }
    func verifyApplicationSHA256ECDSAP256(applicationID: String, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]) throws
        -> VerificationResult
    {
        calls.append("verify_application_sha256_ecdsa_p256")
        return try backend.verifyApplicationSHA256ECDSAP256(applicationID: applicationID, digest: digest, signature: signature, publicKey: publicKey)
    }
    func verifyApplicationSHA256ECDSAP384(applicationID: String, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]) throws
        -> VerificationResult
    {
        calls.append("verify_application_sha256_ecdsa_p384")
        return try backend.verifyApplicationSHA256ECDSAP384(applicationID: applicationID, digest: digest, signature: signature, publicKey: publicKey)
    }
    func verifyApplicationSHA256Ed25519(applicationID: String, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]) throws
        -> VerificationResult
    {
        calls.append("verify_application_sha256_ed25519")
        return try backend.verifyApplicationSHA256Ed25519(applicationID: applicationID, digest: digest, signature: signature, publicKey: publicKey)
    }
    func endApplicationDeployment(applicationID: String) throws {
        calls.append("end_application_deployment")
        try backend.endApplicationDeployment(applicationID: applicationID)
    }
    func describeDeployment(applicationID: String, _ description: ApplicationDescription, allowDowngrade: Bool) throws {
        calls.append("describe")
        try backend.describeDeployment(applicationID: applicationID, description, allowDowngrade: allowDowngrade)
    }
    func abortApplicationDeployment(applicationID: String) { backend.abortApplicationDeployment(applicationID: applicationID) }
    func installedApplications() throws -> [InstalledApplication] { try backend.installedApplications() }
    func removeApplication(applicationID: String) throws { try backend.removeApplication(applicationID: applicationID) }
}
