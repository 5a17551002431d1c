import CPKCore
import CPKEnvelope
import CPKFormat

/// What `cpk-unpack` tells about a package, for people (text) and scripts (JSON).
public struct PackageSummary {
    public struct StreamInfo {
        public let index: Int
        public let role: StreamRole
        /// Offset from the origin, as the stream table holds it; nil in an envelope.
        public let offset: UInt64?
        public let size: UInt64

        public var json: JSONValue {
            .object([
                ("index", .integer(index)), ("role", .string(role.rawValue)),
                ("offset", offset.map { .integer($0) } ?? .null), ("size", .integer(size)),
            ])
        }
    }

    public let kind: InputKind
    public let manifest: Manifest
    public let payloadSize: UInt64
    public let streams: [StreamInfo]
    public let payloadDigest: [UInt8]?
    /// The class key's check value the package records (docs/format.md §4.1), if any.
    public let keyCheckValue: [UInt8]?
    public let log: [LogEntry]
    /// Signature streams awaiting an offline signature (`cpk-sign prepare`).
    public let pendingSignatures: [Int]

    /// Reads the package to its end (an envelope must be read whole to be known complete).
    public init(reading input: PackageInput) throws {
        let head = input.head
        manifest = head.manifest
        log = input.log
        pendingSignatures = head.pendingSignatures
        var payloadSize: UInt64 = 0
        let file = input as? PackageFileInput
        if let file {
            payloadSize = file.package.entries[manifest.payload.data].size
        } else {
            while let chunk = try input.nextPayloadChunk() { payloadSize += UInt64(chunk.count) }
        }
        self.payloadSize = payloadSize
        let deferred = try input.deferredStreams()
        kind = file == nil ? .envelope : .cpk
        var roles = manifest.roles(streamCount: head.streams.count, manifestIndex: head.manifestIndex)
        if let index = head.keyCheckIndex { roles[index] = .keyCheck }
        var sizes = head.streamSizes
        sizes[manifest.payload.data] = payloadSize
        streams = head.streams.indices.map { index in
            StreamInfo(
                index: index, role: roles[index], offset: file?.package.entries[index].offset, size: sizes[index] ?? 0)
        }
        keyCheckValue = head.keyCheckValue
        payloadDigest = manifest.payload.digest.stream.flatMap { index in
            if case .bytes(let bytes) = head.streams[index] { return bytes }
            return deferred[index]
        }
    }

    public var json: JSONValue {
        .object([
            ("format", .string(kind.rawValue)),
            ("id", .string(manifest.id)),
            ("name", .string(manifest.name)),
            ("vendor", .string(manifest.vendor)),
            ("target", .object([("arch", .string(manifest.payload.target.arch)), ("os", .string(manifest.payload.target.os))])),
            ("version", .string(manifest.payload.version.dotted)),
            ("date", .string(manifest.payload.version.date)),
            ("payload-size", .integer(payloadSize)),
            ("encryption", encryptionJSON),
            ("payload-digest", payloadDigest.map { .string(hex($0)) } ?? .null),
            ("key-check", keyCheckValue.map { .string(hex($0)) } ?? .null),
            ("payload-signature", .string(describe(manifest.payload.signature))),
            ("payload-certificate", .string(describe(manifest.payload.certificate))),
            ("package-signature", .string(describe(manifest.package.signature))),
            ("pending-signatures", .array(pendingSignatures.map { .integer($0) })),
            ("streams", .array(streams.map(\.json))),
            ("log", .array(log.map { .object([("tool", .string($0.tool)), ("action", .string($0.action)), ("time", .string($0.time))]) })),
        ])
    }

