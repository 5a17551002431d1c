#if canImport(Glibc)
import Glibc
#endif

/// A destination for a tool's output that never shows a half-written file.
///
/// A named output is written to an anonymous temporary file in the same directory and only
/// appears under its name, complete, when `commit()` is called; if the tool fails or is killed
/// first, nothing is left behind. `-` means standard output, which refuses to carry binary data
/// to a terminal; a device or a pipe given by name is written in place, like standard output.
///
/// What is already at the name matters, because the directory may be shared (a work dir under
/// /tmp) and another user may have planted a FIFO or a symlink there to read what is written:
/// - a regular file (or nothing) is never written through: the finished file replaces it;
/// - a FIFO, a device or a symlink is opened in place only when it is the caller's own (a
///   device node also when root's, since only root can make one) and the output is not secret;
///   otherwise the tool refuses before writing anything;
/// - `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and `/proc/self/fd/N` (bash's `>(...)`) name a
///   descriptor the caller already opened: that descriptor is used, never the name reopened,
///   so it is accepted for secrets too (except a terminal).
/// A secret (`secret: true`: a class key, a private key, plaintext, a key store) is always a
/// new file of mode 0600, whatever the umask, or one of those inherited descriptors.
public final class OutputFile {
    public let descriptor: FileDescriptor
    private let destination: String?
    private let fallbackTemporaryPath: String?
    private var committed = false

