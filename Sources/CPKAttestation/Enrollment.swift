#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto

// The cloud's side of TPM enrollment (docs/keys.md §4.6): a device sends its EK certificate, EK
// and AK; the cloud checks the EK is a genuine TPM's and the AK is an attestation key, and
// challenges with a credential only that TPM can open for that AK; the device's answer proves
// the AK lives beside the EK, and the AK is recorded as the device's.

extension CPKError.Reason {
    /// The EK certificate does not chain to a trusted manufacturer CA, or is unreadable.
    public static let tpmUntrustedEK = CPKError.Reason(rawValue: "tpm.untrusted-ek")
    /// The EK certificate certifies another key than the EK public area sent with it.
    public static let tpmEKMismatch = CPKError.Reason(rawValue: "tpm.ek-mismatch")
    /// The AK is not an attestation key this code accepts (attributes, algorithm, scheme).
    public static let tpmUnsuitableAK = CPKError.Reason(rawValue: "tpm.unsuitable-ak")
    /// No challenge is waiting for this device and AK (never made, already answered, expired).
    public static let tpmNoChallenge = CPKError.Reason(rawValue: "tpm.no-challenge")
    /// The response's secret is not the challenge's: the AK is not in the EK's TPM.
    public static let tpmWrongSecret = CPKError.Reason(rawValue: "tpm.wrong-secret")
    /// The device id is enrolled with another TPM (another EK certificate).
    public static let tpmAlreadyEnrolled = CPKError.Reason(rawValue: "tpm.already-enrolled")
    /// A registry file that is not what this code writes.
    public static let tpmRegistry = CPKError.Reason(rawValue: "tpm.registry")
}

/// A device whose AK was proven to live in its EK's TPM.
public struct EnrolledDevice: Sendable {
    public static let versionMember = "cpk_tpm_device"
    public let deviceID: String
    public let akPublic: TPMPublic
    public let akName: [UInt8]
    public let ekCertificate: [UInt8]
    /// Seconds since 1970.
    public let enrolledAt: Int

    public var json: JSONValue {
        .object([
            (Self.versionMember, .integer(1)), ("device_id", .string(deviceID)), ("ak_public", .string(Base64.encode(akPublic.encoded))),
            ("ak_name", .string(Hex.encode(akName))), ("ek_certificate", .string(Base64.encode(ekCertificate))),
            ("enrolled_at", .integer(enrolledAt)),
        ])
    }

    init(deviceID: String, akPublic: TPMPublic, ekCertificate: [UInt8], enrolledAt: Int) throws {
        (self.deviceID, self.akPublic, self.ekCertificate, self.enrolledAt) = (deviceID, akPublic, ekCertificate, enrolledAt)
        akName = try akPublic.name
    }

    init(parsing bytes: [UInt8], what: String) throws {
        let json = try TPMEnrollmentRegistry.object(bytes, what: what)
        let fields = try TPMEnrollmentRegistry.fields(
            json, what: what, required: [Self.versionMember, "device_id", "ak_public", "ak_name", "ek_certificate", "enrolled_at"])
        guard json[Self.versionMember] == .integer(1), case .number(let time)? = json["enrolled_at"], let seconds = Int(time) else {
            throw CPKError(.invalidInput, "\(what) is not a device record of this version", reason: .tpmRegistry)
        }
        try self.init(
            deviceID: try fields.deviceID("device_id"), akPublic: try fields.structure("ak_public", TPMPublic.init(parsing:)),
            ekCertificate: try fields.base64("ek_certificate", maximum: AttestationDocument.maximumCertificate), enrolledAt: seconds)
        guard try fields.name("ak_name") == akName else {
            throw CPKError(.invalidInput, "\(what): ak_name is not the Name of ak_public", reason: .tpmRegistry)
        }
    }

    /// Requires the enrolled EK certificate to chain to one of `anchors` at `time`: checked at
    /// enrollment and again whenever the enrollment is relied on (a manufacturer CA withdrawn
    /// from the trusted set withdraws its TPMs).
    public func requireTrustedEK(_ anchors: [X509Certificate], at time: Int) throws {
        try TPMEnrollmentRegistry.requireTrustedEK(
            ekCertificate, anchors: anchors, at: time, called: "the enrolled EK certificate", unreadable: .checkFailed)
    }
}

/// The enrollment registry: a directory the cloud keeps, `pending/<device-id>.json` for each
/// challenge made and `devices/<device-id>.json` for each device enrolled, every file 0600.
public struct TPMEnrollmentRegistry: Sendable {
    public let path: String
    /// How long a challenge waits for its answer.
    public static let challengeLifetime = 3600
    static let pendingVersion = "cpk_tpm_pending"
    static let fileLimit = 64 * 1024

    public init(path: String) {
        self.path = path
    }

    func pendingPath(_ id: String) -> String { "\(path)/pending/\(id).json" }
    func devicePath(_ id: String) -> String { "\(path)/devices/\(id).json" }

