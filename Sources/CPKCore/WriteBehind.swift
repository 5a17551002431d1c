#if canImport(Glibc)
import Glibc
#endif

import Dispatch

/// Writes a new regular file front to back on a second thread, while the caller fills the next
/// buffer, and past the page cache (`O_DIRECT`) where the file system allows.
///
/// Why: a tool that writes a payload-sized file (a decrypted payload, the simulator's stored
/// copy) otherwise spends more system time copying each byte into freshly allocated page-cache
/// pages than on its cryptography; on a virtual machine whose host reclaims free guest memory
/// (a balloon), touching those pages costs far more than the copy itself, and the later
/// `fsync` writes them out again. With `O_DIRECT` the disk reads the bytes from two reused
/// buffers instead, and the write overlaps the caller's work.
///
/// The bytes and their order are exactly what the caller hands over. Every buffer but the last
/// is full (a multiple of the 4 KiB alignment direct I/O needs); `finish()` writes the last
/// one through the page cache and leaves the descriptor as it found it, so the caller may go on
/// writing (a trailer) or `fsync` it. Where the kernel refuses direct I/O (a file system
/// without it, an offset not aligned), everything is written the ordinary way, same bytes.
///
/// Not for use from two threads at once. A write error is reported by the next call (or by
/// `finish`), never lost.
public final class WriteBehind: @unchecked Sendable {
    public let file: FileDescriptor
    public static let bufferSize = 1 << 20
    private static let alignment = 4096

    private let buffers: [UnsafeMutableRawBufferPointer]
    /// The buffer being filled, and how much of it is.
    private var filling = 0
    private var filled = 0
    private let queue = DispatchQueue(label: "cpk.write-behind")
    /// 1 while no write is in flight: one write at a time, in order.
    private let idle = DispatchSemaphore(value: 1)
    /// Set by the writing thread before it signals `idle`, read by the caller after waiting.
    private var failure: CPKError?
    /// Whether `O_DIRECT` is on; only the writing thread turns it off while a write is in flight.
    private var direct = false
    private var finished = false
    /// Bytes written with `O_DIRECT` and through the page cache, for tests.
    public private(set) var directBytes: UInt64 = 0
    public private(set) var bufferedBytes: UInt64 = 0

    /// - Parameter direct: try `O_DIRECT` (false writes through the page cache, still behind).
    public init(_ file: FileDescriptor, direct: Bool = true) {
        self.file = file
        buffers = (0..<2).map { _ in
            UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: Self.alignment)
        }
        #if os(Linux)
        if direct, file.isSeekable, lseek(file.fd, 0, SEEK_CUR) % off_t(Self.alignment) == 0 {
            let flags = fcntl(file.fd, F_GETFL)
            self.direct = flags >= 0 && fcntl(file.fd, F_SETFL, flags | Self.directFlag) == 0
        }
        #endif
    }

    deinit {
        idle.wait()  // a write in flight still reads its buffer
        idle.signal()  // libdispatch refuses to free a semaphore below its initial value
        setDirect(false)
        for buffer in buffers { buffer.deallocate() }
    }

    /// Appends a copy of `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            done += try fill(upTo: bytes.count - done) { space in
                space.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[done..<done + space.count]))
            }
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Lets `body` write the next bytes in place (a cipher's output): it must fill all of the
    /// space it is given, at most `count` bytes and at least one. Returns the size given.
    @discardableResult
    public func fill(upTo count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) throws -> Int {
        precondition(!finished, "WriteBehind used after finish()")
        guard count > 0 else { return 0 }
        let buffer = buffers[filling]
        let space = UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<min(buffer.count, filled + count)])
        try body(space)
        filled += space.count
        if filled == buffer.count { try submit() }
        return space.count
    }

    /// Writes what is left and waits for every write; the descriptor is then as it was
    /// (page-cache writes, its offset after the last byte).
    public func finish() throws {
        guard !finished else { return }
        finished = true
        idle.wait()
        defer { idle.signal() }
        if let failure { throw failure }
        setDirect(false)
        try writeOut(UnsafeRawBufferPointer(rebasing: buffers[filling][0..<filled]))
        filled = 0
    }

    /// Hands the full buffer to the writing thread once the previous write is done.
    private func submit() throws {
        idle.wait()
        if let failure {
            idle.signal()
            throw failure
        }
        let bytes = UnsafeRawBufferPointer(rebasing: buffers[filling][0..<filled])
        let job = WriteJob(owner: self, bytes: bytes)
        queue.async { job.run() }
        filling = 1 - filling
        filled = 0
    }

    /// On the writing thread: writes `bytes`, then lets the caller reuse the buffer.
    fileprivate func writeInBackground(_ bytes: UnsafeRawBufferPointer) {
        do {
            try writeOut(bytes)
        } catch let error as CPKError {
            failure = error
        } catch {
            failure = CPKError.io("cannot write \(file.name): \(error)")
        }
        idle.signal()
    }

    private func writeOut(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(file.fd, base, left)
            if n >= 0 {
                if direct { directBytes += UInt64(n) } else { bufferedBytes += UInt64(n) }
                base += n
                left -= n
            } else if errno == EINTR {
                continue
            } else if errno == EINVAL && direct {
                // The file system takes no direct I/O of this size or alignment: the page cache, then.
                setDirect(false)
            } else {
                throw FileDescriptor.systemError("cannot write \(file.name)")
            }
        }
    }

    private func setDirect(_ on: Bool) {
        #if os(Linux)
        guard direct != on else { return }
        let flags = fcntl(file.fd, F_GETFL)
        if flags >= 0 { _ = fcntl(file.fd, F_SETFL, on ? flags | Self.directFlag : flags & ~Self.directFlag) }
        direct = on
        #endif
    }

    /// `O_DIRECT`, which Swift's Glibc module does not export (it needs `_GNU_SOURCE`).
    static var directFlag: Int32 {
        #if arch(arm64) || arch(arm)
        return 0o200_000
        #else
        return 0o40_000  // x86 and the generic Linux value
        #endif
    }
}

/// One buffer on its way to the disk; `WriteBehind` waits for it before the buffer is refilled
/// or freed, which is what makes the unchecked Sendable sound.
private final class WriteJob: @unchecked Sendable {
    let owner: WriteBehind
    let bytes: UnsafeRawBufferPointer

    init(owner: WriteBehind, bytes: UnsafeRawBufferPointer) {
        self.owner = owner
        self.bytes = bytes
    }

    func run() { owner.writeInBackground(bytes) }
}
