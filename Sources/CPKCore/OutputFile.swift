#if canImport(Glibc)
import Glibc
#endif

/// A destination for a tool's output that never shows a half-written file.
///
/// A named output is written to an anonymous temporary file in the same directory and only
/// appears under its name, complete, when `commit()` is called; if the tool fails or is killed
/// first, nothing is left behind. `-` means standard output, which refuses to carry binary data
/// to a terminal; a device or a pipe given by name is written in place, like standard output.
public final class OutputFile {
    public let descriptor: FileDescriptor
    private let destination: String?
    private let fallbackTemporaryPath: String?
    private var committed = false

    /// Opens `path` ("-" for standard output) for writing.
    /// - Parameters:
    ///   - binary: refuse a terminal when writing to standard output.
    ///   - mode: permission bits of a new file (0600 for secrets), before the umask.
    public init(path: String, binary: Bool, mode: mode_t = 0o666) throws {
        if path == "-" {
            let output = FileDescriptor.standardOutput
            if binary && output.isTerminal {
                throw CPKError.usage(
                    "refusing to write binary data to a terminal; redirect standard output or use --output FILE")
            }
            descriptor = output
            destination = nil
            fallbackTemporaryPath = nil
            output.enlargePipeBuffer()
            return
        }
        if let stream = try Self.openStream(path, binary: binary) {
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
            let candidate = Self.temporaryName(for: path)
            fd = Glibc.open(candidate, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode)
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

    /// A character device or a FIFO given by name (`/dev/null`, `/dev/stdout`, bash's `>(...)`)
    /// is opened and written in place: it holds no file to replace, and renaming a finished
    /// file over it would destroy it (as root, /dev/null itself).
    private static func openStream(_ path: String, binary: Bool) throws -> FileDescriptor? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let type = info.st_mode & S_IFMT
        guard type == S_IFCHR || type == S_IFIFO else { return nil }
        let fd = Glibc.open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileDescriptor.systemError("cannot open \(path) for writing") }
        let stream = FileDescriptor(fd: fd, name: path, owned: true)
        if binary && stream.isTerminal {
            throw CPKError.usage("refusing to write binary data to the terminal \(path); name a file instead")
        }
        stream.enlargePipeBuffer()
        return stream
    }

    deinit {
        if !committed, let temporary = fallbackTemporaryPath { unlink(temporary) }
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