    /// Checks an enrollment request and makes its challenge; what the answer is checked against
    /// is kept in `pending/` (the SHA-256 of the secret, never the secret).
    public func challenge(_ request: EnrollmentRequest, ekCAs: [X509Certificate], at time: Int) throws -> EnrollmentChallenge {
        try Self.requireTrustedEK(request.ekCertificate, anchors: ekCAs, at: time)
        let certified = try PublicKey(loading: request.ekCertificate).fingerprint
        guard let ekKey = try? PublicKey(loading: request.ekPublic.subjectPublicKeyInfoDER).fingerprint, ekKey == certified else {
            throw CPKError(.checkFailed, "the EK certificate certifies another key than ek_public", reason: .tpmEKMismatch)
        }
        try Self.requireAttestationKey(request.akPublic)
        if let enrolled = try enrolled(request.deviceID), enrolled.ekCertificate != request.ekCertificate {
            throw CPKError(
                .checkFailed, "the device \(request.deviceID) is enrolled with another TPM (another EK certificate)",
                reason: .tpmAlreadyEnrolled)
        }
        let secret = try SecureRandom.bytes(32)
        let akName = try request.akPublic.name
        let credential = try TPMMakeCredential.make(secret: secret, ek: request.ekPublic, name: akName)
        let pending = JSONValue.object([
            (Self.pendingVersion, .integer(1)), ("device_id", .string(request.deviceID)),
            ("ak_public", .string(Base64.encode(request.akPublic.encoded))), ("ak_name", .string(Hex.encode(akName))),
            ("ek_certificate", .string(Base64.encode(request.ekCertificate))),
            ("secret_sha256", .string(Hex.encode(try TPMDigest.hash(secret, .sha256)))), ("created", .integer(time)),
        ])
        try makeDirectories()
        try OutputFile.writeWhole(Array(pending.compactText.utf8), to: pendingPath(request.deviceID), mode: 0o600)
        return try EnrollmentChallenge(
            deviceID: request.deviceID, akName: akName, credentialBlob: credential.credentialBlob, encryptedSecret: credential.encryptedSecret)
    }

    /// Checks a response against its pending challenge and records the device. The pending
    /// entry is removed first, so one response is accepted once.
    public func finish(_ response: EnrollmentResponse, at time: Int) throws -> EnrolledDevice {
        let place = pendingPath(response.deviceID)
        guard let bytes = try Self.readPrivate(place) else {
            throw CPKError(.checkFailed, "no challenge is waiting for the device \(response.deviceID)", reason: .tpmNoChallenge)
        }
        let what = "the pending challenge of \(response.deviceID)"
        let json = try Self.object(bytes, what: what)
        let fields = try Self.fields(
            json, what: what, required: [Self.pendingVersion, "device_id", "ak_public", "ak_name", "ek_certificate", "secret_sha256", "created"])
        guard json[Self.pendingVersion] == .integer(1), case .number(let createdText)? = json["created"], let created = Int(createdText),
            case .string(let expectedHex)? = json["secret_sha256"], let expected = Hex.decode(Array(expectedHex.utf8), ignoringWhitespace: false),
            expected.count == 32
        else { throw CPKError(.invalidInput, "\(what) is not a pending challenge of this version", reason: .tpmRegistry) }
        guard try fields.deviceID("device_id") == response.deviceID else {
            throw CPKError(.invalidInput, "\(what) names another device", reason: .tpmRegistry)
        }
        let akPublic = try fields.structure("ak_public", TPMPublic.init(parsing:))
        guard try akPublic.name == response.akName else {
            throw CPKError(.checkFailed, "the response names another AK than the challenge", reason: .tpmNoChallenge)
        }
        guard time - created <= Self.challengeLifetime, time >= created else {
            throw CPKError(.checkFailed, "the challenge of \(response.deviceID) expired (it lasts \(Self.challengeLifetime) seconds)",
                           reason: .tpmNoChallenge)
        }
        let answered = try TPMDigest.hash(response.secret, .sha256)
        guard ConstantTime.equal(answered, expected) else {
            throw CPKError(.checkFailed, "the response's secret is not the challenge's: the AK is not in that TPM", reason: .tpmWrongSecret)
        }
        // Claimed by removing it: of two finishes racing, one removes the entry, the other fails.
        guard unlink(place) == 0 else {
            throw CPKError(.checkFailed, "no challenge is waiting for the device \(response.deviceID)", reason: .tpmNoChallenge)
        }
        let device = try EnrolledDevice(
            deviceID: response.deviceID, akPublic: akPublic,
            ekCertificate: try fields.base64("ek_certificate", maximum: AttestationDocument.maximumCertificate), enrolledAt: time)
        try OutputFile.writeWhole(Array(device.json.compactText.utf8), to: devicePath(response.deviceID), mode: 0o600)
        return device
    }

    /// The enrolled device of this id, or nil.
    public func enrolled(_ deviceID: String) throws -> EnrolledDevice? {
        if let problem = DeviceID.problem(with: deviceID) { throw AttestationDocument.malformed(problem) }
        guard let bytes = try Self.readPrivate(devicePath(deviceID)) else { return nil }
        return try EnrolledDevice(parsing: bytes, what: devicePath(deviceID))
    }

