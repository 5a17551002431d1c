import CPKCore
import CPKCrypto
import CPKKeys

/// `cpk-install add-key`: a wrapped class key, as a document or bare, checked against this
/// device and installed (install_application_key). A document names its key (KeyName rules)
/// and the public key it is wrapped to, which must be the device's; a bare key needs the
/// application id.
public struct ClassKeyInstallation: Sendable {
    public let applicationID: String
    /// document, or bare (base64 or raw)
    public let form: String
    public let padding: KeyWrapPadding
    public let deviceKeySHA256: [UInt8]

    /// - Parameter id: the application id the key belongs to; a document must agree with it.
    /// A document wrapped with RSA-OAEP-SHA256 goes to `install_application_key_rsa_oaep_sha256`
    /// when the Package Manager has that call (`is_operation_supported`); a bare key is the
    /// reference contract's, PKCS#1 v1.5.
    public static func install(
        _ bytes: [UInt8], id: String?, into manager: some PackageManagerContract & PaddedKeyInstallation
    ) throws -> ClassKeyInstallation {
        let device = try PublicKey(loading: try manager.exportDevicePublicKey())
        let fingerprint = try device.fingerprint
        let name: String
        let wrapped: [UInt8]
        let form: String
        var padding = KeyWrapPadding.pkcs1v15
        switch try WrappedKeyInput(parsing: bytes) {
        case .document(let document):
            name = try document.resolvedName(expecting: id)
            if document.padding == .oaepSHA256 {
                guard try manager.isOperationSupported(ContractOperation.installApplicationKeyRSAOAEPSHA256.rawValue) else {
                    throw CPKError(
                        .invalidInput,
                        "the key is wrapped with \(document.padding.algorithmName); this Package Manager takes RSA PKCS#1 v1.5 only",
                        reason: .devicePaddingNeeded)
                }
                padding = .oaepSHA256
            }
            guard document.wrappingKeySHA256 == fingerprint else {
                throw CPKError.check(
                    "the key \"\(document.keyName)\" is wrapped to another public key (sha256:\(Hex.encode(document.wrappingKeySHA256).prefix(16))…), "
                        + "not to this device's (sha256:\(Hex.encode(fingerprint).prefix(16))…); fetch it for this device")
            }
            (wrapped, form) = (document.wrapped, "document")
        case .bare(let bare):
            guard let id else {
                throw CPKError(.usage, "a bare wrapped key does not name its application", reason: .applicationIDNeeded)
            }
            name = id
            wrapped = try WrappedKey(received: bare, named: id, to: device, padding: .pkcs1v15, from: "the wrapped key").wrapped
            form = "bare"
        }
        if padding == .pkcs1v15 {
            try manager.installApplicationKey(applicationID: name, wrappedKey: wrapped)
        } else {
            try manager.installApplicationKey(applicationID: name, wrappedKey: wrapped, padding: padding)
        }
        return ClassKeyInstallation(applicationID: name, form: form, padding: padding, deviceKeySHA256: fingerprint)
    }

    /// `add-key --json`: what was installed; never the key.
    public var json: JSONValue {
        .object([
            ("installed", .string(applicationID)), ("form", .string(form)), ("padding", .string(padding.rawValue)),
            ("device-key-sha256", .string(Hex.encode(deviceKeySHA256))),
        ])
    }
}

extension StateCheckReport {
    /// `check-state`'s line: the counts, then the verdict.
    public var summaryLine: String {
        "\(applications.count) applications, \(classKeys.count) class keys, \(stagingInUse) staging files in use: "
            + (isConsistent ? "consistent" : "NOT consistent")
    }

    /// `check-state --json`: member names and order are stable.
    public var json: JSONValue {
        .object([
            ("consistent", .bool(isConsistent)),
            ("applications", .array(applications.map { .string($0) })),
            ("class-keys", .array(classKeys.map { .string($0) })),
            ("staging-in-use", .integer(stagingInUse)),
            ("problems", .array(problems.map { .string($0) })),
        ])
    }
}

extension TrustStore.Entry {
    /// The anchor's scope in words.
    public var scopeText: String {
        switch scope {
        case .anyApplication: return "every application"
        case .applications(let ids): return ids.joined(separator: ", ")
        }
    }

    /// `trust list --json`: member names and order are stable; `ids` is null for every application.
    public var json: JSONValue {
        let ids: JSONValue
        switch scope {
        case .anyApplication: ids = .null
        case .applications(let list): ids = .array(list.map { .string($0) })
        }
        return .object([
            ("name", .string(name)), ("kind", .string(kind.rawValue)), ("ids", ids),
            ("subjects", .array(subjects.map { .string($0) })),
            ("sha256", .array(fingerprints.map { .string($0) })),
        ])
    }

    /// `trust list`'s lines for this anchor: name, kind, scope; then each subject and fingerprint.
    public var lines: [String] {
        var lines = ["\(name)  \(kind.rawValue)  for \(scopeText)"]
        for (index, fingerprint) in fingerprints.enumerated() {
            let subject = index < subjects.count ? subjects[index] : "public key"
            lines.append("  \(subject)  sha256:\(fingerprint)")
        }
        return lines.map(TerminalText.escaped)
    }
}
