import CPKCore
import CPKCrypto

// The four documents between a device's TPM and the cloud (docs/keys.md §4.6): the enrollment
// request, the challenge, the response, and the evidence a reported state carries. One codec for
// both sides: the device builds with it, the cloud parses with it. Parsing is strict because the
// cloud reads what a device sent: one JSON object, no unknown or missing member, every base64
// and hex value checked, every size bounded, every TPM structure read whole.

extension CPKError.Reason {
    /// A TPM enrollment document or an evidence object that is not what docs/keys.md §4.6 says:
    /// not JSON, a missing, unknown or mistyped member, bad base64 or hex, a size out of bounds.
    /// (A member that is well-formed text but not a TPM structure keeps that structure's reason.)
    public static let tpmDocument = CPKError.Reason(rawValue: "tpm-document")
}

/// Shared pieces of the four documents.
public enum AttestationDocument {
    public static let kindMember = "cpk_tpm_enrollment"
    public static let versionMember = "version"
    public static let version = 1
    /// The largest document read: the biggest legitimate one (a request with a 4 KiB EK
    /// certificate chain's leaf) is under 8 KiB.
    public static let sizeLimit = 64 * 1024
    /// An EK certificate is one DER certificate; manufacturers' are 1 to 2 KiB.
    public static let maximumCertificate = 16 * 1024
    /// TPM2B_ID_OBJECT's buffer: an integrity HMAC and an encrypted identity, each a TPM2B of at
    /// most a digest (plus the Name algorithm for encIdentity): sizeof(TPMS_ID_OBJECT).
    public static let maximumCredentialBlob = 2 + 64 + 2 + 66
    /// TPM2B_ENCRYPTED_SECRET's buffer: at most an RSA-4096 ciphertext.
    public static let maximumEncryptedSecret = 512
    /// The activated secret: a TPM2B_DIGEST, at most a SHA-512 digest.
    public static let maximumSecret = 64

    static func malformed(_ text: String) -> CPKError { CPKError(.invalidInput, text, reason: .tpmDocument) }

    /// The JSON object of a whole document, at most `sizeLimit` bytes.
    static func object(_ bytes: [UInt8], what: String) throws -> JSONValue {
        guard bytes.count <= sizeLimit else { throw malformed("\(what) is \(bytes.count) bytes; at most \(sizeLimit)") }
        do {
            let json = try JSONValue(parsing: bytes)
            guard case .object = json else { throw malformed("\(what) is not a JSON object") }
            return json
        } catch let error as JSONSyntaxError {
            throw malformed("\(what) is not JSON (\(error))")
        }
    }

    /// Reads the members of one of the three enrollment documents: the kind and version are
    /// checked, the members must be exactly `members` (plus kind and version).
    static func enrollment(_ bytes: [UInt8], kind: String, members: [String]) throws -> Fields {
        let what = "the enrollment \(kind)"
        let json = try object(bytes, what: what)
        let fields = try Fields(json, what: what, required: [kindMember, versionMember] + members)
        guard json[kindMember] == .string(kind) else {
            let found: String
            if case .string(let other)? = json[kindMember] { found = "a \"\(other)\"" } else { found = "not text" }
            throw malformed("\(what): \(kindMember) is \(found), not \"\(kind)\"")
        }
        guard json[versionMember] == .integer(version) else { throw malformed("\(what): \(versionMember) must be \(version)") }
        return fields
    }

    static func header(_ kind: String) -> [(String, JSONValue)] {
        [(kindMember, .string(kind)), (versionMember, .integer(version))]
    }
}

/// Typed, bounded access to the members of one JSON object that must have exactly the members
/// named (optional ones aside).
struct Fields {
    let json: JSONValue
    let what: String

