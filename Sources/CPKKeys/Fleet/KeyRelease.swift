import CPKCore
import CPKCrypto

/// A signed desired-state document (docs/keys.md §4.4): the class keys a fleet operator
/// releases to one device, in a statement the operator signs. The device applies it only when
/// the signature chains to its fleet anchor and the statement names this device, its key, a
/// generation above the last one applied and an expiry still ahead; nothing in the document is
/// read before the signature is checked, and no entry is unwrapped before that.
///
///     {"device_id": "dev-01",                                   routing only, never trusted
///      "desired": {"confidential_package_keys_release": {
///          "statement": "<the exact JSON text signed>",
///          "signature": {"scheme": "ecdsa-p256", "value": "<base64>",
///                        "certificates": ["<base64 DER, leaf first>", ...]}}}}
///
/// The statement (compact JSON, members in this order):
///
///     {"cpk_key_release": 1, "device_id": "dev-01", "device_public_key_sha256": "<hex>",
///      "generation": 1765000000123, "issued_at": "...Z", "expires_at": "...Z",
///      "algorithm": "rsa-oaep-sha256", "keys": {"<key name>": "<base64 wrapped key>"}}
public struct KeyRelease: Sendable {
    public static let version = 1
    public static let property = "confidential_package_keys_release"
    public static let versionMember = "cpk_key_release"
    /// The largest document read: far above a release of a few hundred keys, far below what
    /// would cost a device real memory.
    public static let sizeLimit = 1 << 20

    public var deviceID: String
    /// SHA-256 of the DER SubjectPublicKeyInfo of the device key the keys are wrapped to.
    public var deviceKeySHA256: [UInt8]
    /// Grows with every document the operator makes for a device; a device applies only a
    /// generation above the last one it applied.
    public var generation: UInt64
    public var issuedAt: Int
    public var expiresAt: Int
    /// How every key of the release is wrapped: fixed by the signed statement.
    public var padding: KeyWrapPadding
    /// Key name and wrapped RSA block, in statement order.
    public var keys: [(name: String, wrapped: [UInt8])]

    public init(
        deviceID: String, deviceKeySHA256: [UInt8], generation: UInt64, issuedAt: Int, expiresAt: Int, padding: KeyWrapPadding,
        keys: [(name: String, wrapped: [UInt8])]
    ) {
        (self.deviceID, self.deviceKeySHA256, self.generation) = (deviceID, deviceKeySHA256, generation)
        (self.issuedAt, self.expiresAt, self.padding, self.keys) = (issuedAt, expiresAt, padding, keys)
    }

    /// The statement's exact bytes: what the signature covers.
    public var statementText: String {
        JSONValue.object([
            (Self.versionMember, .integer(Self.version)),
            (ReportedState.deviceIDProperty, .string(deviceID)),
            ("device_public_key_sha256", .string(Hex.encode(deviceKeySHA256))),
            ("generation", .integer(generation)),
            ("issued_at", .string(Timestamp.format(secondsSinceEpoch: issuedAt))),
            ("expires_at", .string(Timestamp.format(secondsSinceEpoch: expiresAt))),
            ("algorithm", .string(padding.algorithmName)),
            ("keys", .object(keys.map { ($0.name, .string(Base64.encode($0.wrapped))) })),
        ]).compactText
    }

    /// The whole twin document, signed with `key` (`scheme`); `chain` (leaf first) goes with it
    /// so a device whose anchor is a CA can find the signer's key.
    public func signedDocument(with key: SigningKey, scheme: SignatureScheme, chain: [X509Certificate]) throws -> JSONValue {
        let statement = statementText
        let signature = try key.sign(digest: try SHA256Hasher.digest(Array(statement.utf8)), scheme: scheme)
        return .object([
            (ReportedState.deviceIDProperty, .string(deviceID)),
            ("desired", .object([
                (Self.property, .object([
                    ("statement", .string(statement)),
                    ("signature", .object([
                        ("scheme", .string(scheme.rawValue)),
                        ("value", .string(Base64.encode(signature))),
                        ("certificates", .array(chain.map { .string(Base64.encode($0.der)) })),
                    ])),
                ])),
            ])),
        ])
    }
}

/// Who a device accepts key releases from: the fleet operator's CA certificates, or its
/// pinned public key (`cpk-install trust add --fleet FILE`).
public struct FleetAnchor: Sendable {
    public let certificates: [X509Certificate]
    public let key: VerifyingKey?

    public init(certificates: [X509Certificate]) {
        (self.certificates, self.key) = (certificates, nil)
    }

    public init(key: VerifyingKey) {
        (self.certificates, self.key) = ([], key)
    }

