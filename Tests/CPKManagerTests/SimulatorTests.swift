import CPKCore
import CPKCrypto
import CPKFormat
import Foundation
import CPKTestSupport
import Glibc
import XCTest

@testable import CPKManager

final class SimulatorTests: XCTestCase {
    var statePath = ""
    var signer: RSAPrivateKey!

    override func setUpWithError() throws {
        statePath = makeTemporaryDirectory(self) + "/state/cpm"
        signer = try RSAPrivateKey.generate(bits: 2048)
    }

    func makeSimulator() throws -> PackageManagerSimulator { try PackageManagerSimulator(statePath: statePath) }

    func mode(_ path: String) -> mode_t {
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0, path)
        return info.st_mode & 0o777
    }

    // MARK: - state and device key

    func testStateIsPrivateAndTheDeviceKeySurvivesRestarts() throws {
        let first = try makeSimulator()
        let exported = try first.exportDevicePublicKey()
        XCTAssertEqual(try first.devicePublicKeyDataSize(), exported.count)
        XCTAssertEqual(try PublicKey(loading: exported).bits, 2048)
        XCTAssertEqual(try PublicKey(loading: exported).pkcs1DER(), exported, "DER RSAPublicKey, as the contract says")
        XCTAssertEqual(try makeSimulator().exportDevicePublicKey(), exported)
        XCTAssertEqual(access(statePath + "/storage.key", F_OK), -1, "made on first need, not before")
        try first.installClassKey(try SecureRandom.bytes(32), for: "test")
        XCTAssertEqual(mode(statePath), 0o700)
        XCTAssertEqual(mode(statePath + "/device-key.pem"), 0o600)
        XCTAssertEqual(mode(statePath + "/storage.key"), 0o600)
    }

    func testADamagedTokenConfigurationMakesTheStateUnusable() throws {
        _ = try makeSimulator()
        let configuration = statePath + "/device-key.uri"
        XCTAssertTrue(FileManager.default.createFile(atPath: configuration, contents: Data("pkcs11:colour=red\n".utf8),
                                                     attributes: [.posixPermissions: 0o600]))
        XCTAssertThrowsError(try makeSimulator().exportDevicePublicKey()) { error in
            let error = error as? CPKError
            XCTAssertEqual(error?.kind, .io)
            XCTAssertTrue(error?.message.contains("device-key.uri is damaged") == true, error?.message ?? "")
        }
        XCTAssertEqual(access(statePath + "/device-key.pem", F_OK), -1, "no key file made in its place")
    }

    func testATokenDeviceKeyIsNotNamedForAStateWithAKeyFile() throws {
        _ = try makeSimulator().exportDevicePublicKey()
        let uri = try PKCS11URI(parsing: "pkcs11:token=cpk;object=device")
        XCTAssertThrowsError(try PackageManagerSimulator(statePath: statePath, deviceKeyURI: uri)) { error in
            XCTAssertEqual((error as? CPKError)?.kind, .usage)
            XCTAssertTrue((error as? CPKError)?.message.contains("already has a device key") == true)
        }
        XCTAssertEqual(access(statePath + "/device-key.uri", F_OK), -1)
    }

    func testAStateDirectoryOthersCanReadIsRefused() throws {
        let open = makeTemporaryDirectory(self) + "/open"
        XCTAssertEqual(mkdir(open, 0o755), 0)
        chmod(open, 0o755)
        XCTAssertThrowsError(try PackageManagerSimulator(statePath: open)) { error in
            XCTAssertEqual((error as? CPKError)?.kind, .usage)
            XCTAssertTrue("\(error)".contains("chmod 700"), "\(error)")
        }
    }

    func testPingAndTheOperationsOfTheContract() throws {
        let simulator = try makeSimulator()
        XCTAssertGreaterThanOrEqual(try simulator.ping(), 1)
        for name in [
            "ping", "is_operation_supported", "get_device_public_key_data_size", "export_device_public_key",
            "install_application_key", "begin_application_deployment", "initialize_decryption_aes_gcm",
            "add_application_data", "verify_application_sha256_rsa_pkcs1_v15", "end_application_deployment",
        ] {
            XCTAssertTrue(try simulator.isOperationSupported(name), name)
        }
        XCTAssertFalse(try simulator.isOperationSupported("export_private_key"))
    }

    // MARK: - deployments

    func testRoundTripWithChunksOfAnySize() throws {
        let plaintext = try SecureRandom.bytes((3 << 20) + 17)
        let app = try SealedApplication(plaintext: plaintext, signer: signer)
        let simulator = try makeSimulator()
        try simulator.installClassKey(app.classKey, for: "test")
        let verdict = try simulator.deploy(app, id: "test", pieces: [1, 7, 4096, (1 << 20) + 3, 65537, 0])
        XCTAssertEqual(verdict, VerificationResult(digestOK: true, signatureOK: true))

        let installed = try simulator.installedApplications()
        XCTAssertEqual(installed.map(\.id), ["test"])
        XCTAssertEqual(installed.first?.size, UInt64(plaintext.count))
        XCTAssertEqual(installed.first?.sha256, app.digest)
        XCTAssertEqual(installed.first?.description, someDescription)
        XCTAssertEqual(try exportPlaintext(simulator, "test"), plaintext)
    }

    func testAnEmptyPayloadInstalls() throws {
        let app = try SealedApplication(plaintext: [], signer: signer)
        let simulator = try makeSimulator()
        try simulator.installClassKey(app.classKey, for: "empty")
        try simulator.deploy(app, id: "empty")
        XCTAssertEqual(try simulator.installedApplications().first?.size, 0)
        XCTAssertEqual(try exportPlaintext(simulator, "empty"), [])
    }

    func testStoredBytesAreNeitherThePlaintextNorTheShippedCiphertext() throws {
        let marker = Array("MARKER-the-plaintext-must-never-rest-on-disk".utf8)
        let plaintext = (0..<2000).flatMap { _ in marker }
        let app = try SealedApplication(plaintext: plaintext, signer: signer)
        let simulator = try makeSimulator()
        try simulator.installClassKey(app.classKey, for: "test")
        try simulator.deploy(app, id: "test")
        let files = try filesUnder(statePath)
        XCTAssertNotNil(files["apps/74657374.app"])
        for (name, bytes) in files {
            XCTAssertFalse(bytes.contains(bytes: marker), "the plaintext is in \(name)")
            XCTAssertFalse(bytes.contains(bytes: Array(app.ciphertext[1000..<1064])), "the shipped ciphertext is in \(name)")
            XCTAssertFalse(bytes.contains(bytes: app.classKey), "the raw class key is in \(name)")
        }
    }

    func testATamperedCiphertextFailsTheTagCheckAndLeavesNoTrace() throws {
        let app = try SealedApplication(plaintext: try SecureRandom.bytes(100_000), signer: signer)
        var tampered = app.ciphertext
        tampered[50_000] ^= 1
        let bad = SealedApplication(copying: app, ciphertext: tampered)
        let simulator = try makeSimulator()
        try simulator.installClassKey(app.classKey, for: "test")
        XCTAssertThrowsError(try simulator.deploy(bad, id: "test")) { error in
            XCTAssertEqual((error as? CPKError)?.kind, .checkFailed)
            XCTAssertTrue("\(error)".contains("Tag check FAILED"), "\(error)")
        }
        try assertNoTrace(simulator)
        try simulator.deploy(app, id: "test")  // the failed deployment is over; a good one goes through
        XCTAssertEqual(try simulator.installedApplications().count, 1)
    }

    func testADigestThatDoesNotMatchIsNotInstalled() throws {
        let app = try SealedApplication(plaintext: Array("hello".utf8), signer: signer)
        let otherDigest = try SHA256Hasher.digest(Array("other".utf8))
        let lying = SealedApplication(copying: app, digest: otherDigest, signature: try signDigest(otherDigest, with: signer))
        let simulator = try makeSimulator()
        try simulator.installClassKey(app.classKey, for: "test")
        let verdict = try simulator.deploy(lying, id: "test", end: false)
        XCTAssertEqual(verdict, VerificationResult(digestOK: false, signatureOK: true))
        XCTAssertThrowsError(try simulator.endApplicationDeployment(applicationID: "test")) { error in
            XCTAssertEqual((error as? CPKError)?.kind, .checkFailed)
        }
        try assertNoTrace(simulator)
    }

    func testASignatureByAnotherKeyIsNotInstalled() throws {
        let app = try SealedApplication(plaintext: Array("hello".utf8), signer: signer)
        let forged = SealedApplication(copying: app, signature: try signDigest(app.digest, with: try RSAPrivateKey.generate(bits: 2048)))
        let simulator = try makeSimulator()
        try simulator.installClassKey(app.classKey, for: "test")
        XCTAssertEqual(try simulator.deploy(forged, id: "test", end: false), VerificationResult(digestOK: true, signatureOK: false))
        XCTAssertThrowsError(try simulator.endApplicationDeployment(applicationID: "test"))
        try assertNoTrace(simulator)
    }

    func testWithoutTheClassKeyTheClassKeyCheckFails() throws {
        let app = try SealedApplication(plaintext: Array("hello".utf8), signer: signer)
        let simulator = try makeSimulator()
        XCTAssertThrowsError(try simulator.deploy(app, id: "test")) { error in
            XCTAssertEqual((error as? CPKError)?.kind, .checkFailed)
            XCTAssertTrue("\(error)".contains("Class key check FAILED"), "\(error)")
        }
        try assertNoTrace(simulator)
    }

    func testAWrongClassKeyFailsTheTagCheck() throws {
        let app = try SealedApplication(plaintext: Array("hello".utf8), signer: signer)
        let simulator = try makeSimulator()
        try simulator.installClassKey(try SecureRandom.bytes(32), for: "test")
        XCTAssertThrowsError(try simulator.deploy(app, id: "test")) { XCTAssertTrue("\($0)".contains("Tag check FAILED")) }
        try assertNoTrace(simulator)
    }

    /// PKCS#1 v1.5 with implicit rejection: a key wrapped to another device is not refused
    /// (that answer would be an oracle) but installs a key that opens nothing, and the same
    /// one each time.
    func testAKeyWrappedToAnotherDeviceInstallsAKeyThatOpensNothing() throws {
        let simulator = try makeSimulator()
        let device = try PublicKey(loading: try simulator.exportDevicePublicKey())
        let otherDevice = try RSAPrivateKey.generate(bits: 2048).publicKey
        let classKey = try SecureRandom.bytes(32)
        // A block for another modulus is, half the time, not below this one: that fails at once,
        // which tells the sender only what the public modulus already does. Keep one below it.
        var wrapped = try otherDevice.wrap(classKey, padding: .pkcs1v15)
        for _ in 0..<64 {
            do {
                try simulator.installApplicationKey(applicationID: "test", wrappedKey: wrapped)
                break
            } catch let error as CPKError where error.reason == .unwrapFailed {
                wrapped = try otherDevice.wrap(classKey, padding: .pkcs1v15)
            }
        }
        let installed = try simulator.classKey(for: "test")
        XCTAssertNotEqual(installed, classKey)
        try simulator.installApplicationKey(applicationID: "test", wrappedKey: wrapped)
        XCTAssertEqual(try simulator.classKey(for: "test"), installed)
        XCTAssertThrowsError(try simulator.installApplicationKey(applicationID: "test", wrappedKey: wrapped, padding: .oaepSHA256)) {
            XCTAssertEqual(($0 as? CPKError)?.reason, .unwrapFailed)
        }
        // A key of the wrong length with valid padding, wrapped to this device: the same.
        let short = try device.wrap(try SecureRandom.bytes(16), padding: .pkcs1v15)
        try simulator.installApplicationKey(applicationID: "short", wrappedKey: short)
        XCTAssertEqual(try simulator.classKey(for: "short").count, 32)
    }


    func testTheAnnouncedSizeIsEnforced() throws {
        let app = try SealedApplication(plaintext: try SecureRandom.bytes(1000), signer: signer)
        let simulator = try makeSimulator()
        try simulator.installClassKey(app.classKey, for: "test")
        try simulator.beginApplicationDeployment(applicationID: "test", totalSize: 999)
        try simulator.initializeDecryptionAESGCM(applicationID: "test", keyBits: 256, iv: app.nonce, tag: app.tag)
        XCTAssertThrowsError(try app.ciphertext.withUnsafeBytes { try simulator.addApplicationData(applicationID: "test", chunk: $0) }) {
            XCTAssertTrue("\($0)".contains("more data than the 999 bytes announced"), "\($0)")
        }
        try simulator.beginApplicationDeployment(applicationID: "test", totalSize: 1001)
        try simulator.initializeDecryptionAESGCM(applicationID: "test", keyBits: 256, iv: app.nonce, tag: app.tag)
        try app.ciphertext.withUnsafeBytes { try simulator.addApplicationData(applicationID: "test", chunk: $0) }
        XCTAssertThrowsError(try simulator.verifyApplicationSHA256RSAPKCS1v15(
            applicationID: "test", keyBits: 2048, digest: app.digest, signature: app.signature, publicKey: app.signerKeyDER))
        try assertNoTrace(simulator)
    }

    func testCallsOutOfOrderAreRefused() throws {
        let simulator = try makeSimulator()
        XCTAssertThrowsError(try [UInt8](repeating: 0, count: 4).withUnsafeBytes {
            try simulator.addApplicationData(applicationID: "test", chunk: $0)
        })
        try simulator.beginApplicationDeployment(applicationID: "test", totalSize: 4)
        XCTAssertThrowsError(try [UInt8](repeating: 0, count: 4).withUnsafeBytes {
            try simulator.addApplicationData(applicationID: "test", chunk: $0)
        }) { XCTAssertTrue("\($0)".contains("out of order"), "\($0)") }
        XCTAssertThrowsError(try simulator.endApplicationDeployment(applicationID: "test"))
        try assertNoTrace(simulator)
    }

    func testAnOlderVersionIsRefusedUnlessAllowed() throws {
        let app = try SealedApplication(plaintext: Array("v".utf8), signer: signer)
        let simulator = try makeSimulator()
        try simulator.installClassKey(app.classKey, for: "test")
        var older = someDescription
        older.version = Version(major: 1, minor: 2, revision: 0, date: "x")
        try simulator.deploy(app, id: "test")
        XCTAssertThrowsError(try simulator.deploy(app, id: "test", description: older)) { error in
            XCTAssertEqual((error as? CPKError)?.kind, .checkFailed)
            XCTAssertTrue("\(error)".contains("Version check FAILED"), "\(error)")
        }
        XCTAssertEqual(try simulator.installed("test")?.description.version.dotted, "1.3.0")
        try simulator.deploy(app, id: "test")  // the same version again is fine
        try simulator.deploy(app, id: "test", description: older, allowDowngrade: true)
        XCTAssertEqual(try simulator.installed("test")?.description.version.dotted, "1.2.0")
    }

    func testRemove() throws {
        let app = try SealedApplication(plaintext: Array("v".utf8), signer: signer)
        let simulator = try makeSimulator()
        try simulator.installClassKey(app.classKey, for: "test")
        try simulator.deploy(app, id: "test")
        try simulator.removeApplication(applicationID: "test")
        XCTAssertEqual(try simulator.installedApplications().count, 0)
        XCTAssertTrue(simulator.hasClassKey(for: "test"))
        XCTAssertThrowsError(try simulator.removeApplication(applicationID: "test"))
    }

    // MARK: - at rest

    func testAbandonedStagingFilesAreRemovedWhenTheStateIsOpened() throws {
        _ = try makeSimulator()
        let abandoned = statePath + "/staging/12345.abc.tmp"
        let held = statePath + "/staging/67890.def.tmp"
        for path in [abandoned, held] { close(open(path, O_CREAT | O_WRONLY, 0o600)) }
        let holder = open(held, O_RDONLY)
        defer { close(holder) }
        XCTAssertEqual(flock(holder, LOCK_EX), 0)  // as a live writer holds its staging file
        _ = try makeSimulator()
        XCTAssertEqual(access(abandoned, F_OK), -1, "an abandoned staging file is removed")
        XCTAssertEqual(access(held, F_OK), 0, "a staging file in use stays")
    }

    func testAClassKeyOrApplicationCopiedUnderAnotherIdDoesNotOpen() throws {
        let app = try SealedApplication(plaintext: Array("v".utf8), signer: signer)
        let simulator = try makeSimulator()
        try simulator.installClassKey(app.classKey, for: "test")
        try simulator.deploy(app, id: "test")
        let other = StateDirectory.fileName(for: "other")
        XCTAssertEqual(system("cp '\(statePath)/keys/74657374.key' '\(statePath)/keys/\(other).key'"), 0)
        XCTAssertEqual(system("cp '\(statePath)/apps/74657374.app' '\(statePath)/apps/\(other).app'"), 0)
        XCTAssertThrowsError(try simulator.classKey(for: "other")) { XCTAssertTrue("\($0)".contains("Class key check FAILED")) }
        XCTAssertThrowsError(try simulator.installed("other"))
        let report = try simulator.checkState()
        XCTAssertFalse(report.isConsistent)
        XCTAssertEqual(report.problems.count, 2, "\(report.problems)")
    }

    func testCheckStateDecryptsEverythingAndNoticesDamage() throws {
        let app = try SealedApplication(plaintext: try SecureRandom.bytes(5000), signer: signer)
        let simulator = try makeSimulator()
        try simulator.installClassKey(app.classKey, for: "test")
        try simulator.deploy(app, id: "test")
        let clean = try simulator.checkState()
        XCTAssertTrue(clean.isConsistent, "\(clean.problems)")
        XCTAssertEqual(clean.applications, ["test"])
        XCTAssertEqual(clean.classKeys, ["test"])
        let path = statePath + "/apps/74657374.app"
        let fd = open(path, O_RDWR)
        var byte: UInt8 = 0
        XCTAssertEqual(pread(fd, &byte, 1, 100), 1)
        byte ^= 1
        XCTAssertEqual(pwrite(fd, &byte, 1, 100), 1)
        close(fd)
        let damaged = try simulator.checkState()
        XCTAssertFalse(damaged.isConsistent)
        XCTAssertThrowsError(try exportPlaintext(simulator, "test"))
    }

    // MARK: - helpers

    func exportPlaintext(_ simulator: PackageManagerSimulator, _ id: String) throws -> [UInt8] {
        let path = makeTemporaryDirectory(self) + "/out"
        let output = try OutputFile(path: path, binary: true)
        defer { unlink(path) }
        _ = try simulator.exportPlaintextForDevelopment(applicationID: id, to: output)
        return try filesUnder(String(path.dropLast(4)))["out"] ?? []
    }

    /// Nothing installed, nothing staged.
    func assertNoTrace(_ simulator: PackageManagerSimulator, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try simulator.installedApplications().count, 0, file: file, line: line)
        XCTAssertEqual(try StateDirectory.entries(in: statePath + "/apps"), [], file: file, line: line)
        XCTAssertEqual(try StateDirectory.entries(in: statePath + "/staging"), [], file: file, line: line)
    }
}

extension SealedApplication {
    init(copying app: SealedApplication, ciphertext: [UInt8]? = nil, digest: [UInt8]? = nil, signature: [UInt8]? = nil) {
        self.init(
            plaintext: app.plaintext, classKey: app.classKey, nonce: app.nonce, ciphertext: ciphertext ?? app.ciphertext,
            tag: app.tag, digest: digest ?? app.digest, signature: signature ?? app.signature, signerKeyDER: app.signerKeyDER)
    }
}
