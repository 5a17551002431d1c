#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKFormat
import CPKPackage

/// An installed application at rest: the plaintext re-encrypted with AES-256-GCM under the
/// device's storage key and a fresh nonce, so the stored bytes are neither the plaintext nor
/// the shipped ciphertext, followed by its record, sealed under the same key:
///
///     "CPKAPP\0\1"  payload ciphertext (N bytes)  sealed record (nonce ‖ JSON ‖ tag)  N (u64 LE)  record size (u32 LE)
///
/// The record names the id, what the manifest said, the plaintext's size and SHA-256, and the
/// payload's nonce and tag; because it is sealed, none of it can be altered unnoticed, and a
/// file copied under another id's name is refused.
enum ApplicationFile {
    static let magic: [UInt8] = Array("CPKAPP".utf8) + [0, 1]
    static let trailerSize = 12
    static let recordLimit = 1 << 20

    struct Record: Equatable {
        var application: InstalledApplication
        var nonce: [UInt8]
        var tag: [UInt8]
    }

    // MARK: writing

    static func writeTrailer(record: Record, payloadSize: UInt64, storageKey: [UInt8], to file: FileDescriptor) throws {
        let sealed = try SealedBox.seal(Array(recordJSON(record).compactText.utf8), key: storageKey)
        var trailer = sealed
        withUnsafeBytes(of: payloadSize.littleEndian) { trailer += $0 }
        withUnsafeBytes(of: UInt32(sealed.count).littleEndian) { trailer += $0 }
        try file.write(trailer)
    }

    static func recordJSON(_ record: Record) -> JSONValue {
        let app = record.application
        let version = app.description.version
        return .object([
            ("cpk-installed-application", .integer(1)),
            ("id", .string(app.id)),
            ("name", .string(app.description.name)),
            ("vendor", .string(app.description.vendor)),
            ("arch", .string(app.description.target.arch)),
            ("os", .string(app.description.target.os)),
            ("ver", .object([
                ("maj", .integer(version.major)), ("min", .integer(version.minor)), ("rev", .integer(version.revision)),
                ("date", .string(version.date)),
            ])),
            ("size", .integer(app.size)),
            ("installed-at", .string(app.installedAt)),
            ("signer", app.description.provenance.signer.map { .string($0) } ?? .null),
            ("signer-authority", authorityJSON(app.description.provenance.signerIdentity)),
            ("manifest-authenticated", .bool(app.description.provenance.manifestAuthenticated)),
            ("floor", .object([
                ("maj", .integer(app.rollbackFloor.major)), ("min", .integer(app.rollbackFloor.minor)),
                ("rev", .integer(app.rollbackFloor.revision)),
            ])),
            ("authenticated-floor", app.authenticatedFloor.map { floor in
                .object([("maj", .integer(floor.major)), ("min", .integer(floor.minor)), ("rev", .integer(floor.revision))])
            } ?? .null),
            ("sha256", .string(Hex.encode(app.sha256))),
            ("nonce", .string(Hex.encode(record.nonce))),
            ("tag", .string(Hex.encode(record.tag))),
        ])
    }

    /// What vouched for the signer: `{"anchor-sha256", "anchor", "names"}` or `{"pinned-key-sha256"}`.
    static func authorityJSON(_ identity: SignerContinuity?) -> JSONValue {
        let key: JSONValue = identity?.keySHA256.map { .string($0) } ?? .null
        switch identity?.authority {
        case nil: return .null
        case .pinnedKey(let sha256)?: return .object([("pinned-key-sha256", .string(sha256)), ("key-sha256", key)])
        case .anchor(let sha256, let names)?:
            return .object([
                ("anchor-sha256", .string(sha256)), ("anchor", identity?.anchorSubject.map { .string($0) } ?? .null),
                ("names", .array(names.map { .string($0) })), ("key-sha256", key),
            ])
        }
    }

