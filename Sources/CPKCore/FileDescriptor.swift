#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor with the name a user knows it by, for error messages.
///
/// Every read and write of the tools goes through here, so partial transfers, `EINTR` and
/// error wording are handled once.
public final class FileDescriptor: @unchecked Sendable {
    public let fd: Int32
    /// How messages name this file: a path, or "standard input"/"standard output".
    public let name: String
    /// True when this process opened the descriptor (and closes it); false for one it inherited.
    public let owned: Bool

    public init(fd: Int32, name: String, owned: Bool) {
        self.fd = fd
        self.name = name
        self.owned = owned
    }

    deinit {
        if owned { close(fd) }
    }

    public static let standardInput = FileDescriptor(fd: 0, name: "standard input", owned: false)
    public static let standardOutput = FileDescriptor(fd: 1, name: "standard output", owned: false)

    /// Opens a file for reading.
    public static func open(forReading path: String) throws -> FileDescriptor {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("cannot open \(path) for reading") }
        let file = FileDescriptor(fd: fd, name: path, owned: true)
        if try file.status().isDirectory {
            throw CPKError.io("\(path) is a directory; give a file")
        }
        return file
    }

    /// Why `open(regularFile:)` found no regular file to read at a path.
    public enum NotRegularFile: Error, Sendable {
        case missing
        /// The path's last component is a symbolic link (not followed).
        case symbolicLink
        /// A FIFO, socket, device or directory.
        case special
    }

    /// Opens, for reading, a file that must be a regular file where someone else may have put
    /// something else (a directory others can write, a listing's entries): a final symbolic
    /// link is not followed, and a FIFO is not waited on (opened non-blocking and checked on the
    /// descriptor itself, which is then made blocking again). Throws `NotRegularFile` for those,
    /// a system error otherwise; the caller says what the file is and what to do.
    public static func open(regularFile path: String) throws -> FileDescriptor {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else {
            switch errno {
            case ENOENT: throw NotRegularFile.missing
            case ELOOP: throw NotRegularFile.symbolicLink
            default: throw systemError("cannot read \(path)")
            }
        }
        let file = FileDescriptor(fd: fd, name: path, owned: true)
        guard try file.status().isRegularFile else { throw NotRegularFile.special }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return file
    }

    public struct Status: Sendable {
        public let isRegularFile: Bool
        public let isDirectory: Bool
        public let size: UInt64
    }

    public func status() throws -> Status {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.systemError("cannot inspect \(name)") }
        let type = info.st_mode & S_IFMT
        return Status(
            isRegularFile: type == S_IFREG, isDirectory: type == S_IFDIR,
            size: UInt64(max(0, info.st_size)))
    }

    /// True when the file supports positioned reads (a regular file, not a pipe or terminal).
    public var isSeekable: Bool {
        (try? status().isRegularFile) ?? false
    }

    public var isTerminal: Bool { isatty(fd) == 1 }

    /// The file offset the next `read` starts at, or nil where there is none (a pipe).
    public var position: UInt64? {
        let offset = lseek(fd, 0, SEEK_CUR)
        return offset >= 0 ? UInt64(offset) : nil
    }

    /// True for a pipe or FIFO.
    public var isPipe: Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO
    }

    /// Reads up to `buffer.count` bytes; returns 0 only at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(fd, base, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw Self.systemError("cannot read \(name)")
        }
    }

    /// Fills `buffer` unless end of file comes first; returns how many bytes were read.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if n == 0 { break }
            filled += n
        }
        return filled
    }

    /// Reads exactly `buffer.count` bytes at `offset`, or fails naming what was being read.
    public func read(
        into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64, what: @autoclosure () -> String
    ) throws {
        var done = 0
        while done < buffer.count {
            guard let base = buffer.baseAddress else { return }
            let n = pread(fd, base + done, buffer.count - done, off_t(offset) + off_t(done))
            if n > 0 {
                done += n
            } else if n == 0 {
                throw CPKError.invalid("file ends inside \(what())")
            } else if errno != EINTR {
                throw Self.systemError("cannot read \(name)")
            }
        }
    }

    /// Passes the `count` bytes at `offset` to `body` in pieces of at most `pieceSize` bytes,
    /// read into one reusable buffer.
    public func forEachPiece(
        at offset: UInt64, count: UInt64, pieceSize: Int, what: String,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: pieceSize, alignment: 16)
        defer { buffer.deallocate() }
        var done: UInt64 = 0
        while done < count {
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(UInt64(pieceSize), count - done))])
            try read(into: piece, at: offset + done, what: what)
            try body(UnsafeRawBufferPointer(piece))
            done += UInt64(piece.count)
        }
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, base, left)
            if n >= 0 {
                base += n
                left -= n
            } else if errno != EINTR {
                throw Self.systemError("cannot write \(name)")
            }
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { (raw) throws in try write(raw) }
    }

    /// Writes `head` then `body` with one system call where the kernel allows, so a small
    /// framing header does not cost a copy of a large payload chunk.
    public func write(head: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) throws {
        var headDone = 0
        var bodyDone = 0
        while headDone < head.count || bodyDone < body.count {
            var vectors = [
                iovec(
                    iov_base: UnsafeMutableRawPointer(mutating: head.baseAddress.map { $0 + headDone }),
                    iov_len: head.count - headDone),
                iovec(
                    iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress.map { $0 + bodyDone }),
                    iov_len: body.count - bodyDone),
            ]
            let n = writev(fd, &vectors, 2)
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.systemError("cannot write \(name)")
            }
            let fromHead = min(n, head.count - headDone)
            headDone += fromHead
            bodyDone += n - fromHead
        }
    }

    /// Grows the kernel buffer of a pipe so large chunks cross in fewer system calls.
    /// Harmless where the descriptor is not a pipe or the system refuses.
    public func enlargePipeBuffer() {
        #if os(Linux)
        let pipeSetSize: Int32 = 1031  // F_SETPIPE_SZ
        _ = fcntl(fd, pipeSetSize, 1 << 20)
        #endif
    }

    /// An error naming the operation and the system's reason (`errno`).
    public static func systemError(_ what: String) -> CPKError {
        let reason = String(cString: strerror(errno))
        return .io("\(what): \(reason)")
    }
}