    /// Every enrolled device id, sorted.
    public func enrolledIDs() throws -> [String] {
        guard let handle = opendir(path + "/devices") else {
            if errno == ENOENT { return [] }
            throw FileDescriptor.systemError("cannot read \(path)/devices")
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name.hasSuffix(".json"), DeviceID.problem(with: String(name.dropLast(5))) == nil { names.append(String(name.dropLast(5))) }
        }
        return names.sorted()
    }

    // MARK: - checks

    /// - Parameters:
    ///   - called: how messages name the certificate (a request's, or an enrolled one).
    ///   - unreadable: the kind of error for a certificate that does not parse.
    static func requireTrustedEK(
        _ der: [UInt8], anchors: [X509Certificate], at time: Int, called: String = "the EK certificate",
        unreadable: CPKError.Kind = .invalidInput
    ) throws {
        let certificate: X509Certificate
        do {
            certificate = try X509Certificate(der: der)
        } catch let error as CPKError {
            throw CPKError(unreadable, "\(called): \(error.message)", reason: .tpmUntrustedEK)
        }
        // OpenSSL's verdict as is: the TCG extensions of EK certificates (the critical subject
        // alternative name of directory names, the subject directory attributes) are ones it
        // knows; a critical extension it does not know fails the chain, as RFC 5280 §4.2 asks.
        switch try CertificateChain.verify(leaf: certificate, intermediates: [], anchors: anchors, at: time, allowExpired: false) {
        case .trusted: return
        case .untrusted(let reason):
            throw CPKError(.checkFailed, "\(called) does not chain to a trusted manufacturer CA: \(reason)", reason: .tpmUntrustedEK)
        }
    }

    /// An AK the release can rely on: a restricted signing key made in its TPM and never to leave
    /// it, RSA-2048 with RSASSA-SHA256 or ECC P-256 with ECDSA-SHA256.
    public static func requireAttestationKey(_ ak: TPMPublic) throws {
        func unsuitable(_ text: String) -> CPKError { CPKError(.checkFailed, "the AK \(text)", reason: .tpmUnsuitableAK) }
        let needed: TPMObjectAttributes = [.restricted, .sign, .fixedTPM, .fixedParent, .sensitiveDataOrigin]
        guard ak.attributes.isSuperset(of: needed) else { throw unsuitable("lacks restricted, sign, fixedTPM, fixedParent or sensitiveDataOrigin") }
        guard !ak.attributes.contains(.decrypt) else { throw unsuitable("can also decrypt") }
        switch ak.key {
        case .rsa(_, _, let bits):
            guard bits == 2048, ak.signingScheme == TPMSigningScheme(algorithm: TPMAlgorithmID.rsassa, hash: .sha256) else {
                throw unsuitable("is not RSA-2048 with RSASSA-SHA256")
            }
        case .ecc(let curve, _, _):
            guard curve == .p256, ak.signingScheme == TPMSigningScheme(algorithm: TPMAlgorithmID.ecdsa, hash: .sha256) else {
                throw unsuitable("is not ECC P-256 with ECDSA-SHA256")
            }
        }
    }

    // MARK: - files

    func makeDirectories() throws {
        for directory in [path, path + "/pending", path + "/devices"] where mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw FileDescriptor.systemError("cannot make \(directory)")
        }
    }

    /// A registry file's bytes, nil when there is none; only a regular file (never a link).
    static func readPrivate(_ path: String) throws -> [UInt8]? {
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(regularFile: path)
        } catch FileDescriptor.NotRegularFile.missing {
            return nil
        } catch is FileDescriptor.NotRegularFile {
            throw CPKError(.io, "\(path) is not a regular file", reason: .tpmRegistry)
        }
        // Only what this user wrote, 0600 as written: an entry someone else could make or change
        // would enroll their AK under any device id.
        var info = stat()
        guard fstat(file.fd, &info) == 0 else { throw FileDescriptor.systemError("cannot read \(path)") }
        guard info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
            throw CPKError(
                .io, "\(path) is not this user's private file (uid \(info.st_uid), mode \(String(info.st_mode & 0o7777, radix: 8)))",
                reason: .tpmRegistry)
        }
        let size = UInt64(info.st_size)
        guard size <= UInt64(fileLimit) else { throw CPKError(.io, "\(path) is larger than \(fileLimit) bytes", reason: .tpmRegistry) }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let count = try bytes.withUnsafeMutableBytes { try file.readFully(into: $0) }
        return Array(bytes.prefix(count))
    }

    static func object(_ bytes: [UInt8], what: String) throws -> JSONValue {
        do {
            return try AttestationDocument.object(bytes, what: what)
        } catch let error as CPKError {
            throw CPKError(.invalidInput, error.message, reason: .tpmRegistry)
        }
    }

    static func fields(_ json: JSONValue, what: String, required: [String]) throws -> Fields {
        do {
            return try Fields(json, what: what, required: required)
        } catch let error as CPKError {
            throw CPKError(.invalidInput, error.message, reason: .tpmRegistry)
        }
    }
}