    /// Opens `path` ("-" for standard output) for writing.
    /// - Parameters:
    ///   - binary: refuse a terminal when writing to standard output.
    ///   - mode: permission bits of a new file (0600 for secrets), before the umask.
    ///   - secret: the output is secret: only a new private file or an inherited descriptor.
    public init(path: String, binary: Bool, mode: mode_t = 0o666, secret: Bool = false) throws {
        let mode = secret ? 0o600 : mode
        if let inherited = try Self.inheritedDescriptor(path, binary: binary, secret: secret) {
            descriptor = inherited
            destination = nil
            fallbackTemporaryPath = nil
            return
        }
        if let stream = try Self.openExisting(path, binary: binary, secret: secret) {
            descriptor = stream
            destination = nil
            fallbackTemporaryPath = nil
            return
        }
        destination = path
        let directory = Self.directory(of: path)
        var fd = Glibc.open(directory, Self.openTemporaryFlags | O_WRONLY | O_CLOEXEC, mode)
        var temporaryPath: String? = nil
        if fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
            // The file system has no anonymous files: use a named one and remove it on failure.
            // O_EXCL also refuses a symlink planted under that name.
            let candidate = Self.temporaryName(for: path)
            fd = Glibc.open(candidate, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode)
            temporaryPath = candidate
        }
        guard fd >= 0 else {
            throw FileDescriptor.systemError("cannot create \(path)")
        }
        if mode & 0o077 == 0 {
            fchmod(fd, mode)  // secrets stay private whatever the umask
        }
        descriptor = FileDescriptor(fd: fd, name: path, owned: true)
        fallbackTemporaryPath = temporaryPath
    }

    /// True when what is written is seen at once (standard output, a device or a pipe), so
    /// nothing can be held back by not committing.
    public var isStandardOutput: Bool { destination == nil }

    /// The descriptor number `path` names when it names one the process inherited: `-`,
    /// `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`.
    public static func inheritedDescriptorNumber(_ path: String) -> Int32? {
        switch path {
        case "-", "/dev/stdout": return 1
        case "/dev/stderr": return 2
        default: break
        }
        for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
            let digits = path.dropFirst(prefix.count)
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int32(digits)
        }
        return nil
    }

    /// A descriptor the caller opened and handed over by number: used as it is. Reopening
    /// `/proc/self/fd/N` by name would follow whatever the name resolves to at that moment;
    /// the descriptor itself is what the caller chose.
    private static func inheritedDescriptor(_ path: String, binary: Bool, secret: Bool) throws -> FileDescriptor? {
        guard let number = inheritedDescriptorNumber(path) else { return nil }
        let flags = fcntl(number, F_GETFL)
        guard flags >= 0 else {
            throw CPKError.io("cannot write \(path): descriptor \(number) is not open")
        }
        guard flags & O_ACCMODE != O_RDONLY else {
            throw CPKError.io("cannot write \(path): descriptor \(number) is open only for reading")
        }
        let name = number == 1 ? "standard output" : path
        let output = number == 1 ? FileDescriptor.standardOutput : FileDescriptor(fd: number, name: name, owned: false)
        if (binary || secret) && output.isTerminal {
            let what = secret ? "secret data" : "binary data"
            throw CPKError(.usage, "refusing to write \(what) to a terminal; redirect standard output", reason: .terminalOutput)
        }
        output.enlargePipeBuffer()
        return output
    }

    /// What is already at `path`: nil when nothing or a regular file is there (a new file will
    /// replace it on commit), an open descriptor when it is a FIFO or device the caller may
    /// write in place; anything else is refused before a byte is written.
    private static func openExisting(_ path: String, binary: Bool, secret: Bool) throws -> FileDescriptor? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        let type = info.st_mode & S_IFMT
        if type == S_IFREG { return nil }
        if type == S_IFDIR { throw CPKError.io("cannot write \(path): it is a directory; name a file") }
        // A secret goes to a file this tool creates, or to a character device (/dev/null): a
        // FIFO, a socket or a link could hand it to someone else. A terminal is refused below.
        if secret && type != S_IFCHR {
            throw CPKError.io(
                "refusing to write secret data to \(path): it is \(describe(type)), not a file this tool creates; "
                    + "name a new file, or use - for standard output")
        }
        guard type == S_IFLNK ? info.st_uid == geteuid() : isCallers(info) else {
            throw CPKError.io(
                "refusing to write to \(path): it is \(describe(type)) owned by uid \(info.st_uid), not by you; "
                    + "remove it or name another file")
        }
        if type == S_IFLNK {
            // The caller's own symlink: to a FIFO or device it is written in place (checked again
            // on the open descriptor below); to a file, or dangling, the finished file replaces
            // the link itself, so nothing is ever written through it into another file.
            var target = stat()
            guard stat(path, &target) == 0, isStream(target.st_mode & S_IFMT) else { return nil }
        } else if !isStream(type) {
            throw CPKError.io("cannot write \(path): it is \(describe(type)); name a file")
        }
        // O_NONBLOCK so a FIFO without a reader fails at once instead of hanging; cleared after.
        let noFollow = type == S_IFLNK ? 0 : O_NOFOLLOW
        var fd = Glibc.open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK | noFollow)
        if fd < 0 && errno == ENXIO {
            // A FIFO nobody reads yet: wait for the reader, like a shell redirection does.
            fd = Glibc.open(path, O_WRONLY | O_CLOEXEC | noFollow)
        }
        guard fd >= 0 else { throw FileDescriptor.systemError("cannot open \(path) for writing") }
        let stream = FileDescriptor(fd: fd, name: path, owned: true)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        var opened = stat()
        guard fstat(fd, &opened) == 0, isStream(opened.st_mode & S_IFMT), isCallers(opened) else {
            throw CPKError.io("refusing to write to \(path): what it names changed or is not yours; name another file")
        }
        if (binary || secret) && stream.isTerminal {
            throw CPKError.usage("refusing to write \(secret ? "secret" : "binary") data to the terminal \(path); name a file instead")
        }
        stream.enlargePipeBuffer()
        return stream
    }

    private static func isStream(_ type: mode_t) -> Bool { type == S_IFIFO || type == S_IFCHR }

    /// A FIFO is the caller's when the caller owns it; a character device also when root owns
    /// it, since only root can make device nodes (`/dev/null`, a terminal).
    private static func isCallers(_ info: stat) -> Bool {
        info.st_uid == geteuid() || (info.st_mode & S_IFMT == S_IFCHR && info.st_uid == 0)
    }

    private static func describe(_ type: mode_t) -> String {
        switch type {
        case S_IFIFO: return "a FIFO"
        case S_IFLNK: return "a symbolic link"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    deinit {
        if !committed, let temporary = fallbackTemporaryPath { unlink(temporary) }
    }

    /// Writes `bytes` as the whole file at `path` with `mode`: it appears complete or not at
    /// all, replacing any file there (the private files of a device state or a registry).
    public static func writeWhole(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let output = try OutputFile(path: path, binary: true, mode: mode)
        try output.descriptor.write(bytes)
        try output.commit()
    }

    /// Makes the output visible under its name, replacing any file there.
    public func commit() throws {
        guard let destination, !committed else { return }
        let temporary: String
        if let fallback = fallbackTemporaryPath {
            temporary = fallback
        } else {
            // A new name takes the finished file in one step, which leaves nothing behind
            // whenever the process dies. Replacing a file takes two (a temporary name, then
            // rename): a kill -9 between them leaves the complete output under that name.
            let anonymous = "/proc/self/fd/\(descriptor.fd)"
            if linkat(AT_FDCWD, anonymous, AT_FDCWD, destination, AT_SYMLINK_FOLLOW) == 0 {
                committed = true
                return
            }
            guard errno == EEXIST else { throw FileDescriptor.systemError("cannot create \(destination)") }
            temporary = Self.temporaryName(for: destination)
            guard linkat(AT_FDCWD, anonymous, AT_FDCWD, temporary, AT_SYMLINK_FOLLOW) == 0
            else { throw FileDescriptor.systemError("cannot create \(destination)") }
        }
        guard rename(temporary, destination) == 0 else {
            let error = FileDescriptor.systemError("cannot write \(destination)")
            unlink(temporary)
            throw error
        }
        committed = true
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    private static func temporaryName(for path: String) -> String {
        let directory = directory(of: path)
        let base = path.split(separator: "/").last.map(String.init) ?? "output"
        let unique = UInt64.random(in: 0...UInt64.max)
        return "\(directory)/.\(base).\(getpid()).\(String(unique, radix: 36)).tmp"
    }

    /// `O_TMPFILE`, which Swift's Glibc module does not export (it needs `_GNU_SOURCE`).
    static var openTemporaryFlags: Int32 {
        #if arch(x86_64) || arch(i386)
        return 0o20_200_000
        #else
        return 0o20_040_000  // generic Linux value, used by arm64 and others
        #endif
    }
}

/// An anonymous file that exists only while open: for spooling a stream that must be read twice.
public enum TemporaryFile {
    /// - Parameters:
    ///   - purpose: for the error message when it cannot be made.
    ///   - name: how later messages name the file (default: "temporary <purpose>").
    public static func anonymous(purpose: String, name: String? = nil) throws -> FileDescriptor {
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var fd = open(directory, OutputFile.openTemporaryFlags | O_RDWR | O_CLOEXEC, mode_t(0o600))
        if fd < 0 {
            var template = Array("\(directory)/cpk-spool-XXXXXX".utf8CString)
            fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd >= 0 {
                template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            }
        }
        guard fd >= 0 else {
            throw FileDescriptor.systemError("cannot create a temporary file in \(directory) for \(purpose)")
        }
        return FileDescriptor(fd: fd, name: name ?? "temporary \(purpose)", owned: true)
    }
}