    static func parseAuthority(_ value: JSONValue) throws -> (SignerContinuity.Authority, String?) {
        let bad = CPKError.invalid("bad record")
        if case .string(let sha256)? = value["pinned-key-sha256"] { return (.pinnedKey(sha256: sha256), nil) }
        guard case .string(let sha256)? = value["anchor-sha256"], case .array(let values)? = value["names"] else { throw bad }
        let names = try values.map { value -> String in
            guard case .string(let name) = value else { throw bad }
            return name
        }
        var subject: String? = nil
        if case .string(let text)? = value["anchor"] { subject = text }
        return (.anchor(sha256: sha256, names: names), subject)
    }

    // MARK: history

    /// What a removal keeps of `application`: the authenticated floor and the signer, and the
    /// version for messages; nil when no trust policy decided anything about it. The
    /// development floor is not kept: it never bound under a trust policy, and in development
    /// mode a removal forgets it as it always did.
    static func history(of application: InstalledApplication) -> InstalledApplication? {
        guard application.description.provenance.signer != nil || application.authenticatedFloor != nil else { return nil }
        var kept = application
        kept.rollbackFloor = RollbackPolicy.noFloor
        kept.size = 0
        kept.sha256 = []
        return kept
    }

    /// Writes a history: the record's JSON sealed under the storage key, mode 0600, by rename.
    static func writeHistory(_ application: InstalledApplication, storageKey: [UInt8], to path: String) throws {
        let json = recordJSON(Record(application: application, nonce: [], tag: []))
        let sealed = try SealedBox.seal(Array(json.compactText.utf8), key: storageKey)
        let output = try OutputFile(path: path, binary: true, mode: 0o600)
        try output.descriptor.write(sealed)
        try output.commit()
    }

    /// The history of `id`, or nil when there is none.
    static func openHistory(_ path: String, id: String, storageKey: [UInt8]) throws -> InstalledApplication? {
        guard let file = try StateDirectory.openPrivateFile(path) else { return nil }
        let damaged = CPKError.io(
            "what the removal of \"\(id)\" kept (\(path)) is damaged or not sealed by this device; "
                + "forget it (cpk-install remove \(id), forgetting its history) to install it again")
        let size = try file.status().size
        guard size <= UInt64(recordLimit) else { throw damaged }
        var sealed = [UInt8](repeating: 0, count: Int(size))
        try sealed.withUnsafeMutableBytes { try file.read(into: $0, at: 0, what: "the application's history") }
        guard let json = try SealedBox.open(sealed, key: storageKey), let record = try? parseRecord(JSONValue(parsing: json)),
            record.application.id == id
        else { throw damaged }
        return record.application
    }

    // MARK: reading

    /// An installed application file opened and its record checked.
    struct Opened {
        let file: FileDescriptor
        let record: Record
        var payloadOffset: UInt64 { UInt64(ApplicationFile.magic.count) }
    }

    /// Opens the file of `id`, or returns nil when none is installed.
    static func open(_ path: String, id: String, storageKey: [UInt8]) throws -> Opened? {
        guard let file = try StateDirectory.openPrivateFile(path) else { return nil }
        return Opened(file: file, record: try readRecord(file, id: id, storageKey: storageKey))
    }

