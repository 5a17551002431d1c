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
    public static let evidenceProperty = "tpm_evidence"
    /// The largest reported document read (a device with a few thousand applications).
    public static let sizeLimit = 1 << 20

    /// A device id names an output file: 1 to 128 of `A-Z a-z 0-9 . _ -`, not starting with `.`.
    public static func problem(withDeviceID id: String) -> String? { DeviceID.problem(with: id) }
}

extension CPKError.Reason {
    /// A reported document that is not JSON, or lacks or misspells a required field.
    public static let malformedReport = CPKError.Reason(rawValue: "fleet.malformed-report")
    /// The reported public key is not an RSA key of at least 2048 bits, or not a key at all.
    public static let unusableDeviceKey = CPKError.Reason(rawValue: "fleet.unusable-device-key")
    /// The device certificate is unreadable, names another key, or is missing or untrusted
    /// when a fleet CA is required.
    public static let untrustedDevice = CPKError.Reason(rawValue: "fleet.untrusted-device")
    /// Two authenticated reports under one device id in one run: neither is served.
    public static let duplicateDevice = CPKError.Reason(rawValue: "fleet.duplicate-device")
    /// A listed report that cannot be read as a file: a symbolic link, FIFO, socket, device or
    /// directory, or a file this user may not read.
    public static let unreadableReport = CPKError.Reason(rawValue: "fleet.unreadable-report")
    /// An authenticated device that no rule of the release policy gives a key.
    public static let notEntitled = CPKError.Reason(rawValue: "fleet.not-entitled")
    /// Something other than this user's regular file is where the device's document goes.
    public static let outputRefused = CPKError.Reason(rawValue: "fleet.output-refused")
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
    /// `reported_properties.tpm_evidence` as sent, read only when a release policy requires
    /// attestation (a device whose rule does not is served whatever it holds).
    public let evidence: JSONValue?

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
        try Self.requireOrdinary(publicKey)
        deviceID = id
        evidence = properties[ReportedState.evidenceProperty]
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

    /// The largest device key served: wrapping to a bigger modulus costs the cloud time for
    /// nothing a device needs.
    public static let maximumKeyBits = 8192
    /// The only public exponent served: the one every RSA key generator uses. Another one, say
    /// thousands of bits long, makes each encryption to the key slow (a run-wide slowdown
    /// planted by one report).
    public static let publicExponent: UInt64 = 65537

    /// Refuses an RSA key a fleet has no reason to hold and that costs the run: a modulus
    /// outside 2048–8192 bits or an exponent other than 65537. Checked before any wrapping.
    static func requireOrdinary(_ key: PublicKey) throws {
        func unusable(_ text: String) -> CPKError {
            CPKError(.invalidInput, "\(ReportedState.publicKeyProperty): \(text)", reason: .unusableDeviceKey)
        }
        guard key.bits <= maximumKeyBits else {
            throw unusable("a \(key.bits)-bit RSA key; a device key has \(minimumRSABits) to \(maximumKeyBits) bits")
        }
        guard key.publicExponent == publicExponent else {
            let exponent = key.publicExponent.map(String.init) ?? "longer than 64 bits"
            throw unusable("the RSA public exponent is \(exponent); a device key's is \(publicExponent)")
        }
    }

    /// Requires the device certificate to chain to one of `anchors` at `time` and to name this
    /// device: its subject CN, or one of its DNS or URI subject alternative names, is the
    /// reported device id exactly. Without the name, a device certified as dev-02 could report
    /// as dev-01 and be sent dev-01's keys.
    public func requireCertificate(chainingTo anchors: [X509Certificate], at time: Int) throws {
        guard let certificate else {
            throw CPKError(.checkFailed, "the report has no \(ReportedState.certificateProperty), and a fleet CA is required", reason: .untrustedDevice)
        }
        switch try CertificateChain.verify(leaf: certificate, intermediates: [], anchors: anchors, at: time, allowExpired: false) {
        case .trusted: break
        case .untrusted(let reason):
            throw CPKError(.checkFailed, "the device certificate does not chain to the fleet CA: \(reason)", reason: .untrustedDevice)
        }
        let names = [certificate.commonName].compactMap { $0 } + certificate.subjectAlternativeNames(of: [.dns, .uri])
        guard names.contains(deviceID) else {
            let shown = names.isEmpty ? "no name" : names.map { "\"\($0)\"" }.joined(separator: ", ")
            throw CPKError(
                .checkFailed, "the device certificate names \(shown), not the reported device id \"\(deviceID)\"",
                reason: .untrustedDevice)
        }
    }
}
