#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto

/// The simulator's private directory: device key pair, storage key, class keys, installed
/// applications, and a staging area, guarded by a lock file.
///
///     <state>/lock                 flock(2): shared to stage, exclusive to commit or clean up
///     <state>/device-key.pem       the device RSA key pair (mode 0600, never printed)
///     <state>/device-key.uri       or: the PKCS#11 URI of a device key pair held in a token
///     <state>/storage.key          the device-unique storage key, 32 random bytes (0600)
///     <state>/keys/<hex id>.key    class keys, sealed under the storage key
///     <state>/apps/<hex id>.app    installed applications, re-encrypted under the storage key
///     <state>/trust/               trust anchors provisioned for signers (certificates, keys)
///     <state>/staging/             files being written; the next run removes abandoned ones
///
/// Every file appears under its final name by an atomic rename, so a process killed at any
/// point leaves the state as it was, plus at most an abandoned staging file.
public struct StateDirectory: Sendable {
    public let path: String

    /// Where the state lives unless `--state` says otherwise.
    public static let environmentVariable = "CPK_CPM_STATE"

    /// `explicit` (from `--state`), else `$CPK_CPM_STATE`, else `$XDG_STATE_HOME/cpk/cpm`, else
    /// `~/.local/state/cpk/cpm`.
    public static func resolve(explicit: String?) throws -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let value = environment(environmentVariable) { return value }
        if let xdg = environment("XDG_STATE_HOME"), xdg.hasPrefix("/") { return xdg + "/cpk/cpm" }
        guard let home = environment("HOME") else {
            throw CPKError(.usage, "no state directory (HOME is not set): set \(environmentVariable)", reason: .noStateDirectory)
        }
        return home + "/.local/state/cpk/cpm"
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// Opens the directory, creating it (and missing parents) with mode 0700. An existing
    /// directory that others can read or write is refused: it would expose the device's keys.
    public init(path: String) throws {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        try Self.makeDirectories(self.path)
        try checkPrivate()
        for sub in [Self.keys, Self.apps, Self.staging, Self.trust, Self.fleet] {
            try Self.makeDirectory(self.path + "/" + sub)
            try Self.checkPrivateSubdirectory(self.path + "/" + sub)
        }
    }