/// Bytes a tool passes on unchanged: `buffered` already in memory, then `count` more still in
/// `source` (at `offset`, or at its current position when nil). Whoever receives it must move
/// all of them before the input is read again, and can do so without copying them through the
/// process (`ByteMover`).
public struct PassedBytes {
    public let buffered: UnsafeRawBufferPointer
    public let source: FileDescriptor?
    public let offset: UInt64?
    public let count: Int
    /// The error when `source` ends before `count` bytes.
    public let truncation: CPKError

    public init(
        buffered: UnsafeRawBufferPointer, source: FileDescriptor?, offset: UInt64?, count: Int, truncation: CPKError
    ) {
        self.buffered = buffered
        self.source = source
        self.offset = offset
        self.count = count
        self.truncation = truncation
    }

    /// Bytes that are all in memory.
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.init(buffered: bytes, source: nil, offset: nil, count: 0, truncation: .invalid("no input"))
    }

    public var total: Int { buffered.count + count }
}

/// Moves bytes from one descriptor to another without copying them through this process
/// where the kernel can: `splice(2)` when either side is a pipe (a FIFO, standard input or
/// output in a shell pipeline), `copy_file_range(2)` between two files. Otherwise (a socket
/// from a file, a device, a kernel that refuses) they are read and written through one
/// reusable buffer, with the same result byte for byte.
///
/// One mover per destination; it remembers which ways the kernel refused, so a refusal
/// costs one system call, not one per chunk. Not for use from two threads at once.
public final class ByteMover {
    public let destination: FileDescriptor
    private var spliceRefused = false
    private var copyRangeRefused = false
    private var buffer: UnsafeMutableRawBufferPointer?
    /// Bytes moved by the kernel and bytes copied through the buffer, for tests and the bench.
    public private(set) var movedInKernel: UInt64 = 0
    public private(set) var copied: UInt64 = 0

    public init(to destination: FileDescriptor) { self.destination = destination }

    deinit { buffer?.deallocate() }

