#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto

/// The class keys installed in the simulator, one per application id, each sealed under the
/// storage key together with its id (so a key file renamed to another id does not open).
struct ClassKeyVault {
    let state: StateDirectory
    let lock: StateLock
    let secrets: DeviceSecrets

    /// Unwraps a class key sent to this device and keeps it, replacing an earlier one. Every
    /// failure to unwrap, whatever its cause, is the one `unwrapFailure` answer; a PKCS#1 v1.5
    /// block is unwrapped with implicit rejection, so a bad one installs a key that opens
    /// nothing (the later tag check fails) instead of answering differently (docs/keys.md §1).
    func install(applicationID id: String, wrappedKey: [UInt8], padding: KeyWrapPadding = .pkcs1v15) throws {
        var key: [UInt8]
        switch padding {
        case .pkcs1v15:
            var secret = try rejectionSecret()
            defer { wipe(&secret) }
            key = try secrets.deviceKey.unwrapPKCS1v15(wrappedKey, length: AESGCM.keySize, rejectionSecret: secret)
        case .oaepSHA256:
            key = try secrets.deviceKey.unwrap(wrappedKey, padding: padding)
            guard key.count == AESGCM.keySize else {
                wipe(&key)
                throw RSAPrivateKey.unwrapFailure(padding)
            }
        }
        defer { wipe(&key) }
        var record = key + Array(id.utf8)
        defer { wipe(&record) }
        let sealed = try SealedBox.seal(record, key: try secrets.storageKey)
        try lock.withLock(exclusive: true) {
            let staging = try StagingFile(in: state, purpose: "the class key of \(id)")
            try staging.descriptor.write(sealed)
            try staging.commit(as: state.classKeyPath(for: id))
        }
    }

    /// The implicit-rejection secret: derived from the storage key, which only this device
    /// holds, and used for nothing else.
    private func rejectionSecret() throws -> [UInt8] {
        try HMACSHA256.mac(key: try secrets.storageKey, data: Array("cpk device: pkcs1v15 implicit rejection".utf8))
    }

    /// The class key of `id`; the caller wipes it. Throws a failed check when there is none.
    func key(for id: String) throws -> [UInt8] {
        let path = state.classKeyPath(for: id)
        guard let sealed = try DeviceSecrets.readIfPresent(path, what: "the class key of \"\(id)\"") else {
            throw CPKError(
                .checkFailed, "Class key check FAILED: no class key is installed for \"\(id)\"; sync it first",
                reason: .classKeyMissing, subject: id)
        }
        guard var record = try SealedBox.open(sealed, key: try secrets.storageKey),
            record.count >= AESGCM.keySize, Array(record[AESGCM.keySize...]) == Array(id.utf8)
        else {
            throw CPKError.check(
                "Class key check FAILED: the stored class key of \"\(id)\" is damaged or not sealed by this device; sync it again")
        }
        defer { wipe(&record) }
        return Array(record[..<AESGCM.keySize])
    }

    /// The ids with a class key file, and when each was last installed (the file's mtime). A
    /// file named by hash (a long id) is opened to learn its id; one that does not open is left out.
    func installed() throws -> [(id: String, installedAt: String)] {
        try state.entries(of: StateDirectory.keys).compactMap { name in
            guard let id = try id(ofFile: name) else { return nil }
            var info = stat()
            guard lstat(state.classKeyPath(for: id), &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
            return (id, Timestamp.format(secondsSinceEpoch: Int(info.st_mtim.tv_sec)))
        }
    }

    /// The id a file of keys/ holds the key of: from its name, or for a name made from a hash
    /// (`StateDirectory.hashedPrefix`), from the sealed record; nil when it is neither.
    func id(ofFile name: String) throws -> String? {
        if let id = StateDirectory.id(fromFileName: name, suffix: ".key") { return id }
        guard name.hasPrefix(StateDirectory.hashedPrefix), name.hasSuffix(".key"),
            let sealed = try? DeviceSecrets.readIfPresent(state.path + "/" + StateDirectory.keys + "/" + name, what: "a class key"),
            var record = try SealedBox.open(sealed, key: try secrets.storageKey), record.count > AESGCM.keySize
        else { return nil }
        defer { wipe(&record) }
        let id = String(decoding: record[AESGCM.keySize...], as: UTF8.self)
        return state.classKeyPath(for: id).hasSuffix("/" + name) ? id : nil
    }

    func isInstalled(_ id: String) -> Bool {
        (try? DeviceSecrets.readIfPresent(state.classKeyPath(for: id), what: "a class key")) != nil
    }
}
