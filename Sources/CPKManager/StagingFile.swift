#if canImport(Glibc)
import Glibc
#endif

import CPKCore

/// A file being written inside the state: invisible until committed under its final name by
/// an atomic rename, so a reader never sees half of it and a killed writer leaves no trace.
///
/// It is an anonymous file (`O_TMPFILE`) in the staging directory where the file system
/// allows, which vanishes by itself if the process dies. Elsewhere it is a named file that its
/// writer holds an flock(2) on; `StagingFile.removeAbandoned` deletes the ones whose writer is gone.
final class StagingFile {
    let descriptor: FileDescriptor
    private let state: StateDirectory
    /// The name of a named staging file; nil for an anonymous one.
    private var namedPath: String?
    private var committed = false
    private var flushed = false

    /// Call with the state lock held (shared or exclusive), so that a cleanup, which needs it
    /// exclusive, cannot take a named file for abandoned between its creation and its flock.
    init(in state: StateDirectory, purpose: String) throws {
        self.state = state
        var fd = open(state.stagingPath, Self.anonymousFileFlags | O_RDWR | O_CLOEXEC, mode_t(0o600))
        if fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
            let candidate = Self.uniqueName(in: state)
            fd = open(candidate, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, mode_t(0o600))
            if fd >= 0 {
                namedPath = candidate
                flock(fd, LOCK_EX)  // "still being written": see removeAbandoned
            }
        }
        guard fd >= 0 else { throw FileDescriptor.systemError("cannot create a staging file for \(purpose) in \(state.stagingPath)") }
        fchmod(fd, 0o600)
        descriptor = FileDescriptor(fd: fd, name: "the staging file for \(purpose)", owned: true)
    }

    deinit {
        if !committed, let namedPath { unlink(namedPath) }
    }

    /// Puts the bytes on the disk, so a power loss after the commit cannot leave a file that
    /// is named but empty. For a large file, call it before taking the lock for `commit`.
    func flush() throws {
        guard !flushed else { return }
        guard fsync(descriptor.fd) == 0 else { throw FileDescriptor.systemError("cannot write \(descriptor.name)") }
        flushed = true
    }

    /// Makes the file appear as `destination`, replacing what was there, once flushed. Call with
    /// the state lock held exclusive.
    func commit(as destination: String) throws {
        try flush()
        let source: String
        if let namedPath {
            source = namedPath
        } else {
            // An anonymous file gets a name first; a kill between here and the rename leaves
            // that name behind, which the next run's cleanup removes.
            source = Self.uniqueName(in: state)
            guard linkat(AT_FDCWD, "/proc/self/fd/\(descriptor.fd)", AT_FDCWD, source, AT_SYMLINK_FOLLOW) == 0 else {
                throw FileDescriptor.systemError("cannot name \(descriptor.name)")
            }
        }
        guard rename(source, destination) == 0 else {
            let error = FileDescriptor.systemError("cannot install \(destination)")
            unlink(source)
            throw error
        }
        committed = true
        if let slash = destination.lastIndex(of: "/") { StateDirectory.syncDirectory(String(destination[..<slash])) }
    }

    /// Deletes staging files no live process is writing. Call with the state lock held
    /// exclusive: then no file is between creation and flock, and no commit is under way.
    static func removeAbandoned(in state: StateDirectory) throws {
        for name in try StateDirectory.entries(in: state.stagingPath) {
            let path = state.stagingPath + "/" + name
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { unlink(path) }
        }
    }

    private static func uniqueName(in state: StateDirectory) -> String {
        "\(state.stagingPath)/\(getpid()).\(String(UInt64.random(in: 0...UInt64.max), radix: 36)).tmp"
    }

    /// `O_TMPFILE`, which Swift's Glibc module does not export (it needs `_GNU_SOURCE`).
    static var anonymousFileFlags: Int32 {
        #if arch(x86_64) || arch(i386)
        return 0o20_200_000
        #else
        return 0o20_040_000  // the generic Linux value, used by arm64 and others
        #endif
    }
}