    /// Writes `bytes.buffered`, then moves the rest from its source.
    public func move(_ bytes: PassedBytes) throws {
        try destination.write(bytes.buffered)
        guard bytes.count > 0, let source = bytes.source else { return }
        try transfer(from: source, at: bytes.offset, count: bytes.count, truncation: bytes.truncation)
    }

    /// Passes `bytes` to `body` in pieces of at most 1 MiB held in memory, for a destination
    /// that must see them (a digest, a cipher).
    public func forEachPiece(of bytes: PassedBytes, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        if bytes.buffered.count > 0 { try body(bytes.buffered) }
        guard bytes.count > 0, let source = bytes.source else { return }
        try copyThrough(from: source, at: bytes.offset, count: bytes.count, truncation: bytes.truncation, body)
    }

    private func transfer(from source: FileDescriptor, at offset: UInt64?, count: Int, truncation: CPKError) throws {
        var left = count
        var position = offset.map { off_t($0) }
        #if os(Linux)
        for (function, refusedFlag) in [(Self.splice, \ByteMover.spliceRefused), (Self.copyFileRange, \ByteMover.copyRangeRefused)] {
            guard let function, !self[keyPath: refusedFlag] else { continue }
            // splice: SPLICE_F_MOVE | SPLICE_F_MORE (pages moved where possible, more follows);
            // copy_file_range takes no flags.
            let flags: UInt32 = refusedFlag == \ByteMover.spliceRefused ? 1 | 4 : 0
            while left > 0 {
                let want = min(left, 1 << 30)
                let n: Int
                if var here = position {
                    n = function(source.fd, &here, destination.fd, nil, want, flags)
                    position = here
                } else {
                    n = function(source.fd, nil, destination.fd, nil, want, flags)
                }
                if n > 0 {
                    left -= n
                    movedInKernel += UInt64(n)
                    continue
                }
                if n == 0 { throw truncation }
                if errno == EINTR { continue }
                if Self.refusals.contains(errno) {
                    // This pair of descriptors cannot be moved this way (neither is a pipe, a
                    // device without splice, different file systems, ...): try the next way.
                    self[keyPath: refusedFlag] = true
                    break
                }
                throw FileDescriptor.systemError("cannot write \(destination.name)")
            }
            if left == 0 { return }
        }
        #endif
        let start = position.map { UInt64($0) }
        try copyThrough(from: source, at: start, count: left, truncation: truncation) { try destination.write($0) }
    }

    private func copyThrough(
        from source: FileDescriptor, at offset: UInt64?, count: Int, truncation: CPKError,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let scratch = buffer ?? UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        buffer = scratch
        var done = 0
        while done < count {
            let piece = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<min(scratch.count, count - done)])
            if let offset {
                do {
                    try source.read(into: piece, at: offset + UInt64(done), what: "")
                } catch let error as CPKError where error.kind == .invalidInput {
                    throw truncation
                }
            } else {
                guard try source.readFully(into: piece) == piece.count else { throw truncation }
            }
            copied += UInt64(piece.count)
            try body(UnsafeRawBufferPointer(piece))
            done += piece.count
        }
    }

    #if os(Linux)
    /// errno values by which the kernel says it cannot move bytes between these two
    /// descriptors this way (as opposed to a failed read or write).
    private static let refusals: Set<Int32> = [EINVAL, ENOSYS, EXDEV, EBADF, ESPIPE, EOPNOTSUPP]

    /// `splice` and `copy_file_range` have the same shape. Looked up at run time because
    /// Swift's Glibc module leaves out these GNU extensions.
    typealias MoveFunction = @convention(c) (
        Int32, UnsafeMutablePointer<off_t>?, Int32, UnsafeMutablePointer<off_t>?, Int, UInt32
    ) -> Int
    private static let splice: MoveFunction? = lookUp("splice")
    private static let copyFileRange: MoveFunction? = lookUp("copy_file_range")

    private static func lookUp(_ name: String) -> MoveFunction? {
        // RTLD_DEFAULT is the null handle in glibc: search the libraries already loaded.
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: MoveFunction.self) }
    }
    #endif
}
