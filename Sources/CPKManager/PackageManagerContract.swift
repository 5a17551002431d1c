import CPKCore
import CPKFormat

/// The Confidential Package Manager contract (DESIGN.md §5), call by call.
///
/// A real Package Manager is a trusted application inside the device's TEE, reached through
/// the calls of its EDL; `PackageManagerSimulator` honours the same contract on machines
/// without one. `cpk-install` is written against this protocol only, so a real backend can be
/// added without touching the tool.
///
/// A deployment is a fixed sequence for one application id: `begin`, `initializeDecryption`,
/// any number of `addApplicationData` calls, `verify`, `end`. Nothing is installed unless the
/// AES-GCM tag, the plaintext digest and the signature all check; a deployment that does not
/// reach a successful `end` leaves no trace.
public protocol PackageManagerContract: AnyObject {
    /// Liveness; the contract version the Package Manager speaks (at least 1).
    func ping() throws -> Int

    /// True when the Package Manager implements the call named `name` (an EDL name, e.g.
    /// `verify_application_sha256_rsa_pkcs1_v15`).
    func isOperationSupported(_ name: String) throws -> Bool

    /// The size in bytes of `exportDevicePublicKey()`'s answer.
    func devicePublicKeyDataSize() throws -> Int

    /// The device's RSA public key as DER `RSAPublicKey` (PKCS#1). The key pair is made inside
    /// the Package Manager on first need; its private half never leaves.
    func exportDevicePublicKey() throws -> [UInt8]

    /// Accepts the AES-256 class key of `applicationID`, wrapped to the device public key with
    /// RSA PKCS#1 v1.5 encryption.
    func installApplicationKey(applicationID: String, wrappedKey: [UInt8]) throws

    /// Starts a deployment of `totalSize` ciphertext bytes; the data must add up to exactly that.
    func beginApplicationDeployment(applicationID: String, totalSize: UInt64) throws

    /// Sets up AES-GCM decryption with the installed class key, the nonce (`iv`) and the tag
    /// that must authenticate the ciphertext.
    func initializeDecryptionAESGCM(applicationID: String, keyBits: Int, iv: [UInt8], tag: [UInt8]) throws

    /// Passes the next piece of ciphertext, of any size.
    func addApplicationData(applicationID: String, chunk: UnsafeRawBufferPointer) throws

    /// Checks, inside the Package Manager and on the plaintext it decrypted, that the plaintext
    /// hashes to `digest` and that `signature` is an RSA PKCS#1 v1.5 signature of that SHA-256
    /// digest by `publicKey` (DER SubjectPublicKeyInfo or RSAPublicKey) of `keyBits` bits.
    /// Throws when the AES-GCM tag does not authenticate the ciphertext.
    func verifyApplicationSHA256RSAPKCS1v15(
        applicationID: String, keyBits: Int, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult

    /// Finishes the deployment: installs the application if, and only if, every check passed.
    func endApplicationDeployment(applicationID: String) throws
}

/// What `verify_application_sha256_rsa_pkcs1_v15` answers.
public struct VerificationResult: Sendable, Equatable {
    public var digestOK: Bool
    public var signatureOK: Bool

    public init(digestOK: Bool, signatureOK: Bool) {
        self.digestOK = digestOK
        self.signatureOK = signatureOK
    }
}

/// The calls of the contract by their EDL names, for `isOperationSupported`.
public enum ContractOperation: String, CaseIterable, Sendable {
    case ping
    case isOperationSupported = "is_operation_supported"
    case getDevicePublicKeyDataSize = "get_device_public_key_data_size"
    case exportDevicePublicKey = "export_device_public_key"
    case installApplicationKey = "install_application_key"
    case beginApplicationDeployment = "begin_application_deployment"
    case initializeDecryptionAESGCM = "initialize_decryption_aes_gcm"
    case addApplicationData = "add_application_data"
    case verifyApplicationSHA256RSAPKCS1v15 = "verify_application_sha256_rsa_pkcs1_v15"
    case endApplicationDeployment = "end_application_deployment"
}

/// BEYOND THE CONTRACT: what the tools need that the EDL does not offer. A real backend would
/// provide these through its own administration channel.
public protocol PackageManagerAdministration: PackageManagerContract {
    /// Tells the Package Manager what is being deployed (the EDL carries no metadata), so it
    /// can list it and refuse a rollback: a version older than the installed one of the same
    /// id is refused unless `allowDowngrade`. Call between `begin` and `end`; the check is made
    /// now (to fail before any data flows) and again when the deployment commits.
    func describeDeployment(applicationID: String, _ description: ApplicationDescription, allowDowngrade: Bool) throws

    /// Drops an unfinished deployment and everything staged for it.
    func abortApplicationDeployment(applicationID: String)

    /// The installed applications, sorted by id.
    func installedApplications() throws -> [InstalledApplication]

    /// Removes an installed application (its class key stays, for the next version).
    func removeApplication(applicationID: String) throws
}

/// DEVELOPMENT AID, SIMULATOR ONLY: a real Package Manager never lets plaintext out. Tests use
/// it to prove a round trip through the simulator.
public protocol PlaintextExportForDevelopment {
    /// Writes the plaintext of an installed application to `output`, after checking it against
    /// its stored tag and digest; returns its size.
    func exportPlaintextForDevelopment(applicationID: String, to output: OutputFile) throws -> UInt64
}

/// What a deployment installs, as the package's manifest says.
public struct ApplicationDescription: Sendable, Equatable {
    public var name: String
    public var vendor: String
    public var target: Target
    public var version: Version

    public init(name: String, vendor: String, target: Target, version: Version) {
        self.name = name
        self.vendor = vendor
        self.target = target
        self.version = version
    }
}

/// An installed application, as `list` shows it.
public struct InstalledApplication: Sendable, Equatable {
    public var id: String
    public var description: ApplicationDescription
    /// Plaintext size in bytes.
    public var size: UInt64
    /// RFC 3339 UTC.
    public var installedAt: String
    /// SHA-256 of the plaintext, as verified when it was installed.
    public var sha256: [UInt8]

    public init(id: String, description: ApplicationDescription, size: UInt64, installedAt: String, sha256: [UInt8]) {
        self.id = id
        self.description = description
        self.size = size
        self.installedAt = installedAt
        self.sha256 = sha256
    }
}