    public var text: String {
        var lines = [
            "Package:            \(manifest.id) (\(kind == .cpk ? ".cpk" : "envelope"), \(streams.count) streams)",
            "Name:               \(manifest.name)",
            "Vendor:             \(manifest.vendor)",
            "Target:             \(manifest.payload.target.arch) / \(manifest.payload.target.os)",
            "Version:            \(manifest.payload.version.dotted) (\(manifest.payload.version.date))",
            "Payload:            \(payloadSize) bytes, \(encryptionText)",
            "Payload digest:     \(payloadDigest.map { "sha256 \(hex($0))" } ?? "none")",
        ]
        if let keyCheckValue { lines.append("Key check value:    \(hex(keyCheckValue))") }
        lines += [
            "Payload signature:  \(describe(manifest.payload.signature))\(pendingNote(manifest.payload.signature))",
            "Certificate:        \(describe(manifest.payload.certificate))",
            "Package signature:  \(describe(manifest.package.signature))\(pendingNote(manifest.package.signature))",
        ]
        for entry in log { lines.append("Step:               \(entry.time) \(entry.tool): \(entry.action)") }
        // Every line quotes the package (id, name, vendor, log, URLs): one line each, escaped.
        return lines.map(TerminalText.escaped).joined(separator: "\n")
    }

    private var encryptionText: String {
        switch manifest.payload.encryption {
        case .none: return "not encrypted"
        case .aesGCM(let keyName, let bits, _, _): return "AES-\(bits)-GCM with key \"\(keyName)\""
        }
    }

    private var encryptionJSON: JSONValue {
        switch manifest.payload.encryption {
        case .none: return .string("none")
        case .aesGCM(let keyName, let bits, _, _):
            return .object([("scheme", .string("aes-gcm")), ("key-name", .string(keyName)), ("key-strength", .integer(bits))])
        }
    }

    private func pendingNote(_ signature: Signature) -> String {
        guard let index = signature.stream, pendingSignatures.contains(index) else { return "" }
        return ", pending: awaits an offline signature (cpk-sign stitch)"
    }

    private func describe(_ signature: Signature) -> String {
        switch signature {
        case .none: return "none"
        case .rsaPKCS1v15(let bits, _), .rsaPSS(let bits, _): return "\(signature.schemeName) (\(bits)-bit)"
        case .ecdsaP256, .ecdsaP384, .ed25519: return signature.schemeName
        }
    }

    private func describe(_ certificate: Certificate) -> String {
        switch certificate {
        case .none: return "none"
        case .targetDomain(let domain): return "for domain \(domain)"
        case .url(let url): return "at \(url)"
        case .x509PEM: return "embedded X.509 (PEM)"
        case .x509DER: return "embedded X.509 (DER)"
        case .publicKeyPEM: return "embedded public key (PEM)"
        case .publicKeyDER: return "embedded public key (DER)"
        }
    }
}

extension PackageSummary {
    /// `cpk-unpack list`'s text: a header, then one line per stream (index, role, offset in a
    /// .cpk or "-", size), in aligned columns.
    public var streamTable: String {
        func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, width - text.count))
            return right ? fill + text : text + fill
        }
        var lines = ["INDEX  ROLE                 OFFSET        SIZE"]
        for stream in streams {
            let offset = stream.offset.map { String($0) } ?? "-"
            lines.append(
                pad(String(stream.index), 5) + "  " + pad(stream.role.rawValue, 19) + "  "
                    + pad(offset, 12, right: true) + "  " + pad(String(stream.size), 10, right: true))
        }
        return lines.joined(separator: "\n")
    }
}

/// `cpk-unpack extract`: the bytes of one stream. An unencrypted payload is released only once
/// its digest checks (as `PayloadRelease` does); an encrypted one is written as ciphertext.
public enum StreamExtraction {
    /// - Parameter path: the output (`-` for standard output), opened once the index is known good.
    public static func write(stream index: Int, of package: PackageInput, to path: String) throws {
        let head = package.head
        guard head.streams.indices.contains(index) else {
            throw CPKError.usage("\(package.name) has no stream \(index); it has streams 0 to \(head.streams.count - 1)")
        }
        let file = try OutputFile(path: path, binary: true)
        switch head.streams[index] {
        case .payload where head.manifest.payload.encryption == .none:
            try PayloadRelease.release(from: package, to: file)
            return
        case .payload:
            while let chunk = try package.nextPayloadChunk() { try file.descriptor.write(chunk) }
            _ = try package.deferredStreams()
        case .bytes(let bytes):
            try file.descriptor.write(bytes)
        case .manifest:
            try file.descriptor.write(head.manifestBytes)
        case .deferred:
            try file.descriptor.write(try package.deferredStreams()[index] ?? [])
        }
        try file.commit()
    }
}
