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
    private let owned: Bool

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
