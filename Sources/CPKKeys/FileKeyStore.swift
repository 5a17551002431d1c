#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto

/// The size of every class key: AES-256.
public let classKeySize = 32

/// A development key store: a JSON object mapping key names to base64 of raw AES-256 keys,
/// e.g. `test.json` or Confidential Containers' `aa-offline_fs_kbc-keys.json`.
///
/// Messages name keys and files but never print a key's value.
public struct FileKeyStore {
    public let path: String
    /// The store's entries in file order, values unchecked until asked for.
    public private(set) var entries: [(name: String, value: JSONValue)]

    /// Reads and parses the store; every entry's value is checked only when it is used, so one
    /// bad entry does not hide the others.
    public init(path: String) throws {
        self.path = path
        let bytes = try SmallInput.read(path, limit: SmallInput.documentLimit, what: "the key store")
        entries = try Self.parse(bytes, path: path)
    }

    private init(path: String, entries: [(name: String, value: JSONValue)]) {
        self.path = path
        self.entries = entries
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> [(name: String, value: JSONValue)] {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: bytes)
        } catch let error as JSONSyntaxError {
            throw CPKError.invalid("\(path): not JSON (\(error)); a key store is {\"name\": \"<base64 key>\", ...}")
        }
        guard case .object(let members) = json else {
            throw CPKError.invalid("\(path): a key store must be a JSON object mapping key names to base64 keys")
        }
        return members.map { (name: $0.0, value: $0.1) }
    }

    /// The raw key stored under `name` (or another spelling of the same KBS resource).
    public func key(named name: String) throws -> [UInt8] {
        try KeyName.validate(name)
        guard let stored = try KeyName.match(name, in: entries.map(\.name)),
            let entry = entries.first(where: { $0.name == stored })
        else {
            throw CPKError.invalid("\(path) has no key named \"\(name)\"")
        }
        return try Self.decodeKey(entry.value, name: stored, path: path)
    }

    static func decodeKey(_ value: JSONValue, name: String, path: String) throws -> [UInt8] {
        guard case .string(let text) = value else {
            throw CPKError.invalid("\(path): the value of \"\(name)\" must be a base64 string")
        }
        guard let key = Base64.decode(text) else {
            throw CPKError.invalid("\(path): the value of \"\(name)\" is not valid base64")
        }
        guard key.count == classKeySize else {
            throw CPKError.invalid("\(path): the value of \"\(name)\" is \(key.count) bytes; an AES-256 key is \(classKeySize)")
        }
        return key
    }

    /// Adds a key, or replaces one when `force` is set, and rewrites the store atomically with
    /// mode 0600; the other entries keep their order and values. A missing store is created.
    /// - Returns: the name the key is stored under (KBS URIs are stored as `repo/type/tag`).
    @discardableResult
    public static func provision(_ key: [UInt8], named name: String, path: String, force: Bool) throws -> String {
        try KeyName.validate(name)
        guard key.count == classKeySize else { throw CPKError.usage("a class key is \(classKeySize) bytes") }
        guard path != "-" else {
            throw CPKError.usage("provision needs the key store's file name: rewriting it to standard output would print keys")
        }
        // Read, change, rewrite is one step for concurrent provisions into this store: without
        // the lock, two processes read the same old store and the later rename drops the
        // other's key.
        let lock = try StoreLock(beside: path)
        defer { withExtendedLifetime(lock) {} }
        // Opened first: a FIFO or symlink planted at the store's name is refused before the
        // store is read (a FIFO would block) or a key is made.
        let output = try OutputFile(path: path, binary: false, secret: true)
        var store = try existing(path: path)
        let stored = KeyName.canonical(name)
        let value = JSONValue.string(Base64.encode(key))
        if let existing = try KeyName.match(name, in: store.entries.map(\.name)) {
            guard force else {
                throw CPKError(.usage, "\(path) already has a key named \"\(existing)\"", reason: .keyExists)
            }
            store.entries = store.entries.map { $0.name == existing ? (name: existing, value: value) : $0 }
        } else {
            store.entries.append((name: stored, value: value))
        }
        try store.write(to: output)
        return stored
    }

    /// The store at `path`, or an empty one if there is no file yet.
    private static func existing(path: String) throws -> FileKeyStore {
        if access(path, F_OK) != 0 && errno == ENOENT { return FileKeyStore(path: path, entries: []) }
        return try FileKeyStore(path: path)
    }

    private func write(to output: OutputFile) throws {
        let text = JSONValue.object(entries.map { ($0.name, $0.value) }).prettyText + "\n"
        try output.descriptor.write(Array(text.utf8))
        try output.commit()
    }
}

