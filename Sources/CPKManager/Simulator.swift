#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKFormat

/// The Package Manager simulator: the contract of cpk-install(1) (DESCRIPTION) over a private state directory
/// (see `StateDirectory`), for machines without a TEE.
///
/// Deployments live in this object (as a real one lives in the trusted application's session),
/// and are staged in the state directory; several processes may use one state at once.
public final class PackageManagerSimulator: PackageManagerAdministration, PlaintextExportForDevelopment, PaddedKeyInstallation,
    ApplicationKeyCheck
{
    public static let contractVersion = 1

    public let state: StateDirectory
    private let lock: StateLock
    private let secrets: DeviceSecrets
    private let vault: ClassKeyVault
    private var deployments: [String: Deployment] = [:]

    /// Opens (and if need be creates) the state at `path`, removing what killed processes
    /// left in its staging area.
    /// The calls this simulator answers: every one, or only the reference Package Manager's.
    public let operations: [ContractOperation]

    /// Which Package Manager the simulator poses as.
    public enum Profile: String, Sendable, CaseIterable {
        /// Every call of the contract, a verification call for each signature scheme.
        case full
        /// The reference Package Manager: RSA PKCS#1 v1.5 signatures only.
        case reference
    }

    /// `token` reaches a device key held in a PKCS#11 token (module, PIN); `deviceKeyURI`, when
    /// given, names that key in the state's configuration (a new state only), and `deviceKey`
    /// names a token's or a TPM's key the same way.
    public init(
        statePath: String, profile: Profile = .full, token: TokenAccess = TokenAccess(), deviceKeyURI: PKCS11URI? = nil,
        deviceKey: DeviceKeyReference? = nil
    ) throws {
        operations = profile == .full ? ContractOperation.allCases : ContractOperation.reference
        state = try StateDirectory(path: statePath)
        lock = try StateLock(path: state.lockPath)
        secrets = DeviceSecrets(state: state, lock: lock, token: token)
        vault = ClassKeyVault(state: state, lock: lock, secrets: secrets)
        try lock.withLock(exclusive: true) { try StagingFile.removeAbandoned(in: state) }
        if let reference = deviceKey ?? deviceKeyURI.map({ .pkcs11($0) }) { try secrets.useDeviceKey(reference) }
    }

    /// Where the state's device key pair lives when not in a file: a token's or a TPM's key.
    public func deviceKeyReference() throws -> DeviceKeyReference? { try secrets.deviceKeyReference() }

    // MARK: - The contract

    public func ping() throws -> Int { Self.contractVersion }

    public func isOperationSupported(_ name: String) throws -> Bool {
        guard let operation = ContractOperation(rawValue: name) else { return false }
        return operations.contains(operation)
    }

    public func devicePublicKeyDataSize() throws -> Int { try exportDevicePublicKey().count }

    public func exportDevicePublicKey() throws -> [UInt8] {
        try secrets.deviceKey.publicKey.pkcs1DER()
    }

    public func installApplicationKey(applicationID: String, wrappedKey: [UInt8]) throws {
        try Self.checkID(applicationID)
        try vault.install(applicationID: applicationID, wrappedKey: wrappedKey)
    }

    public func installApplicationKey(applicationID: String, wrappedKey: [UInt8], padding: KeyWrapPadding) throws {
        try Self.checkID(applicationID)
        if padding == .oaepSHA256 && !operations.contains(.installApplicationKeyRSAOAEPSHA256) {
            throw CPKError.check(
                "this Package Manager takes class keys wrapped with RSA PKCS#1 v1.5 only, not \(padding.algorithmName); "
                    + "distribute them with pkcs1v15 padding")
        }
        try vault.install(applicationID: applicationID, wrappedKey: wrappedKey, padding: padding)
    }

    public func applicationKeyMatches(applicationID: String, keyCheckValue: [UInt8]) throws -> Bool {
        try Self.checkID(applicationID)
        guard operations.contains(.checkApplicationKey) else {
            throw CPKError.usage("this Package Manager does not support \(ContractOperation.checkApplicationKey.rawValue)")
        }
        guard var key = try? vault.key(for: applicationID) else { return false }
        defer { wipe(&key) }
        return try KeyCheckValue.matches(keyCheckValue, key: key)
    }

    public func installedClassKeys() throws -> [(id: String, installedAt: String)] { try vault.installed() }

    public func beginApplicationDeployment(applicationID: String, totalSize: UInt64) throws {
        try Self.checkID(applicationID)
        guard deployments[applicationID] == nil else {
            throw CPKError.usage("a deployment of \"\(applicationID)\" is already under way in this session")
        }
        let storageKey = try secrets.storageKey
        let staging = try lock.withLock(exclusive: false) {
            try StagingFile(in: state, purpose: "the deployment of \(applicationID)")
        }
        deployments[applicationID] = try Deployment(
            id: applicationID, totalSize: totalSize, staging: staging, storageKey: storageKey)
    }

    public func initializeDecryptionAESGCM(applicationID: String, keyBits: Int, iv: [UInt8], tag: [UInt8]) throws {
        let deployment = try deployment(applicationID)
        var classKey = try failing(applicationID) { try vault.key(for: applicationID) }
        defer { wipe(&classKey) }
        try failing(applicationID) { try deployment.initializeDecryption(classKey: classKey, keyBits: keyBits, iv: iv, tag: tag) }
    }

    public func addApplicationData(applicationID: String, chunk: UnsafeRawBufferPointer) throws {
        let deployment = try deployment(applicationID)
        try failing(applicationID) { try deployment.add(chunk) }
    }

    public func verifyApplicationSHA256RSAPKCS1v15(
        applicationID: String, keyBits: Int, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult {
        try verify(applicationID, .rsaPKCS1v15, keyBits: keyBits, digest: digest, signature: signature, publicKey: publicKey)
    }

    public func verifyApplicationSHA256RSAPSS(
        applicationID: String, keyBits: Int, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult {
        try verify(applicationID, .rsaPSS, keyBits: keyBits, digest: digest, signature: signature, publicKey: publicKey)
    }

    public func verifyApplicationSHA256ECDSAP256(
        applicationID: String, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult {
        try verify(applicationID, .ecdsaP256, keyBits: nil, digest: digest, signature: signature, publicKey: publicKey)
    }

    public func verifyApplicationSHA256ECDSAP384(
        applicationID: String, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult {
        try verify(applicationID, .ecdsaP384, keyBits: nil, digest: digest, signature: signature, publicKey: publicKey)
    }

    public func verifyApplicationSHA256Ed25519(
        applicationID: String, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult {
        try verify(applicationID, .ed25519, keyBits: nil, digest: digest, signature: signature, publicKey: publicKey)
    }

    /// Every verification call: the tag and the plaintext digest, then the signature of that
    /// digest, all inside the Package Manager.
    private func verify(
        _ applicationID: String, _ scheme: SignatureScheme, keyBits: Int?, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult {
        let call = ContractOperation.verification(of: scheme)
        guard operations.contains(call) else {
            throw CPKError.usage("this Package Manager does not implement \(call.rawValue)")
        }
        let deployment = try deployment(applicationID)
        let actual = try failing(applicationID) { try deployment.finishDecryption(call: call.rawValue) }
        let digestOK = actual == digest
        let signatureOK = try failing(applicationID) {
            try SignatureCheck.verify(digest: digest, signature: signature, publicKeyDER: publicKey, scheme: scheme, keyBits: keyBits)
        }
        deployment.record(verified: digestOK && signatureOK)
        return VerificationResult(digestOK: digestOK, signatureOK: signatureOK)
    }

    public func endApplicationDeployment(applicationID: String) throws {
        let deployment = try deployment(applicationID)
        deployments[applicationID] = nil  // whatever happens now, the deployment is over
        _ = try deployment.commit(
            storageKey: try secrets.storageKey, installedAt: Timestamp.format(secondsSinceEpoch: Int(time(nil))),
            destination: state.applicationPath(for: applicationID), lock: lock,
            installedRecord: { try self.lastKnown(applicationID) }, supersedes: state.historyPath(for: applicationID))
    }

    // MARK: - Beyond the contract

    public func describeDeployment(applicationID: String, _ description: ApplicationDescription, allowDowngrade: Bool) throws {
        let deployment = try deployment(applicationID)
        try failing(applicationID) {
            try RollbackPolicy.check(
                id: applicationID, new: description.version,
                installed: try lastKnown(applicationID)?.bindingFloor(underTrustPolicy: description.provenance.underTrustPolicy),
                allowDowngrade: allowDowngrade)
        }
        deployment.description = description
        deployment.allowDowngrade = allowDowngrade
    }

    public func abortApplicationDeployment(applicationID: String) {
        deployments[applicationID] = nil  // the staging file goes with it
    }

    public func installedApplications() throws -> [InstalledApplication] {
        try applicationListing().applications
    }

    /// The installed applications, and apart from them those whose record cannot be read
    /// (damaged, a FIFO or symlink in apps/, another user's file): one bad record affects only
    /// its own id.
    public func applicationListing() throws -> ApplicationListing {
        let storageKey = try secrets.storageKey
        var listing = ApplicationListing()
        for name in try state.entries(of: StateDirectory.apps) {
            guard let id = StateDirectory.id(fromFileName: name, suffix: ".app") else { continue }
            do {
                if let opened = try ApplicationFile.open(state.applicationPath(for: id), id: id, storageKey: storageKey) {
                    listing.applications.append(opened.record.application)
                }
            } catch let error as CPKError {
                listing.damaged.append(DamagedApplication(id: id, problem: error))
            }
        }
        listing.applications.sort { $0.id < $1.id }
        return listing
    }

    public func removeApplication(applicationID: String) throws {
        _ = try removeApplication(applicationID: applicationID, forgetHistory: false)
    }

    /// Removes an installed application. What a trust policy decided about it (its
    /// authenticated rollback floor and its signer) outlives the removal, in apps/<hex id>.history,
    /// so that removing then installing allows no downgrade or change of signer that an upgrade
    /// would not; `forgetHistory` forgets that too (and works when only the history is left).
    /// Returns what was kept, if anything, and whether a history was forgotten.
    public func removeApplication(applicationID: String, forgetHistory: Bool) throws -> Removal {
        let storageKey = try secrets.storageKey
        return try lock.withLock(exclusive: true) {
            let path = state.applicationPath(for: applicationID)
            let historyPath = state.historyPath(for: applicationID)
            var removal = Removal()
            // A damaged record is removed all the same; it has no history to keep.
            let record = try? ApplicationFile.open(path, id: applicationID, storageKey: storageKey)?.record.application
            if !forgetHistory, let record, let history = ApplicationFile.history(of: record) {
                // Written before the record goes: a crash in between leaves both, never neither.
                try ApplicationFile.writeHistory(history, storageKey: storageKey, to: historyPath)
                removal.kept = history
            }
            var removed = unlink(path) == 0
            guard removed || errno == ENOENT else { throw FileDescriptor.systemError("cannot remove \(path)") }
            if forgetHistory {
                // The record carried a floor or signer that would have been kept: forgotten now.
                removal.forgotHistory = removed && record.flatMap(ApplicationFile.history(of:)) != nil
                if unlink(historyPath) == 0 {
                    removal.forgotHistory = true
                    removed = true
                } else if errno != ENOENT {
                    throw FileDescriptor.systemError("cannot remove \(historyPath)")
                }
            }
            guard removed else { throw CPKError.usage("\"\(applicationID)\" is not installed") }
            StateDirectory.syncDirectory(state.path + "/" + StateDirectory.apps)
            return removal
        }
    }

    /// The installed application `id`, else what its removal kept (`removeApplication`), else nil:
    /// the version and signer an install of `id` is held to.
    public func applicationHistory(applicationID: String) throws -> InstalledApplication? {
        let storageKey = try secrets.storageKey
        if let installed = try installedApplication(applicationID: applicationID) { return installed }
        return try ApplicationFile.openHistory(state.historyPath(for: applicationID), id: applicationID, storageKey: storageKey)
    }

    /// Opens only that application's record, not every one (one install asks this).
    public func installedApplication(applicationID: String) throws -> InstalledApplication? {
        let storageKey = try secrets.storageKey
        do {
            return try ApplicationFile.open(state.applicationPath(for: applicationID), id: applicationID, storageKey: storageKey)?
                .record.application
        } catch is CPKError {
            return nil  // as the listing does: a damaged record affects only its own id
        }
    }

    /// The installed application `id`, or nil.
    public func installed(_ id: String) throws -> InstalledApplication? {
        try ApplicationFile.open(state.applicationPath(for: id), id: id, storageKey: try secrets.storageKey)?.record.application
    }

    /// The installed application `id`, else what its removal kept; a damaged record throws (an
    /// install must not pass a floor it cannot read).
    func lastKnown(_ id: String) throws -> InstalledApplication? {
        let storageKey = try secrets.storageKey
        if let installed = try ApplicationFile.open(state.applicationPath(for: id), id: id, storageKey: storageKey) {
            return installed.record.application
        }
        return try ApplicationFile.openHistory(state.historyPath(for: id), id: id, storageKey: storageKey)
    }

    /// True when a class key is installed for `id`.
    public func hasClassKey(for id: String) -> Bool { vault.isInstalled(id) }

    // MARK: - Development aid (simulator only)

    public func exportPlaintextForDevelopment(applicationID: String, to output: OutputFile) throws -> UInt64 {
        let storageKey = try secrets.storageKey
        guard let opened = try ApplicationFile.open(state.applicationPath(for: applicationID), id: applicationID, storageKey: storageKey)
        else { throw CPKError.usage("\"\(applicationID)\" is not installed") }
        return try StoredPayload(opened: opened, storageKey: storageKey).release(to: output)
    }

    // MARK: - Helpers

    func secretsStorageKey() throws -> [UInt8] { try secrets.storageKey }

    func classKey(for id: String) throws -> [UInt8] { try vault.key(for: id) }
    func classKeyID(ofFile name: String) throws -> String? { try vault.id(ofFile: name) }

    private func deployment(_ id: String) throws -> Deployment {
        guard let deployment = deployments[id] else {
            throw CPKError.usage("no deployment of \"\(id)\" was begun in this session")
        }
        return deployment
    }

    /// Runs one step of a deployment; if it throws, the deployment is dropped with its staging
    /// file, so nothing of a failed install survives.
    private func failing<T>(_ id: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            deployments[id] = nil
            throw error
        }
    }

    static func checkID(_ id: String) throws {
        guard !id.isEmpty, id.utf8.count <= 512,
            !id.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { throw CPKError.invalid("an application id must be 1 to 512 bytes without control characters") }
    }
}

/// What `removeApplication(applicationID:forgetHistory:)` did beside removing.
public struct Removal: Sendable {
    /// What outlives the removal: the authenticated floor and the signer.
    public var kept: InstalledApplication?
    /// True when a kept history was forgotten.
    public var forgotHistory = false
}

/// What `applicationListing()` finds in apps/.
public struct ApplicationListing: Sendable {
    public var applications: [InstalledApplication] = []
    public var damaged: [DamagedApplication] = []
}

/// An application record that cannot be read, and why (one line naming the file and the repair).
public struct DamagedApplication: Sendable {
    public let id: String
    public let problem: CPKError
}
