import CPKAttestation
import CPKCore
import CPKCrypto

// INTERIM: the enrollment documents (docs/keys.md §4, documents 1-3) until the shared codec
// (CPKAttestation/AttestationDocuments.swift, branch tpmcloud) is merged; same names and
// calls, so the merge deletes this file and nothing else changes. The challenge is read
// strictly: exactly its members, base64 and hex checked, sizes bounded.

struct EnrollmentRequest {
    let deviceID: String
    let ekCertificate: [UInt8]
    let ekPublic: TPMPublic
    let akPublic: TPMPublic

    init(deviceID: String, ekCertificate: [UInt8], ekPublic: TPMPublic, akPublic: TPMPublic) throws {
        self.deviceID = deviceID
        self.ekCertificate = ekCertificate
        self.ekPublic = ekPublic
        self.akPublic = akPublic
    }

    var encoded: [UInt8] {
        Array(JSONValue.object([
            ("cpk_tpm_enrollment", .string("request")), ("version", .integer(1)), ("device_id", .string(deviceID)),
            ("ek_certificate", .string(Base64.encode(ekCertificate))), ("ek_public", .string(Base64.encode(ekPublic.encoded))),
            ("ak_public", .string(Base64.encode(akPublic.encoded))),
        ]).compactText.utf8)
    }
}

struct EnrollmentChallenge {
    let deviceID: String
    let akName: [UInt8]
    let credentialBlob: [UInt8]
    let encryptedSecret: [UInt8]

    init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= 64 * 1024 else { throw Self.bad("it is larger than 64 KiB") }
        let value: JSONValue
        do { value = try JSONValue(parsing: bytes) } catch { throw Self.bad("it is not JSON (\(error))") }
        guard case .object(let members) = value else { throw Self.bad("it is not a JSON object") }
        let names = ["cpk_tpm_enrollment", "version", "device_id", "ak_name", "credential_blob", "encrypted_secret"]
        guard members.count == names.count, Set(members.map(\.0)) == Set(names) else {
            throw Self.bad("its members are not exactly \(names.joined(separator: ", "))")
        }
        guard value["cpk_tpm_enrollment"] == .string("challenge") else { throw Self.bad("it is not a challenge") }
        guard value["version"] == .integer(1) else { throw Self.bad("its version is not 1") }
        guard case .string(let id)? = value["device_id"], !id.isEmpty, id.utf8.count <= 253 else { throw Self.bad("device_id is not a name") }
        guard case .string(let name)? = value["ak_name"], let akName = Hex.decode(Array(name.utf8), ignoringWhitespace: false),
            name == Hex.encode(akName), akName.count == 34, akName[0] == 0x00, akName[1] == 0x0B
        else { throw Self.bad("ak_name is not a SHA-256 Name in lower-case hex") }
        guard case .string(let blob)? = value["credential_blob"], let credentialBlob = Base64.decode(blob),
            (1...134).contains(credentialBlob.count)
        else { throw Self.bad("credential_blob is not base64 of 1 to 134 bytes") }
        guard case .string(let secret)? = value["encrypted_secret"], let encryptedSecret = Base64.decode(secret),
            (1...512).contains(encryptedSecret.count)
        else { throw Self.bad("encrypted_secret is not base64 of 1 to 512 bytes") }
        deviceID = id
        self.akName = akName
        self.credentialBlob = credentialBlob
        self.encryptedSecret = encryptedSecret
    }

    static func bad(_ why: String) -> CPKError {
        CPKError(.invalidInput, "the enrollment challenge cannot be read: \(why)", reason: CPKError.Reason(rawValue: "tpm-document"))
    }
}

struct EnrollmentResponse {
    let deviceID: String
    let akName: [UInt8]
    let secret: [UInt8]

    init(deviceID: String, akName: [UInt8], secret: [UInt8]) throws {
        self.deviceID = deviceID
        self.akName = akName
        self.secret = secret
    }

    var encoded: [UInt8] {
        Array(JSONValue.object([
            ("cpk_tpm_enrollment", .string("response")), ("version", .integer(1)), ("device_id", .string(deviceID)),
            ("ak_name", .string(Hex.encode(akName))), ("secret", .string(Base64.encode(secret))),
        ]).compactText.utf8)
    }
}