    init(_ json: JSONValue, what: String, required: [String], optional: [String] = []) throws {
        guard case .object(let members) = json else { throw AttestationDocument.malformed("\(what) is not a JSON object") }
        let allowed = Set(required + optional)
        if let unknown = members.first(where: { !allowed.contains($0.0) }) {
            throw AttestationDocument.malformed("\(what) has an unknown member \"\(unknown.0)\"")
        }
        if let missing = required.first(where: { json[$0] == nil }) {
            throw AttestationDocument.malformed("\(what) has no \(missing)")
        }
        self.json = json
        self.what = what
    }

    func text(_ member: String) throws -> String {
        guard case .string(let text)? = json[member] else { throw AttestationDocument.malformed("\(what): \(member) must be text") }
        return text
    }

    func deviceID(_ member: String) throws -> String {
        let id = try text(member)
        if let problem = DeviceID.problem(with: id) { throw AttestationDocument.malformed("\(what): \(member): \(problem)") }
        return id
    }

    /// Standard padded base64 of 1 to `maximum` bytes.
    func base64(_ member: String, maximum: Int) throws -> [UInt8] {
        let text = try text(member)
        // 4 symbols per 3 bytes: longer text cannot be within the bound, and is not decoded.
        guard text.utf8.count <= (maximum + 2) / 3 * 4, let bytes = Base64.decode(text) else {
            throw AttestationDocument.malformed("\(what): \(member) is not base64 of at most \(maximum) bytes")
        }
        guard !bytes.isEmpty, bytes.count <= maximum else {
            throw AttestationDocument.malformed("\(what): \(member) is \(bytes.count) bytes; 1 to \(maximum) are accepted")
        }
        return bytes
    }

    /// A TPM Name in lower-case hex: a hash algorithm this code accepts and a digest of its size.
    func name(_ member: String) throws -> [UInt8] {
        let text = try text(member)
        let digits = Array(text.utf8)
        guard digits.count <= 2 * maximumName, digits.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
            let bytes = Hex.decode(digits, ignoringWhitespace: false)
        else { throw AttestationDocument.malformed("\(what): \(member) is not lower-case hex of a TPM Name") }
        try TPMNames.check(bytes, what: "\(what): \(member)")
        return bytes
    }

    /// A TPM structure from base64, its own errors placed at the member.
    func structure<T>(_ member: String, _ read: ([UInt8]) throws -> T) throws -> T {
        let bytes = try base64(member, maximum: TPMReader.inputLimit)
        do {
            return try read(bytes)
        } catch let error as CPKError {
            throw error.located(in: "\(what): \(member)")
        }
    }
}

/// Names (Part 1, §16): nameAlg ‖ H_nameAlg(public area).
public enum TPMNames {
    /// Refuses bytes that are not an object's Name of an accepted hash (handles are not Names here).
    static func check(_ name: [UInt8], what: String) throws {
        guard name.count >= 2, let hash = TPMHash(rawValue: UInt16(name[0]) << 8 | UInt16(name[1])),
            name.count == 2 + hash.digestSize
        else { throw AttestationDocument.malformed("\(what) is not a TPM Name (\(name.count) bytes)") }
    }
}

/// 1. The enrollment request (device → cloud): the EK certificate, the EK's and the AK's public
/// areas.
public struct EnrollmentRequest: Sendable {
    public static let kind = "request"
    public let deviceID: String
    /// DER of the EK certificate as read from the TPM's NV index (not checked here: see the
    /// enrollment, which chains it to a manufacturer CA).
    public let ekCertificate: [UInt8]
    public let ekPublic: TPMPublic
    public let akPublic: TPMPublic

    public init(deviceID: String, ekCertificate: [UInt8], ekPublic: TPMPublic, akPublic: TPMPublic) throws {
        if let problem = DeviceID.problem(with: deviceID) { throw AttestationDocument.malformed("device_id: \(problem)") }
        guard !ekCertificate.isEmpty, ekCertificate.count <= AttestationDocument.maximumCertificate else {
            throw AttestationDocument.malformed("the EK certificate is \(ekCertificate.count) bytes; 1 to \(AttestationDocument.maximumCertificate)")
        }
        self.deviceID = deviceID
        self.ekCertificate = ekCertificate
        self.ekPublic = ekPublic
        self.akPublic = akPublic
    }