    /// Reads an anchor file: certificates (PEM or DER), else a public key in any form.
    public init(loading bytes: [UInt8]) throws {
        if let certificates = try? X509Certificate.chain(loading: bytes) {
            self.init(certificates: certificates)
        } else {
            self.init(key: try VerifyingKey(loading: bytes))
        }
    }
}

extension CPKError.Reason {
    /// A twin document without a signed key release (an unsigned `confidential_package_keys`).
    public static let unsignedRelease = CPKError.Reason(rawValue: "fleet.unsigned-document")
    /// A key release that cannot be read: not JSON, or a member missing or of the wrong type.
    public static let malformedRelease = CPKError.Reason(rawValue: "fleet.malformed-document")
    /// The signature does not verify, or its certificate does not chain to the fleet anchor.
    public static let untrustedRelease = CPKError.Reason(rawValue: "fleet.untrusted-document")
    /// The release names another device id or another device key.
    public static let otherDeviceRelease = CPKError.Reason(rawValue: "fleet.other-device")
    /// The release's generation is not above the last one this device applied.
    public static let replayedRelease = CPKError.Reason(rawValue: "fleet.replayed-document")
    /// The release's expiry has passed.
    public static let expiredRelease = CPKError.Reason(rawValue: "fleet.expired-document")
    /// No fleet anchor is provisioned, so no release can be checked.
    public static let noFleetAnchor = CPKError.Reason(rawValue: "fleet.no-anchor")
}

extension KeyRelease {
    /// What a device checks a release against.
    public struct Expectation: Sendable {
        public var anchor: FleetAnchor
        public var deviceID: String
        public var deviceKeySHA256: [UInt8]
        /// The last generation applied, or nil when none was.
        public var lastGeneration: UInt64?
        public var time: Int

        public init(anchor: FleetAnchor, deviceID: String, deviceKeySHA256: [UInt8], lastGeneration: UInt64?, time: Int) {
            (self.anchor, self.deviceID, self.deviceKeySHA256) = (anchor, deviceID, deviceKeySHA256)
            (self.lastGeneration, self.time) = (lastGeneration, time)
        }
    }

    /// True when a twin document carries a signed release (else it is an unsigned one, or not a
    /// desired-state document at all). Looks at `properties.desired`, `desired` and the top level.
    public static func signedPlace(in json: JSONValue) -> JSONValue? {
        [json["properties"]?["desired"], json["desired"], json].compactMap { $0?[property] }.first
    }

