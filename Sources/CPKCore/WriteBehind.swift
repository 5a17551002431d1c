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
/// Direct I/O only on a descriptor this process opened (see `init`). Not for use from two
/// threads at once. A write error is reported by the next call (or by
/// `finish`), never lost.
public final class WriteBehind {
    public var file: FileDescriptor { channel.file }
    public static let bufferSize = 1 << 20
    private static let alignment = 4096

    private let buffers: [UnsafeMutableRawBufferPointer]
    /// The buffer being filled, and how much of it is.
    private var filling = 0
    private var filled = 0
    private let queue = DispatchQueue(label: "cpk.write-behind")
    /// What the writing thread shares with the caller; it holds no buffer, so this object (and
    /// its deinit, which waits for the write in flight) never waits for the writing thread.
    private let channel: Channel
    private var finished = false
    /// Bytes written with `O_DIRECT` and through the page cache, for tests.
    public var directBytes: UInt64 { channel.directBytes }
    public var bufferedBytes: UInt64 { channel.bufferedBytes }

    /// Bytes written through the page cache before direct I/O starts, by default: a file that
    /// stays smaller is done as soon as it is in memory, as usual (on a slow disk, direct I/O
    /// would make the tool wait for the disk); past this the page cache would only hold back
    /// what the disk takes anyway.
    public static let defaultDirectThreshold: UInt64 = 64 << 20

    /// Whether direct I/O may start, once `directAfter` bytes went through the page cache.
    private let mayGoDirect: Bool
    private let directAfter: UInt64
    private var submitted: UInt64 = 0

    /// - Parameters:
    ///   - direct: use `O_DIRECT` where possible (false writes through the page cache, still behind).
    ///   - directAfter: bytes written the ordinary way first (0: direct from the start, for a
    ///     file that is synced anyway).
    public init(_ file: FileDescriptor, direct: Bool = true, directAfter: UInt64 = WriteBehind.defaultDirectThreshold) {
        channel = Channel(file)
        buffers = (0..<2).map { _ in
            UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: Self.alignment)
        }
        self.directAfter = directAfter
        #if os(Linux)
        // Only on a file this process opened: the flag belongs to the open file description,
        // which an inherited descriptor shares with other processes (a shell's `> file`), and a
        // kill before `finish` would leave it set for them.
        mayGoDirect = direct && file.owned && file.isSeekable && lseek(file.fd, 0, SEEK_CUR) % off_t(Self.alignment) == 0
        #else
        mayGoDirect = false
        #endif
    }

    deinit {
        channel.idle.wait()  // a write in flight still reads its buffer
        channel.idle.signal()  // libdispatch refuses to free a semaphore below its initial value
        channel.setDirect(false)
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
        channel.idle.wait()
        defer { channel.idle.signal() }
        if let failure = channel.failure { throw failure }
        channel.setDirect(false)
        try channel.writeOut(UnsafeRawBufferPointer(rebasing: buffers[filling][0..<filled]))
        filled = 0
    }

    /// Hands the full buffer to the writing thread once the previous write is done.
    private func submit() throws {
        channel.idle.wait()
        if let failure = channel.failure {
            channel.idle.signal()
            throw failure
        }
        // No write in flight now; every write so far was a full buffer, so the offset is aligned.
        if mayGoDirect && submitted >= directAfter { channel.setDirect(true) }
        submitted += UInt64(filled)
        let job = WriteJob(channel: channel, bytes: UnsafeRawBufferPointer(rebasing: buffers[filling][0..<filled]))
        queue.async { job.run() }
        filling = 1 - filling
        filled = 0
    }
}

/// The descriptor and the state the writing thread and the caller share. The caller touches it
/// only between `idle.wait()` and `idle.signal()`, or while no write is in flight, which is what
/// makes the unchecked Sendable sound.
private final class Channel: @unchecked Sendable {
    let file: FileDescriptor
    /// 1 while no write is in flight: one write at a time, in order.
    let idle = DispatchSemaphore(value: 1)
    /// Set by the writing thread before it signals `idle`.
    var failure: CPKError?
    private var direct = false
    var directBytes: UInt64 = 0
    var bufferedBytes: UInt64 = 0

    init(_ file: FileDescriptor) { self.file = file }

    func writeOut(_ bytes: UnsafeRawBufferPointer) throws {
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
                refused = true
            } else {
                throw FileDescriptor.systemError("cannot write \(file.name)")
            }
        }
    }

    /// Turns `O_DIRECT` on or off (it stays off when the kernel refuses). Once a direct write
    /// was refused, it is not tried again.
    private var refused = false

    func setDirect(_ on: Bool) {
        #if os(Linux)
        guard direct != on, !(on && refused) else { return }
        let flags = fcntl(file.fd, F_GETFL)
        guard flags >= 0, fcntl(file.fd, F_SETFL, on ? flags | Self.directFlag : flags & ~Self.directFlag) == 0 else { return }
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
    let channel: Channel
    let bytes: UnsafeRawBufferPointer

    init(channel: Channel, bytes: UnsafeRawBufferPointer) {
        self.channel = channel
        self.bytes = bytes
    }

    /// On the writing thread: writes the bytes, then lets the caller reuse the buffer.
    func run() {
        do {
            try channel.writeOut(bytes)
        } catch let error as CPKError {
            channel.failure = error
        } catch {
            channel.failure = CPKError.io("cannot write \(channel.file.name): \(error)")
        }
        channel.idle.signal()
    }
}