    private static func readRecord(_ file: FileDescriptor, id: String, storageKey: [UInt8]) throws -> Record {
        let damaged = CPKError.io(
            "the stored application \"\(id)\" (\(file.name)) is damaged or not sealed by this device; "
                + "remove it (cpk-install remove \(id)) and install it again")
        let size = try file.status().size
        guard size >= UInt64(magic.count + trailerSize) else { throw damaged }
        var head = [UInt8](repeating: 0, count: magic.count)
        var trailer = [UInt8](repeating: 0, count: trailerSize)
        try head.withUnsafeMutableBytes { try file.read(into: $0, at: 0, what: "the stored application") }
        try trailer.withUnsafeMutableBytes { try file.read(into: $0, at: size - UInt64(trailerSize), what: "the stored application") }
        let payloadSize = trailer[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let sealedSize = trailer[8..<12].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard head == magic, sealedSize <= UInt64(recordLimit), payloadSize <= size,
            UInt64(magic.count) + payloadSize + sealedSize + UInt64(trailerSize) == size
        else { throw damaged }
        var sealed = [UInt8](repeating: 0, count: Int(sealedSize))
        try sealed.withUnsafeMutableBytes {
            try file.read(into: $0, at: UInt64(magic.count) + payloadSize, what: "the stored application")
        }
        guard let json = try SealedBox.open(sealed, key: storageKey),
            let record = try? parseRecord(JSONValue(parsing: json)),
            record.application.id == id, record.application.size == payloadSize
        else { throw damaged }
        return record
    }

    static func parseRecord(_ json: JSONValue) throws -> Record {
        func text(_ value: JSONValue?) throws -> String {
            guard case .string(let text)? = value else { throw CPKError.invalid("bad record") }
            return text
        }
        func number<T: FixedWidthInteger>(_ value: JSONValue?) throws -> T {
            guard case .number(let literal)? = value, let number = T(literal) else { throw CPKError.invalid("bad record") }
            return number
        }
        func hexBytes(_ value: JSONValue?) throws -> [UInt8] {
            guard let bytes = Hex.decode(Array(try text(value).utf8), ignoringWhitespace: false) else {
                throw CPKError.invalid("bad record")
            }
            return bytes
        }
        guard (try number(json["cpk-installed-application"]) as Int) == 1, let ver = json["ver"] else {
            throw CPKError.invalid("bad record")
        }
        let version = Version(
            major: try number(ver["maj"]), minor: try number(ver["min"]), revision: try number(ver["rev"]),
            date: try text(ver["date"]))
        // Records written before signer provenance was kept have none of these three fields.
        var signer: String? = nil
        if let value = json["signer"], value != .null { signer = try text(value) }
        // Records written before issue 24 have no authority: the signer is known by its text only.
        var signerIdentity: SignerContinuity? = nil
        if let signer, let value = json["signer-authority"], value != .null {
            let (authority, anchor) = try parseAuthority(value)
            var key: String? = nil
            if case .string(let text)? = value["key-sha256"] { key = text }
            signerIdentity = SignerContinuity(text: signer, authority: authority, anchorSubject: anchor, keySHA256: key)
        }
        var authenticated = false
        if let value = json["manifest-authenticated"] {
            guard case .bool(let flag) = value else { throw CPKError.invalid("bad record") }
            authenticated = flag
        }
        func floorVersion(_ value: JSONValue) throws -> Version {
            Version(major: try number(value["maj"]), minor: try number(value["min"]), revision: try number(value["rev"]), date: "")
        }
        let floor = try json["floor"].map(floorVersion)
        // Records written before the authenticated floor was kept apart: one installed under a
        // trust policy (it names a signer) had its floor moved by authenticated versions only;
        // one installed in development mode had none.
        let authenticatedFloor: Version?
        switch json["authenticated-floor"] {
        case .some(.null): authenticatedFloor = nil
        case .some(let value): authenticatedFloor = try floorVersion(value)
        case .none: authenticatedFloor = signer != nil ? floor ?? version : nil
        }
        let description = ApplicationDescription(
            name: try text(json["name"]), vendor: try text(json["vendor"]),
            target: Target(arch: try text(json["arch"]), os: try text(json["os"])), version: version,
            provenance: Provenance(
                signer: signer, manifestAuthenticated: authenticated, setsRollbackFloor: true, signerIdentity: signerIdentity))
        let application = InstalledApplication(
            id: try text(json["id"]), description: description, size: try number(json["size"]),
            installedAt: try text(json["installed-at"]), sha256: try hexBytes(json["sha256"]), rollbackFloor: floor,
            authenticatedFloor: authenticatedFloor)
        return Record(application: application, nonce: try hexBytes(json["nonce"]), tag: try hexBytes(json["tag"]))
    }
}