    public init(parsing bytes: [UInt8]) throws {
        let fields = try AttestationDocument.enrollment(bytes, kind: Self.kind, members: ["device_id", "ek_certificate", "ek_public", "ak_public"])
        try self.init(
            deviceID: try fields.deviceID("device_id"),
            ekCertificate: try fields.base64("ek_certificate", maximum: AttestationDocument.maximumCertificate),
            ekPublic: try fields.structure("ek_public", TPMPublic.init(parsing:)),
            akPublic: try fields.structure("ak_public", TPMPublic.init(parsing:)))
    }

    public var json: JSONValue {
        .object(AttestationDocument.header(Self.kind) + [
            ("device_id", .string(deviceID)), ("ek_certificate", .string(Base64.encode(ekCertificate))),
            ("ek_public", .string(Base64.encode(ekPublic.encoded))), ("ak_public", .string(Base64.encode(akPublic.encoded))),
        ])
    }

    /// The document as written: compact JSON, one line, no newline.
    public var encoded: [UInt8] { Array(json.compactText.utf8) }
}

/// 2. The challenge (cloud → device): a credential made to the EK for the AK's Name.
public struct EnrollmentChallenge: Sendable {
    public static let kind = "challenge"
    public let deviceID: String
    public let akName: [UInt8]
    /// The TPM2B_ID_OBJECT's buffer: integrityHMAC (a TPM2B_DIGEST), then encIdentity.
    public let credentialBlob: [UInt8]
    /// The TPM2B_ENCRYPTED_SECRET's buffer: the seed, encrypted to the EK.
    public let encryptedSecret: [UInt8]

    public init(deviceID: String, akName: [UInt8], credentialBlob: [UInt8], encryptedSecret: [UInt8]) throws {
        if let problem = DeviceID.problem(with: deviceID) { throw AttestationDocument.malformed("device_id: \(problem)") }
        try TPMNames.check(akName, what: "ak_name")
        guard (1...AttestationDocument.maximumCredentialBlob).contains(credentialBlob.count),
            (1...AttestationDocument.maximumEncryptedSecret).contains(encryptedSecret.count)
        else { throw AttestationDocument.malformed("the credential is \(credentialBlob.count) and \(encryptedSecret.count) bytes: out of bounds") }
        self.deviceID = deviceID
        self.akName = akName
        self.credentialBlob = credentialBlob
        self.encryptedSecret = encryptedSecret
    }

    public init(parsing bytes: [UInt8]) throws {
        let fields = try AttestationDocument.enrollment(
            bytes, kind: Self.kind, members: ["device_id", "ak_name", "credential_blob", "encrypted_secret"])
        try self.init(
            deviceID: try fields.deviceID("device_id"), akName: try fields.name("ak_name"),
            credentialBlob: try fields.base64("credential_blob", maximum: AttestationDocument.maximumCredentialBlob),
            encryptedSecret: try fields.base64("encrypted_secret", maximum: AttestationDocument.maximumEncryptedSecret))
    }

    public var json: JSONValue {
        .object(AttestationDocument.header(Self.kind) + [
            ("device_id", .string(deviceID)), ("ak_name", .string(Hex.encode(akName))),
            ("credential_blob", .string(Base64.encode(credentialBlob))), ("encrypted_secret", .string(Base64.encode(encryptedSecret))),
        ])
    }

    public var encoded: [UInt8] { Array(json.compactText.utf8) }
}

/// 3. The response (device → cloud): the secret the TPM released from the credential.
public struct EnrollmentResponse: Sendable {
    public static let kind = "response"
    public let deviceID: String
    public let akName: [UInt8]
    public let secret: [UInt8]

