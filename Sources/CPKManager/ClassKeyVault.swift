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

    /// Unwraps a class key sent to this device and keeps it, replacing an earlier one.
    func install(applicationID id: String, wrappedKey: [UInt8], padding: KeyWrapPadding = .pkcs1v15) throws {
        var key = try secrets.deviceKey.unwrap(wrappedKey, padding: padding)
        defer { wipe(&key) }
        guard key.count == AESGCM.keySize else {
            throw CPKError.invalid("the wrapped key for \"\(id)\" holds \(key.count) bytes; a class key is AES-256, 32 bytes")
        }
        var record = key + Array(id.utf8)
        defer { wipe(&record) }
        let sealed = try SealedBox.seal(record, key: try secrets.storageKey)
        try lock.withLock(exclusive: true) {
            let staging = try StagingFile(in: state, purpose: "the class key of \(id)")
            try staging.descriptor.write(sealed)
            try staging.commit(as: state.classKeyPath(for: id))
        }
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

    /// The ids with a class key file, and when each was last installed (the file's mtime).
    func installed() throws -> [(id: String, installedAt: String)] {
        try state.entries(of: StateDirectory.keys).compactMap { name in
            guard let id = StateDirectory.id(fromFileName: name, suffix: ".key") else { return nil }
            var info = stat()
            guard lstat(state.classKeyPath(for: id), &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
            return (id, Timestamp.format(secondsSinceEpoch: Int(info.st_mtim.tv_sec)))
        }
    }

    func isInstalled(_ id: String) -> Bool {
        (try? DeviceSecrets.readIfPresent(state.classKeyPath(for: id), what: "a class key")) != nil
    }
}
