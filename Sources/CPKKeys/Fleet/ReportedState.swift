import CPKCore
import CPKCrypto

/// The reported-state document of the DistributeKey contract (docs/keys.md §4.5): what a
/// device says about itself, pushed as is to its twin by a device agent. The cloud reads
/// `device_id` and `reported_properties.device_public_key` (and `device_cert`); the rest
/// (installed applications and class keys) is for people and monitoring, and is not
/// interpreted by `distribute`.
public enum ReportedState {
    public static let version = 1
    public static let versionProperty = "cpk_reported_state"
    public static let deviceIDProperty = "device_id"
    public static let propertiesProperty = "reported_properties"
    public static let publicKeyProperty = "device_public_key"
    public static let certificateProperty = "device_cert"
    /// The largest reported document read (a device with a few thousand applications).
    public static let sizeLimit = 1 << 20

    /// A device id names an output file: 1 to 128 of `A-Z a-z 0-9 . _ -`, not starting with `.`.
    public static func problem(withDeviceID id: String) -> String? {
        let bytes = Array(id.utf8)
        guard (1...128).contains(bytes.count) else { return "a device id is 1 to 128 characters" }
        guard bytes.first != UInt8(ascii: ".") else { return "a device id does not start with \".\"" }
        let allowed = bytes.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        return allowed ? nil : "a device id is made of letters, digits, \".\", \"_\" and \"-\""
    }
}

extension CPKError.Reason {
    /// A reported document that is not JSON, or lacks or misspells a required field.
    public static let malformedReport = CPKError.Reason(rawValue: "fleet.malformed-report")
    /// The reported public key is not an RSA key of at least 2048 bits, or not a key at all.
    public static let unusableDeviceKey = CPKError.Reason(rawValue: "fleet.unusable-device-key")
    /// The device certificate is unreadable, names another key, or is missing or untrusted
    /// when a fleet CA is required.
    public static let untrustedDevice = CPKError.Reason(rawValue: "fleet.untrusted-device")
    /// A second report under a device id already served in this run.
    public static let duplicateDevice = CPKError.Reason(rawValue: "fleet.duplicate-device")
}

/// One device's report, read strictly for what distribution needs.
public struct DeviceReport: Sendable {
    /// A report refused once its device id was read: the refusal names the device.
    public struct Refused: Error, Sendable {
        public let deviceID: String
        public let error: CPKError
    }

    public let deviceID: String
    public let publicKey: PublicKey
    public let certificate: X509Certificate?

    /// Reads a reported document. Failures carry a `CPKError.Reason` of the fleet family.
    public init(parsing bytes: [UInt8]) throws {
        func malformed(_ text: String) -> CPKError { CPKError(.invalidInput, text, reason: .malformedReport) }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: bytes)
        } catch let error as JSONSyntaxError {
            throw malformed("the report is not JSON (\(error))")
        }
        guard case .object = json else { throw malformed("the report must be a JSON object") }
        guard case .string(let id)? = json[ReportedState.deviceIDProperty] else {
            throw malformed("the report has no \(ReportedState.deviceIDProperty) text")
        }
        if let problem = ReportedState.problem(withDeviceID: id) { throw malformed("\(ReportedState.deviceIDProperty): \(problem)") }
        do {
            try self.init(deviceID: id, json: json)
        } catch let error as CPKError {
            throw Refused(deviceID: id, error: error)
        }
    }

    private init(deviceID id: String, json: JSONValue) throws {
        func malformed(_ text: String) -> CPKError { CPKError(.invalidInput, text, reason: .malformedReport) }
        // An Azure-style twin keeps the reported properties at properties.reported.
        guard let properties = json[ReportedState.propertiesProperty] ?? json["properties"]?["reported"],
            case .object = properties
        else {
            throw malformed("the report has no \(ReportedState.propertiesProperty) object")
        }
        guard case .string(let keyText)? = properties[ReportedState.publicKeyProperty] else {
            throw malformed("the report has no \(ReportedState.propertiesProperty).\(ReportedState.publicKeyProperty) text")
        }
        guard let keyDER = Base64.decode(keyText), !keyDER.isEmpty else {
            throw CPKError(.invalidInput, "\(ReportedState.publicKeyProperty) is not base64", reason: .unusableDeviceKey)
        }
        // Only DER is accepted here (the contract says base64 DER); PublicKey refuses non-RSA
        // keys and RSA keys under 2048 bits.
        guard keyDER.first == 0x30 else {
            throw CPKError(.invalidInput, "\(ReportedState.publicKeyProperty) is not base64 of a DER key", reason: .unusableDeviceKey)
        }
        do {
            publicKey = try PublicKey(loading: keyDER)
        } catch let error as CPKError {
            throw CPKError(.invalidInput, "\(ReportedState.publicKeyProperty): \(error.message)", reason: .unusableDeviceKey)
        }
        deviceID = id
        switch properties[ReportedState.certificateProperty] {
        case nil, .null?:
            certificate = nil
        case .string(let certText)?:
            guard let der = Base64.decode(certText), let certificate = try? X509Certificate(der: der) else {
                throw CPKError(
                    .invalidInput, "\(ReportedState.certificateProperty) is not base64 of a DER certificate", reason: .untrustedDevice)
            }
            let certified = try? PublicKey(loading: der).fingerprint
            guard let certified, certified == (try publicKey.fingerprint) else {
                throw CPKError(
                    .checkFailed, "\(ReportedState.certificateProperty) certifies another key than \(ReportedState.publicKeyProperty)",
                    reason: .untrustedDevice)
            }
            self.certificate = certificate
        default:
            throw malformed("\(ReportedState.certificateProperty) must be base64 text")
        }
    }

    /// Requires the device certificate to chain to one of `anchors` at `time`.
    public func requireCertificate(chainingTo anchors: [X509Certificate], at time: Int) throws {
        guard let certificate else {
            throw CPKError(.checkFailed, "the report has no \(ReportedState.certificateProperty), and a fleet CA is required", reason: .untrustedDevice)
        }
        switch try CertificateChain.verify(leaf: certificate, intermediates: [], anchors: anchors, at: time, allowExpired: false) {
        case .trusted: return
        case .untrusted(let reason):
            throw CPKError(.checkFailed, "the device certificate does not chain to the fleet CA: \(reason)", reason: .untrustedDevice)
        }
    }
}