    /// A subdirectory must be a real directory of the state's owner that nobody else can write:
    /// anyone who can add a file to trust/ decides which signers are trusted.
    private static func checkPrivateSubdirectory(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw FileDescriptor.systemError("cannot inspect \(path)") }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw CPKError.io("\(path) is not a directory (a symbolic link or a file); the state is unusable: remove it, and the next run makes it again")
        }
        try checkOwnership(path, info)
    }

    /// Owned by the state's owner (this user) and writable by nobody else.
    private static func checkOwnership(_ path: String, _ info: stat) throws {
        guard info.st_uid == geteuid() else {
            throw CPKError.io("\(path) belongs to uid \(info.st_uid), not to the state's owner (uid \(geteuid())); chown it or remove it")
        }
        guard info.st_mode & 0o022 == 0 else {
            let mode = String(info.st_mode & 0o777, radix: 8)
            let repair = info.st_mode & S_IFMT == S_IFDIR ? "chmod 700" : "chmod 600"
            throw CPKError.io("\(path) can be written by other users (mode \(mode)); check what it holds, then \(repair) it")
        }
    }

    /// Opens a file of the state for reading, or returns nil when there is none. A symlink, a
    /// FIFO or device, another user's file or one others can write is refused in one line
    /// naming the file and the repair: the state's files are trusted (keys, anchors, apps), so
    /// they must be what this device wrote. Opened without following a link and without
    /// blocking (a FIFO would), then checked on the descriptor itself.
    static func openPrivateFile(_ path: String) throws -> FileDescriptor? {
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(regularFile: path)
        } catch FileDescriptor.NotRegularFile.missing {
            return nil
        } catch FileDescriptor.NotRegularFile.symbolicLink {
            throw CPKError.io("\(path) is a symbolic link; the state's files must be regular files: remove it (and install again what it stood for)")
        } catch FileDescriptor.NotRegularFile.special {
            throw CPKError.io("\(path) is not a regular file (a FIFO, device or directory); remove it")
        }
        var info = stat()
        guard fstat(file.fd, &info) == 0 else { throw FileDescriptor.systemError("cannot inspect \(path)") }
        try checkOwnership(path, info)
        return file
    }

    /// Reads a whole file of the state with `openPrivateFile`'s rules; nil when there is none.
    /// A file over `limit` bytes was not written by this device: an I/O error whose text ends
    /// with `tooLarge` (what it is not, and the repair).
    static func readPrivateFile(_ path: String, limit: Int, what: String, tooLarge: String) throws -> [UInt8]? {
        guard let file = try openPrivateFile(path) else { return nil }
        let size = try file.status().size
        guard size <= UInt64(limit) else { throw CPKError.io("\(path) is larger than \(limit) bytes; \(tooLarge)") }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        try bytes.withUnsafeMutableBytes { try file.read(into: $0, at: 0, what: what) }
        return bytes
    }

    /// Writes a file of the state whole (it appears complete or not at all), mode 0600.
    static func writePrivateFile(_ bytes: [UInt8], to path: String) throws {
        try OutputFile.writeWhole(bytes, to: path, mode: 0o600)
    }

    static let keys = "keys"
    static let apps = "apps"
    static let staging = "staging"
    static let trust = "trust"
    static let fleet = "fleet"

    var lockPath: String { path + "/lock" }
    var deviceKeyPath: String { path + "/device-key.pem" }
    var storageKeyPath: String { path + "/storage.key" }
    var stagingPath: String { path + "/" + Self.staging }
    public var trustPath: String { path + "/" + Self.trust }
    public var fleetPath: String { path + "/" + Self.fleet }

    /// A class key's file: named by the hexadecimal of its id, or, for an id too long for a file
    /// name (key names go up to 512 bytes), by the SHA-256 of the id; the sealed record says
    /// which id it is.
    func classKeyPath(for id: String) -> String {
        let name = id.utf8.count <= Self.longestHexNamedID ? Self.fileName(for: id) : Self.hashedPrefix + Self.hashedName(for: id)
        return "\(path)/\(Self.keys)/\(name).key"
    }

    /// Ids up to this many bytes name their files in hexadecimal (twice as many characters, well
    /// under NAME_MAX).
    static let longestHexNamedID = 100
    static let hashedPrefix = "sha256-"

    static func hashedName(for id: String) -> String {
        (try? SHA256Hasher.digest(Array(id.utf8))).map(Hex.encode) ?? ""
    }

    func applicationPath(for id: String) -> String { "\(path)/\(Self.apps)/\(Self.fileName(for: id)).app" }
    /// What a removal kept of an application (its authenticated floor and signer).
    func historyPath(for id: String) -> String { "\(path)/\(Self.apps)/\(Self.fileName(for: id)).history" }

    /// Application ids may hold any character (KBS names hold '/'), so files are named by the
    /// hexadecimal of the id's UTF-8 bytes.
    static func fileName(for id: String) -> String {
        id.utf8.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// The id a file name stands for, or nil when it is not one of ours.
    static func id(fromFileName name: String, suffix: String) -> String? {
        guard name.hasSuffix(suffix) else { return nil }
        let hex = Array(name.utf8.dropLast(suffix.utf8.count))
        guard !hex.isEmpty, hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: hex.count, by: 2) {
            guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        let id = String(decoding: bytes, as: UTF8.self)
        return fileName(for: id) == String(decoding: hex, as: UTF8.self) ? id : nil
    }

    /// The names in a subdirectory of the state, sorted.
    func entries(of sub: String) throws -> [String] {
        try Self.entries(in: path + "/" + sub)
    }

    static func entries(in directory: String) throws -> [String] {
        guard let handle = opendir(directory) else { throw FileDescriptor.systemError("cannot read \(directory)") }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    private func checkPrivate() throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw FileDescriptor.systemError("cannot inspect \(path)") }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw CPKError.usage("the state directory \(path) is not a directory") }
        guard info.st_uid == getuid() else {
            throw CPKError.usage("the state directory \(path) belongs to another user")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw CPKError.usage(
                "the state directory \(path) is accessible to other users (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "it holds the device's keys: chmod 700 it")
        }
    }

    /// `mkdir -p` with mode 0700 for every directory it creates.
    private static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            try makeDirectory(prefix)
        }
    }

    private static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) == 0 || errno == EEXIST { return }
        let reason = errno
        var info = stat()
        if stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR { return }  // exists, in a directory we cannot write
        errno = reason
        throw FileDescriptor.systemError("cannot create the state directory \(path)")
    }

    /// Makes a directory's entries (a rename, a new file) survive a power loss.
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

/// The state's lock file, taken with flock(2): shared while staging files are made, exclusive
/// to commit, to make the device keys, and to clean up. flock locks vanish with their
/// process, so a killed install never leaves the state locked.
final class StateLock {
    private let fd: Int32
    private let path: String

    init(path: String) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileDescriptor.systemError("cannot open the lock file \(path)") }
        self.path = path
    }

    deinit { close(fd) }

    /// Runs `body` holding the lock; `exclusive` for changes. Not reentrant: callers never nest.
    func withLock<T>(exclusive: Bool, _ body: () throws -> T) throws -> T {
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            guard errno == EINTR else { throw FileDescriptor.systemError("cannot lock \(path)") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}
