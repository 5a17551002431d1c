#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKKeys
import CPKPackage

/// The device's trust policy at rest: the anchors provisioned in the state's `trust/`
/// (`cpk-install trust add`). A certificate file makes CA anchors, a public key a pinned key;
/// either vouches for every application, or only for the ids its scope file lists.
///
///     trust/<name>.crt | trust/<name>.key    the anchor, as given
///     trust/<name>.ids                       optional: a JSON array of application ids
///
/// `<name>` is derived from the anchor's bytes and its scope, so the same anchor added twice
/// with the same scope is kept once.
public enum TrustStore {
    /// One provisioned anchor, as `trust list` shows it.
    public struct Entry: Sendable {
        public let name: String
        public enum Kind: String, Sendable { case certificates = "ca", key }
        public let kind: Kind
        public let scope: TrustPolicy.Scope
        /// The certificates of a CA file (one or several), or empty for a key.
        public let certificates: [X509Certificate]
        /// The key of a key file.
        public let key: VerifyingKey?

        /// Subjects of the certificates, or the key's fingerprint, for people.
        public var subjects: [String] { certificates.map(\.subject) }

        /// Hex SHA-256 of each certificate's DER, or of the key's SubjectPublicKeyInfo.
        public var fingerprints: [String] {
            if let key { return [(try? key.fingerprint).map(Hex.encode) ?? ""] }
            return certificates.map { (try? $0.fingerprint).map(Hex.encode) ?? "" }
        }
    }

    /// Every provisioned anchor.
    public static func entries(in state: StateDirectory) throws -> [Entry] {
        try StateDirectory.entries(in: state.trustPath).compactMap { file in
            let path = state.trustPath + "/" + file
            guard let bytes = try readPrivate(path, limit: SmallInput.documentLimit) else { return nil }
            let kind: Entry.Kind
            if file.hasSuffix(".crt") {
                kind = .certificates
            } else if file.hasSuffix(".key") {
                kind = .key
            } else if file.hasSuffix(".ids") {
                return nil  // read with its anchor
            } else {
                throw CPKError.io("\(path) is not an anchor this device provisioned (NAME.crt, NAME.key, NAME.ids): remove it")
            }
            let name = String(file.dropLast(4))
            let scope = try readScope(state.trustPath + "/" + name + ".ids")
            do {
                switch kind {
                case .certificates:
                    return Entry(name: name, kind: kind, scope: scope, certificates: try X509Certificate.chain(loading: bytes), key: nil)
                case .key:
                    return Entry(name: name, kind: kind, scope: scope, certificates: [], key: try VerifyingKey(loading: bytes))
                }
            } catch let error as CPKError {
                throw CPKError.io("the trust anchor \(path) cannot be read (\(error.message)); remove it (cpk-install trust remove \(name))")
            }
        }
    }

    /// What is wrong in trust/, one line per file, by the rules an install reads it with (a
    /// symlink, FIFO, another user's or world-writable file, a file that is no anchor, an
    /// anchor or scope that does not parse): any of them makes every install fail.
    public static func problems(in state: StateDirectory) throws -> [String] {
        var problems: [String] = []
        for file in try StateDirectory.entries(in: state.trustPath) {
            let path = state.trustPath + "/" + file
            do {
                guard let bytes = try readPrivate(path, limit: SmallInput.documentLimit) else { continue }
                if file.hasSuffix(".crt") {
                    _ = try X509Certificate.chain(loading: bytes)
                } else if file.hasSuffix(".key") {
                    _ = try VerifyingKey(loading: bytes)
                } else if file.hasSuffix(".ids") {
                    _ = try readScope(path)
                } else {
                    problems.append("\(path) is not an anchor this device provisioned (NAME.crt, NAME.key, NAME.ids): remove it")
                }
            } catch let error as CPKError {
                let message = error.message.hasPrefix(path) ? error.message : "\(path): \(error.message)"
                problems.append(message)
            }
        }
        return problems
    }

    /// Adds the provisioned anchors to `policy`.
    public static func add(in state: StateDirectory, to policy: inout TrustPolicy) throws {
        for entry in try entries(in: state) {
            policy.anchors += entry.certificates.map { TrustPolicy.Anchor($0, scope: entry.scope) }
            if let key = entry.key { policy.pinnedKeys.append(TrustPolicy.PinnedKey(key, scope: entry.scope)) }
        }
    }

    /// Provisions an anchor file (certificates, or a public key in any form) for `scope`;
    /// returns the new entry.
    @discardableResult
    public static func provision(_ bytes: [UInt8], name source: String, scope: TrustPolicy.Scope, in state: StateDirectory) throws
        -> Entry
    {
        let certificates = try? X509Certificate.chain(loading: bytes)
        var key: VerifyingKey? = nil
        if certificates == nil {
            do {
                key = try VerifyingKey(loading: bytes)
            } catch let error as CPKError {
                throw CPKError.invalid("\(source) is neither certificates nor a public key: \(error.message)")
            }
        }
        let ids: [String]
        switch scope {
        case .anyApplication: ids = []
        case .applications(let list): ids = Array(Set(list)).sorted()
        }
        for id in ids { try PackageManagerSimulator.checkID(id) }
        let scopeText = ids.isEmpty ? nil : JSONValue.array(ids.map { .string($0) }).compactText
        let name = String(Hex.encode(try SHA256Hasher.digest(bytes + Array((scopeText ?? "").utf8))).prefix(16))
        if let scopeText { try StateDirectory.writePrivateFile(Array((scopeText + "\n").utf8), to: state.trustPath + "/" + name + ".ids") }
        try StateDirectory.writePrivateFile(bytes, to: state.trustPath + "/" + name + (certificates == nil ? ".key" : ".crt"))
        let kind: Entry.Kind = certificates == nil ? .key : .certificates
        return Entry(
            name: name, kind: kind, scope: ids.isEmpty ? .anyApplication : .applications(ids), certificates: certificates ?? [], key: key)
    }

    /// Removes a provisioned anchor and its scope.
    public static func remove(named name: String, in state: StateDirectory) throws {
        guard let entry = try entries(in: state).first(where: { $0.name == name }) else {
            throw CPKError.usage("no trust anchor named \"\(name)\" (see cpk-install trust list)")
        }
        let file = state.trustPath + "/" + name + (entry.kind == .key ? ".key" : ".crt")
        guard unlink(file) == 0 else { throw FileDescriptor.systemError("cannot remove the trust anchor \(name)") }
        _ = unlink(state.trustPath + "/" + name + ".ids")
    }

    /// An anchor decides who is trusted: only a regular file this user wrote counts (see
    /// `StateDirectory.openPrivateFile`); nil when there is no such file.
    private static func readPrivate(_ path: String, limit: Int) throws -> [UInt8]? {
        try StateDirectory.readPrivateFile(path, limit: limit, what: "the trust anchor", tooLarge: "it is not a trust anchor: remove it")
    }

    private static func readScope(_ path: String) throws -> TrustPolicy.Scope {
        guard let bytes = try readPrivate(path, limit: 1 << 20) else { return .anyApplication }
        guard case .array(let values)? = try? JSONValue(parsing: bytes) else {
            throw CPKError.io("\(path) is not a JSON array of application ids; remove the anchor and add it again")
        }
        let ids = values.compactMap { value -> String? in
            if case .string(let id) = value { return id }
            return nil
        }
        guard ids.count == values.count, !ids.isEmpty else {
            throw CPKError.io("\(path) is not a JSON array of application ids; remove the anchor and add it again")
        }
        return .applications(ids)
    }
}