/// An exclusive flock(2) on `.<store>.lock` beside a file that is replaced by rename (the
/// file's own inode changes at every rewrite). The lock file is this tool's own: created 0600,
/// opened without following a link, and refused unless it is a regular file of this user, so
/// no other user can open it, let alone hold it (a lock on the directory could be taken by
/// anyone who can read the directory). Waiting for it is bounded: a live holder makes a clean
/// failure naming the lock file, not a silent hang.
///
/// The holder removes the file before it lets go, so nothing is left behind; a waiter that
/// then wins the lock on the removed file sees that the name no longer leads to it and starts
/// over on the new one, so two processes never both believe they hold it. Only a killed
/// holder leaves the file, harmless: the next provision takes it as it is.
final class StoreLock {
    /// How long to wait for another provision of the same store.
    static let timeoutSeconds = 10
    private let fd: Int32
    private let lockPath: String

    init(beside path: String, timeoutSeconds: Int = StoreLock.timeoutSeconds) throws {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let lockPath = (directory == "/" ? "" : directory) + "/." + name + ".lock"
        self.lockPath = lockPath
        let deadline = time(nil) + timeoutSeconds
        while true {
            let fd = try Self.open(lockPath, for: path)
            do {
                try Self.lock(fd, lockPath, for: path, until: deadline, timeoutSeconds: timeoutSeconds)
            } catch {
                close(fd)
                throw error
            }
            if Self.nameLeads(to: fd, lockPath) {
                self.fd = fd
                return
            }
            close(fd)  // the holder removed it as we waited: take the new one
        }
    }

    deinit {
        unlink(lockPath)  // while still held: see the type's comment
        close(fd)  // closing the descriptor releases the lock
    }

    private static func open(_ lockPath: String, for path: String) throws -> Int32 {
        let fd = Glibc.open(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == ELOOP {
                throw CPKError.io("\(lockPath), the lock of \(path), is a symbolic link; remove it")
            }
            throw FileDescriptor.systemError("cannot open \(lockPath) to lock \(path)")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = FileDescriptor.systemError("cannot inspect \(lockPath)")
            close(fd)
            throw error
        }
        guard info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
            close(fd)
            throw CPKError.io(
                "\(lockPath), the lock of \(path), is not a private regular file of this user "
                    + "(uid \(info.st_uid), mode \(String(info.st_mode & 0o7777, radix: 8))): someone else made it; remove it")
        }
        return fd
    }

    /// Polled, not blocking: a blocking flock has no timeout, and a holder must not hang us.
    private static func lock(_ fd: Int32, _ lockPath: String, for path: String, until deadline: Int, timeoutSeconds: Int) throws {
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw FileDescriptor.systemError("cannot lock \(lockPath) to rewrite \(path)")
            }
            guard time(nil) < deadline else {
                throw CPKError.io(
                    "\(path) is being rewritten by another process, which holds \(lockPath); "
                        + "gave up after \(timeoutSeconds) s: try again once it has finished")
            }
            usleep(50_000)
        }
    }

    /// True when `lockPath` still names the file `fd` holds.
    private static func nameLeads(to fd: Int32, _ lockPath: String) -> Bool {
        var held = stat()
        var named = stat()
        guard fstat(fd, &held) == 0, lstat(lockPath, &named) == 0 else { return false }
        return held.st_dev == named.st_dev && held.st_ino == named.st_ino
    }
}