    /// Reads and checks a signed twin document. The signature is checked over the statement's
    /// exact bytes before any member of the statement is read; then the device, key,
    /// generation and expiry. Every failure is a `checkFailed` or `invalidInput` CPKError with
    /// a fleet reason, and nothing is decrypted here.
    public init(verifying document: [UInt8], against expected: Expectation) throws {
        func malformed(_ text: String) -> CPKError { CPKError(.invalidInput, text, reason: .malformedRelease) }
        guard document.count <= Self.sizeLimit else {
            throw malformed("the document is larger than \(Self.sizeLimit) bytes")
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: document)
        } catch let error as JSONSyntaxError {
            throw malformed("the document is not JSON (\(error))")
        }
        guard let release = Self.signedPlace(in: json) else {
            if DesiredState.isUnsigned(json) {
                throw CPKError(
                    .checkFailed, "the document is not signed (confidential_package_keys without \(Self.property))",
                    reason: .unsignedRelease)
            }
            throw malformed("no \(Self.property) at properties.desired, desired or the top level")
        }
        guard case .string(let statement)? = release["statement"], let signature = release["signature"],
            case .string(let schemeName)? = signature["scheme"], case .string(let valueText)? = signature["value"]
        else { throw malformed("\(Self.property) must hold a statement and a signature (scheme, value)") }
        guard let scheme = SignatureScheme(rawValue: schemeName) else {
            throw CPKError(.checkFailed, "the release is signed with an unknown scheme", reason: .untrustedRelease)
        }
        guard let value = Base64.decode(valueText), !value.isEmpty else { throw malformed("the signature value is not base64") }
        var chain: [X509Certificate] = []
        switch signature["certificates"] {
        case nil, .null?: break
        case .array(let items)? where items.count <= 8:
            for item in items {
                guard case .string(let text) = item, let der = Base64.decode(text), let certificate = try? X509Certificate(der: der)
                else { throw malformed("the signature's certificates must be base64 DER certificates") }
                chain.append(certificate)
            }
        default: throw malformed("the signature's certificates must be an array of at most 8 base64 DER certificates")
        }
        let statementBytes = Array(statement.utf8)
        try Self.checkSignature(value, scheme: scheme, over: statementBytes, chain: chain, anchor: expected.anchor, at: expected.time)
        // Authenticated from here on: the statement is the operator's.
        try self.init(statement: statementBytes)
        guard deviceID == expected.deviceID else {
            throw CPKError(
                .checkFailed, "the release is for the device \"\(TerminalText.escaped(deviceID))\", not this one (\(expected.deviceID))",
                reason: .otherDeviceRelease)
        }
        guard deviceKeySHA256 == expected.deviceKeySHA256 else {
            throw CPKError(
                .checkFailed,
                "the release is wrapped to another key (sha256:\(Hex.encode(deviceKeySHA256).prefix(16))…), "
                    + "not this device's (sha256:\(Hex.encode(expected.deviceKeySHA256).prefix(16))…)",
                reason: .otherDeviceRelease)
        }
        if let last = expected.lastGeneration, generation <= last {
            throw CPKError(
                .checkFailed, "the release's generation \(generation) is not above the last one applied (\(last)): a replay or a rollback",
                reason: .replayedRelease)
        }
        guard expected.time < expiresAt else {
            throw CPKError(
                .checkFailed, "the release expired at \(Timestamp.format(secondsSinceEpoch: expiresAt))", reason: .expiredRelease)
        }
    }

    /// The signature over `statement` by the anchor's pinned key, or by the leaf of `chain`
    /// when that chain ends at one of the anchor's certificates (at `time`).
    static func checkSignature(
        _ signature: [UInt8], scheme: SignatureScheme, over statement: [UInt8], chain: [X509Certificate], anchor: FleetAnchor,
        at time: Int
    ) throws {
        func untrusted(_ text: String) -> CPKError { CPKError(.checkFailed, text, reason: .untrustedRelease) }
        let signer: VerifyingKey
        if let pinned = anchor.key {
            signer = pinned
        } else {
            guard let leaf = chain.first else { throw untrusted("the release carries no certificate, and the fleet anchor is a CA") }
            switch try CertificateChain.verify(
                leaf: leaf, intermediates: Array(chain.dropFirst()), anchors: anchor.certificates, at: time, allowExpired: false)
            {
            case .trusted: break
            case .untrusted(let reason): throw untrusted("the release's signer does not chain to the fleet anchor: \(reason)")
            }
            guard leaf.allowsDigitalSignature else { throw untrusted("the release's signer certificate does not allow signatures") }
            signer = try leaf.publicKey
        }
        let digest = try SHA256Hasher.digest(statement)
        guard (try? signer.requireFit(scheme)) != nil, (try? signer.verify(signature: signature, digest: digest, scheme: scheme)) == true
        else { throw untrusted("the release's signature does not verify with the fleet anchor") }
    }

    /// Reads an authenticated statement.
    init(statement bytes: [UInt8]) throws {
        func malformed(_ text: String) -> CPKError { CPKError(.invalidInput, "the release statement: " + text, reason: .malformedRelease) }
        guard let json = try? JSONValue(parsing: bytes), case .object = json else { throw malformed("not a JSON object") }
        guard json[Self.versionMember] == .integer(Self.version) else { throw malformed("\(Self.versionMember) must be \(Self.version)") }
        guard case .string(let id)? = json[ReportedState.deviceIDProperty] else { throw malformed("no device_id") }
        guard case .string(let hex)? = json["device_public_key_sha256"], let fingerprint = Hex.decode(Array(hex.utf8), ignoringWhitespace: false),
            fingerprint.count == 32
        else { throw malformed("device_public_key_sha256 must be 64 hex digits") }
        guard case .number(let generationText)? = json["generation"], let generation = UInt64(generationText) else {
            throw malformed("generation must be a whole number")
        }
        guard case .string(let issued)? = json["issued_at"], let issuedAt = CheckTime.parse(issued), Timestamp.isRFC3339(issued),
            case .string(let expires)? = json["expires_at"], let expiresAt = CheckTime.parse(expires), Timestamp.isRFC3339(expires)
        else { throw malformed("issued_at and expires_at must be RFC 3339 times") }
        guard case .string(let algorithm)? = json["algorithm"], let padding = KeyWrapPadding(algorithmName: algorithm) else {
            throw malformed("algorithm must be rsa-oaep-sha256 or rsa-pkcs1v15")
        }
        guard case .object(let entries)? = json["keys"] else { throw malformed("keys must be an object of key name to base64 wrapped key") }
        var keys: [(name: String, wrapped: [UInt8])] = []
        for (name, value) in entries {
            guard KeyName.problem(with: name) == nil, case .string(let text) = value, let wrapped = Base64.decode(text), !wrapped.isEmpty
            else { throw malformed("keys must map key names to base64 wrapped keys") }
            keys.append((name, wrapped))
        }
        self.init(
            deviceID: id, deviceKeySHA256: fingerprint, generation: generation, issuedAt: issuedAt, expiresAt: expiresAt, padding: padding,
            keys: keys)
    }
}