    public init(deviceID: String, akName: [UInt8], secret: [UInt8]) throws {
        if let problem = DeviceID.problem(with: deviceID) { throw AttestationDocument.malformed("device_id: \(problem)") }
        try TPMNames.check(akName, what: "ak_name")
        guard (1...AttestationDocument.maximumSecret).contains(secret.count) else {
            throw AttestationDocument.malformed("the secret is \(secret.count) bytes; 1 to \(AttestationDocument.maximumSecret)")
        }
        self.deviceID = deviceID
        self.akName = akName
        self.secret = secret
    }

    public init(parsing bytes: [UInt8]) throws {
        let fields = try AttestationDocument.enrollment(bytes, kind: Self.kind, members: ["device_id", "ak_name", "secret"])
        try self.init(
            deviceID: try fields.deviceID("device_id"), akName: try fields.name("ak_name"),
            secret: try fields.base64("secret", maximum: AttestationDocument.maximumSecret))
    }

    public var json: JSONValue {
        .object(AttestationDocument.header(Self.kind) + [
            ("device_id", .string(deviceID)), ("ak_name", .string(Hex.encode(akName))), ("secret", .string(Base64.encode(secret))),
        ])
    }

    public var encoded: [UInt8] { Array(json.compactText.utf8) }
}

/// 4. The evidence in a reported state (`reported_properties.tpm_evidence`): the device key's
/// public area, certified by the AK, and optionally a quote over a verifier's nonce. Read here
/// for its form only; what it proves is the release policy's to check.
public struct TPMEvidence: Sendable {
    public static let member = "tpm_evidence"

    /// An attestation and the AK's signature over it.
    public struct Signed: Sendable {
        public let attest: TPMAttest
        public let signature: TPMSignature

        public init(attest: TPMAttest, signature: TPMSignature) {
            self.attest = attest
            self.signature = signature
        }

        init(_ value: JSONValue, what: String) throws {
            let fields = try Fields(value, what: what, required: ["attest", "signature"])
            attest = try fields.structure("attest", TPMAttest.init(parsing:))
            signature = try fields.structure("signature", TPMSignature.init(parsing:))
        }

        public var json: JSONValue {
            .object([("attest", .string(Base64.encode(attest.encoded))), ("signature", .string(Base64.encode(signature.encoded)))])
        }
    }

    public let deviceKeyPublic: TPMPublic
    public let akName: [UInt8]
    public let certify: Signed
    public let quote: Signed?

    public init(deviceKeyPublic: TPMPublic, akName: [UInt8], certify: Signed, quote: Signed?) throws {
        try TPMNames.check(akName, what: "ak_name")
        guard case .certify = certify.attest.attested else { throw AttestationDocument.malformed("certify holds an attestation of another type") }
        if let quote, case .certify = quote.attest.attested { throw AttestationDocument.malformed("quote holds a certify attestation") }
        self.deviceKeyPublic = deviceKeyPublic
        self.akName = akName
        self.certify = certify
        self.quote = quote
    }

    /// Reads the `tpm_evidence` object of a reported state.
    public init(json: JSONValue) throws {
        let what = Self.member
        let fields = try Fields(json, what: what, required: ["device_key_public", "ak_name", "certify"], optional: ["quote"])
        let quote: Signed?
        switch json["quote"] {
        case nil: quote = nil
        case let value?: quote = try Signed(value, what: "\(what).quote")
        }
        try self.init(
            deviceKeyPublic: try fields.structure("device_key_public", TPMPublic.init(parsing:)), akName: try fields.name("ak_name"),
            certify: try Signed(json["certify"] ?? .null, what: "\(what).certify"), quote: quote)
    }

    /// Reads the evidence alone as a JSON text (tests, fuzzing).
    public init(parsing bytes: [UInt8]) throws {
        try self.init(json: try AttestationDocument.object(bytes, what: Self.member))
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("device_key_public", .string(Base64.encode(deviceKeyPublic.encoded))), ("ak_name", .string(Hex.encode(akName))),
            ("certify", certify.json),
        ]
        if let quote { members.append(("quote", quote.json)) }
        return .object(members)
    }

    public var encoded: [UInt8] { Array(json.compactText.utf8) }
}
