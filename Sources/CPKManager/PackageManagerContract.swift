import CPKCore
import CPKCrypto
import CPKFormat
import CPKPackage

/// The Confidential Package Manager contract (cpk-install(1), DESCRIPTION), call by call.
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

    /// The same check for an RSA-PSS signature (SHA-256, MGF1-SHA-256, salt of digest length).
    func verifyApplicationSHA256RSAPSS(
        applicationID: String, keyBits: Int, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult

    /// The same check for an ECDSA P-256 signature (raw r‖s) of the SHA-256 digest.
    func verifyApplicationSHA256ECDSAP256(
        applicationID: String, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult

    /// The same check for an ECDSA P-384 signature (raw r‖s, SHA-384 over the 32 digest bytes).
    func verifyApplicationSHA256ECDSAP384(
        applicationID: String, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult

    /// The same check for an Ed25519 signature of the 32 digest bytes.
    func verifyApplicationSHA256Ed25519(
        applicationID: String, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
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
    case verifyApplicationSHA256RSAPSS = "verify_application_sha256_rsa_pss"
    case verifyApplicationSHA256ECDSAP256 = "verify_application_sha256_ecdsa_p256"
    case verifyApplicationSHA256ECDSAP384 = "verify_application_sha256_ecdsa_p384"
    case verifyApplicationSHA256Ed25519 = "verify_application_sha256_ed25519"
    case endApplicationDeployment = "end_application_deployment"
    /// This suite's extension: install_application_key for a key wrapped with RSA-OAEP-SHA256
    /// (docs/keys.md §4.4), as `cpk-keyfetch distribute` wraps by default.
    case installApplicationKeyRSAOAEPSHA256 = "install_application_key_rsa_oaep_sha256"
    /// This suite's extension: whether the installed class key has a given key check value
    /// (docs/format.md §4.1), asked only after a tag check failed, to tell a stale key from an
    /// altered package.
    case checkApplicationKey = "check_application_key"

    /// The calls of the reference Package Manager (cpk-install(1)): PKCS#1 v1.5 signatures and
    /// PKCS#1 v1.5 wrapped keys only.
    public static let reference: [ContractOperation] = allCases.filter {
        ($0.verifiedScheme.map { $0 == .rsaPKCS1v15 } ?? true) && !$0.isExtension
    }

    /// A call beyond the EDL's, which a Package Manager may lack (`is_operation_supported`
    /// says); an install never needs one.
    public var isExtension: Bool { self == .installApplicationKeyRSAOAEPSHA256 || self == .checkApplicationKey }

    /// The call that verifies a payload signature of `scheme`.
    public static func verification(of scheme: SignatureScheme) -> ContractOperation {
        switch scheme {
        case .rsaPKCS1v15: return .verifyApplicationSHA256RSAPKCS1v15
        case .rsaPSS: return .verifyApplicationSHA256RSAPSS
        case .ecdsaP256: return .verifyApplicationSHA256ECDSAP256
        case .ecdsaP384: return .verifyApplicationSHA256ECDSAP384
        case .ed25519: return .verifyApplicationSHA256Ed25519
        }
    }

    /// The scheme a verification call checks; nil for the other calls.
    public var verifiedScheme: SignatureScheme? {
        SignatureScheme.allCases.first { Self.verification(of: $0) == self }
    }
}

extension PackageManagerContract {
    /// Calls the verification of `scheme`; `keyBits` is passed to the RSA calls.
    public func verifyApplication(
        applicationID: String, scheme: SignatureScheme, keyBits: Int, digest: [UInt8], signature: [UInt8], publicKey: [UInt8]
    ) throws -> VerificationResult {
        switch scheme {
        case .rsaPKCS1v15:
            return try verifyApplicationSHA256RSAPKCS1v15(
                applicationID: applicationID, keyBits: keyBits, digest: digest, signature: signature, publicKey: publicKey)
        case .rsaPSS:
            return try verifyApplicationSHA256RSAPSS(
                applicationID: applicationID, keyBits: keyBits, digest: digest, signature: signature, publicKey: publicKey)
        case .ecdsaP256:
            return try verifyApplicationSHA256ECDSAP256(applicationID: applicationID, digest: digest, signature: signature, publicKey: publicKey)
        case .ecdsaP384:
            return try verifyApplicationSHA256ECDSAP384(applicationID: applicationID, digest: digest, signature: signature, publicKey: publicKey)
        case .ed25519:
            return try verifyApplicationSHA256Ed25519(applicationID: applicationID, digest: digest, signature: signature, publicKey: publicKey)
        }
    }
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

    /// The installed application `applicationID`, or nil (also when its record cannot be read,
    /// as `installedApplications` leaves such a record out).
    func installedApplication(applicationID: String) throws -> InstalledApplication?

    /// Removes an installed application (its class key stays, for the next version).
    func removeApplication(applicationID: String) throws

    /// The installed application, else what its removal kept of it (the signer and the
    /// authenticated rollback floor), else nil: what an install is held to.
    func applicationHistory(applicationID: String) throws -> InstalledApplication?
}

extension PackageManagerAdministration {
    /// A backend that can only list finds one application by listing them all.
    public func installedApplication(applicationID: String) throws -> InstalledApplication? {
        try installedApplications().first { $0.id == applicationID }
    }

    /// A backend that keeps nothing of a removed application.
    public func applicationHistory(applicationID: String) throws -> InstalledApplication? {
        try installedApplication(applicationID: applicationID)
    }
}

/// A Package Manager that installs class keys wrapped with a padding other than the
/// contract's PKCS#1 v1.5, when `is_operation_supported` says so.
/// `check_application_key`, this suite's extension (`is_operation_supported` says whether a
/// Package Manager has it).
public protocol ApplicationKeyCheck {
    /// True when the class key installed for `applicationID` has the key check value
    /// `keyCheckValue` (docs/format.md §4.1); false when it has another one or none is installed.
    func applicationKeyMatches(applicationID: String, keyCheckValue: [UInt8]) throws -> Bool
}

public protocol PaddedKeyInstallation {
    func installApplicationKey(applicationID: String, wrappedKey: [UInt8], padding: KeyWrapPadding) throws
    /// The application ids with an installed class key, and when each was installed (RFC 3339).
    func installedClassKeys() throws -> [(id: String, installedAt: String)]
}

/// DEVELOPMENT AID, SIMULATOR ONLY: a real Package Manager never lets plaintext out. Tests use
/// it to prove a round trip through the simulator.
public protocol PlaintextExportForDevelopment {
    /// Writes the plaintext of an installed application to `output`, after checking it against
    /// its stored tag and digest; returns its size.
    func exportPlaintextForDevelopment(applicationID: String, to output: OutputFile) throws -> UInt64
}

/// What a deployment installs, as the package's manifest says, and how far that is to be believed.
public struct ApplicationDescription: Sendable, Equatable {
    public var name: String
    public var vendor: String
    public var target: Target
    public var version: Version
    public var provenance: Provenance

    public init(name: String, vendor: String, target: Target, version: Version, provenance: Provenance = .development) {
        self.name = name
        self.vendor = vendor
        self.target = target
        self.version = version
        self.provenance = provenance
    }
}

/// Who vouched for a deployment, as the host side's trust policy decided.
public struct Provenance: Sendable, Equatable {
    /// The authenticated signer's identity (`SignerIdentity.text`); nil when nothing was
    /// authenticated (a device in development mode).
    public var signer: String?
    /// True when a trusted signature covers the manifest, so its version and names are its signer's.
    public var manifestAuthenticated: Bool
    /// True when the version may raise the anti-rollback floor: it is authenticated, or the
    /// device has no trust policy (development mode, where the floor is a safety net only).
    public var setsRollbackFloor: Bool

    /// What signer continuity compares (the anchor and names, or the pinned key); nil in
    /// development mode, and without its authority for records written before issue 24.
    public var signerIdentity: SignerContinuity?

    public init(signer: String?, manifestAuthenticated: Bool, setsRollbackFloor: Bool, signerIdentity: SignerContinuity? = nil) {
        self.signer = signer
        self.manifestAuthenticated = manifestAuthenticated
        self.setsRollbackFloor = setsRollbackFloor
        self.signerIdentity = signerIdentity ?? signer.map { SignerContinuity(text: $0, authority: nil) }
    }

    /// The continuity identity to compare an upgrade's signer with (the text alone for an
    /// earlier record); nil when nothing was authenticated.
    public var recordedSignerIdentity: SignerContinuity? {
        signerIdentity ?? signer.map { SignerContinuity(text: $0, authority: nil) }
    }

    /// A device without a trust policy: nothing authenticated, the version is the floor.
    public static let development = Provenance(signer: nil, manifestAuthenticated: false, setsRollbackFloor: true)

    /// True when the deployment was judged by a trust policy: only then is a signer
    /// authenticated, so a recorded signer is the mark of one.
    public var underTrustPolicy: Bool { signer != nil }
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
    /// Anti-rollback: no version older than this installs without an explicit downgrade. It
    /// moves only with a version that `Provenance.setsRollbackFloor`, development-mode
    /// versions included; it binds in development mode only.
    public var rollbackFloor: Version
    /// The floor the last authenticated manifest set (docs/format.md §8.3, rule 7); nil when no
    /// authenticated manifest ever set one. The only floor that binds under a trust policy: a
    /// version that nobody authenticated (installed in development mode) must not lock out the
    /// genuine next version once the device trusts its signer.
    public var authenticatedFloor: Version?

    public init(
        id: String, description: ApplicationDescription, size: UInt64, installedAt: String, sha256: [UInt8],
        rollbackFloor: Version? = nil, authenticatedFloor: Version? = nil
    ) {
        self.id = id
        self.description = description
        self.size = size
        self.installedAt = installedAt
        self.sha256 = sha256
        self.rollbackFloor = rollbackFloor ?? description.version
        self.authenticatedFloor = authenticatedFloor
    }

    /// The floor a new version is held to: the authenticated floor under a trust policy, the
    /// development floor without one.
    public func bindingFloor(underTrustPolicy: Bool) -> Version? {
        underTrustPolicy ? authenticatedFloor : rollbackFloor
    }

    /// The development floor when a trust policy sets it aside (it is above the authenticated
    /// floor, so an unauthenticated version raised it); nil when it binds or agrees.
    public var unauthenticatedFloor: Version? {
        rollbackFloor > (authenticatedFloor ?? RollbackPolicy.noFloor) ? rollbackFloor : nil
    }
}
