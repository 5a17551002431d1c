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
        of manager: PackageManagerAdministration & PaddedKeyInstallation, deviceID: String, certificate: [UInt8]?,
        tpmEvidence: JSONValue? = nil
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
        // Beside the device key it attests (a TPM-held key's; see TPMEvidenceReport).
        if let tpmEvidence { properties.append((TPMEvidenceReport.member, tpmEvidence)) }
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
    /// The generation of the signed release applied, or nil for an unsigned document.
    public var generation: UInt64?

    public init() {}

    /// How a device takes desired-state documents.
    public enum Acceptance: Sendable {
        /// Only signed releases that verify against the fleet membership (docs/keys.md §4.4).
        case signedOnly
        /// For development: an unsigned document is applied too, its keys unwrapped as the
        /// reference contract's (RSA PKCS#1 v1.5, implicit rejection); a signed one is still
        /// verified.
        case unsignedAllowed
    }

    /// Applies a desired-state document to the simulator. A signed release is verified first —
    /// signature to the fleet anchor, this device's id and key, a generation above the last one
    /// applied, not expired — and nothing is unwrapped unless all of that holds; then every key is
    /// installed (one failing key never stops the others) and the generation recorded.
    /// - Throws: when the document is refused whole; nothing is changed then.
    public static func apply(
        _ document: [UInt8], from source: String, to manager: PackageManagerSimulator, acceptance: Acceptance, at time: Int
    ) throws -> DesiredStateApplication {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: document)
        } catch let error as JSONSyntaxError {
            throw CPKError(.invalidInput, "\(source) is not JSON (\(error))", reason: .malformedRelease)
        }
        let device = try PublicKey(loading: try manager.exportDevicePublicKey())
        if KeyRelease.signedPlace(in: json) == nil, DesiredState.isUnsigned(json) {
            guard acceptance == .unsignedAllowed else {
                throw CPKError(
                    .checkFailed, "\(source) is not signed; this device applies only key releases signed by its fleet operator",
                    reason: .unsignedRelease)
            }
            // The reference contract: PKCS#1 v1.5 whatever the document says of itself.
            let unsigned = try DesiredState(parsing: document, from: source)
            var result = DesiredStateApplication()
            for entry in unsigned.unreadable { result.refused.append((entry.name, CPKError.invalid(entry.problem))) }
            result.install(unsigned.keys, padding: .pkcs1v15, into: manager)
            return result
        }
        guard let membership = try FleetMembership.load(in: manager.state) else {
            throw CPKError(.checkFailed, "no fleet anchor is provisioned, so \(source) cannot be verified", reason: .noFleetAnchor)
        }
        let expectation = KeyRelease.Expectation(
            anchor: membership.anchor, deviceID: membership.deviceID, deviceKeySHA256: try device.fingerprint,
            lastGeneration: try FleetMembership.lastGeneration(in: manager.state), time: time)
        let release: KeyRelease
        do {
            release = try KeyRelease(verifying: document, against: expectation)
        } catch let error as CPKError {
            throw CPKError(error.kind, "\(source): \(error.message)", reason: error.reason)
        }
        var result = DesiredStateApplication()
        result.generation = release.generation
        result.install(release.keys, padding: release.padding, into: manager)
        try FleetMembership.record(generation: release.generation, in: manager.state)
        return result
    }

    /// Installs each key; a refused one is recorded and the others go on. Every unwrap failure
    /// reads the same (RSAPrivateKey.unwrapFailure), whatever its cause.
    private mutating func install(_ keys: [(name: String, wrapped: [UInt8])], padding: KeyWrapPadding, into manager: PackageManagerSimulator)
    {
        for entry in keys {
            do {
                try manager.installApplicationKey(applicationID: entry.name, wrappedKey: entry.wrapped, padding: padding)
                applied.append(entry.name)
            } catch let error as CPKError where error.kind != .io {
                refused.append((entry.name, error))
            } catch {
                refused.append((entry.name, CPKError.io("\(error)")))
            }
        }
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
            ("refused", .array(refused.map {
                .object([
                    ("name", .string($0.name)), ("reason", .string($0.error.reason?.rawValue ?? "fleet.error")),
                    ("message", .string($0.error.message)),
                ])
            })),
            ("generation", generation.map { .integer($0) } ?? .null),
        ])
    }
}
