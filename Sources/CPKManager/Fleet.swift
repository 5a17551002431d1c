import CPKCore
import CPKCrypto
import CPKKeys

/// The device side of DistributeKey: the reported-state document (`cpk-install report`) and
/// applying a desired-state document (`cpk-install sync --twin`). docs/keys.md §4.4–4.5.
public enum DeviceReportBuilder {
    /// The reported document of the device behind `manager`.
    /// - Parameters:
    ///   - deviceID: the device's name in the fleet (checked: it names the cloud's output file).
    ///   - certificate: the device certificate (PEM or DER), which must certify the device key.
    public static func report(
        of manager: PackageManagerAdministration & PaddedKeyInstallation, deviceID: String, certificate: [UInt8]?
    ) throws -> JSONValue {
        if let problem = ReportedState.problem(withDeviceID: deviceID) { throw CPKError.usage("the device id \"\(deviceID)\": \(problem)") }
        let device = try PublicKey(loading: try manager.exportDevicePublicKey())
        var properties: [(String, JSONValue)] = [
            ("contract_version", .integer(try manager.ping())),
            (ReportedState.publicKeyProperty, .string(Base64.encode(device.subjectPublicKeyInfoDER))),
        ]
        if let certificate {
            guard let leaf = try X509Certificate.chain(loading: certificate).first else {
                throw CPKError.invalid("the device certificate holds no certificate")
            }
            guard (try PublicKey(loading: leaf.der).fingerprint) == (try device.fingerprint) else {
                throw CPKError.check("the device certificate certifies another key than this device's")
            }
            properties.append((ReportedState.certificateProperty, .string(Base64.encode(leaf.der))))
        }
        properties.append(("class_keys", .array(try manager.installedClassKeys().map {
            .object([("name", .string($0.id)), ("installed_at", .string($0.installedAt))])
        })))
        properties.append(("applications", .array(try manager.installedApplications().map { application in
            .object([
                ("id", .string(application.id)),
                ("version", .string(application.description.version.dotted)),
                ("sha256", .string(Hex.encode(application.sha256))),
                ("signer", application.description.provenance.signer.map { .string($0) } ?? .null),
                ("installed_at", .string(application.installedAt)),
            ])
        })))
        return .object([
            (ReportedState.versionProperty, .integer(ReportedState.version)),
            (ReportedState.deviceIDProperty, .string(deviceID)),
            (ReportedState.propertiesProperty, .object(properties)),
        ])
    }
}

/// What applying a desired-state document did, key by key.
public struct DesiredStateApplication: Sendable {
    public var applied: [String] = []
    public var refused: [(name: String, error: CPKError)] = []

    public init() {}

    /// Installs every key of a desired-state document that is meant for this device; a key
    /// that cannot be installed is refused and the others still go in.
    /// - Throws: when the document cannot be read, or is wrapped to another device.
    public static func apply(
        _ document: [UInt8], from source: String, to manager: PackageManagerAdministration & PaddedKeyInstallation
    ) throws -> DesiredStateApplication {
        let desired = try DesiredState(parsing: document, from: source)
        let device = try PublicKey(loading: try manager.exportDevicePublicKey())
        if let fingerprint = desired.wrappingKeySHA256, fingerprint != (try device.fingerprint) {
            throw CPKError.check(
                "\(source) is wrapped to another device (sha256:\(Hex.encode(fingerprint).prefix(16))…), "
                    + "not this one (sha256:\(Hex.encode(try device.fingerprint).prefix(16))…)")
        }
        var result = DesiredStateApplication()
        for entry in desired.unreadable { result.refused.append((entry.name, CPKError.invalid(entry.problem))) }
        for entry in desired.keys {
            do {
                let received = try WrappedKey(received: entry.wrapped, named: entry.name, to: device, padding: desired.padding, from: source)
                try manager.installApplicationKey(applicationID: entry.name, wrappedKey: received.wrapped, padding: desired.padding)
                result.applied.append(entry.name)
            } catch let error as CPKError where error.kind == .invalidInput || error.kind == .checkFailed || error.kind == .usage {
                result.refused.append((entry.name, error))
            }
        }
        return result
    }

    /// One line for people; names are escaped, never a key's value.
    public var line: String {
        let applied = self.applied.map(TerminalText.escaped)
        var text = "applied \(applied.count) class key\(applied.count == 1 ? "" : "s")"
        if !applied.isEmpty { text += " (\(applied.joined(separator: ", ")))" }
        if !refused.isEmpty {
            text += "; refused \(refused.count): " + refused.map { "\(TerminalText.escaped($0.name)): \($0.error.message)" }.joined(separator: "; ")
        }
        return text
    }

    public var json: JSONValue {
        .object([
            ("applied", .array(applied.map { .string($0) })),
            ("refused", .array(refused.map { .object([("name", .string($0.name)), ("message", .string($0.error.message))]) })),
        ])
    }
}
