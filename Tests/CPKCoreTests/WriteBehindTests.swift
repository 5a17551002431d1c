import CPKCore
import Foundation
import XCTest

final class WriteBehindTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "cpk-write-behind-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func contents(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory!)/\(name)")))
    }

    /// A deterministic pattern in which every offset's byte differs from its neighbours', so a
    /// buffer written twice, out of order or overwritten while in flight shows.
    func pattern(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 131) ^ ($0 >> 11) &+ seed) }
    }

    /// Every size around the buffer and alignment boundaries, in pieces of awkward sizes, via
    /// copies and via in-place fills, comes out byte for byte, and the descriptor can go on
    /// being written (a trailer) after `finish`.
    func testBytesComeOutInOrderWhateverTheSizes() throws {
        let size = WriteBehind.bufferSize
        for (total, piece) in [(0, 1), (1, 1), (4095, 1000), (size, size), (size + 1, 4096), (3 * size + 12_345, 777_777), (5 * size, 3 * size)] {
            let path = "\(directory!)/out-\(total)"
            let output = try OutputFile(path: path, binary: true)
            let writer = WriteBehind(output.descriptor, directAfter: 0)
            let bytes = pattern(total, seed: total)
            var offset = 0
            var inPlace = false
            while offset < total {
                let end = min(total, offset + piece)
                if inPlace {
                    var at = offset
                    while at < end {
                        at += try writer.fill(upTo: end - at) { space in
                            bytes[at..<at + space.count].withUnsafeBytes { space.copyMemory(from: $0) }
                        }
                    }
                } else {
                    try bytes[offset..<end].withUnsafeBytes { try writer.write($0) }
                }
                inPlace.toggle()
                offset = end
            }
            try writer.finish()
            try output.descriptor.write([0xEE, 0xFF])
            try output.commit()
            XCTAssertTrue(try contents("out-\(total)") == bytes + [0xEE, 0xFF], "\(total) bytes in pieces of \(piece)")
            XCTAssertEqual(writer.directBytes + writer.bufferedBytes, UInt64(total))
            XCTAssertEqual(writer.directBytes % 4096, 0)
        }
    }

    /// A file whose offset is not aligned (bytes written before) cannot take direct I/O: the
    /// same bytes go through the page cache. So does `direct: false`.
    func testUnalignedStartAndNoDirectGiveTheSameBytes() throws {
        let bytes = pattern(2 * WriteBehind.bufferSize + 99, seed: 3)
        for direct in [true, false] {
            let name = "out-\(direct)"
            let output = try OutputFile(path: "\(directory!)/\(name)", binary: true)
            try output.descriptor.write([1, 2, 3])
            let writer = WriteBehind(output.descriptor, direct: direct, directAfter: 0)
            try bytes.withUnsafeBytes { try writer.write($0) }
            try writer.finish()
            try output.commit()
            XCTAssertTrue(try contents(name) == [1, 2, 3] + bytes)
            XCTAssertEqual(writer.directBytes, 0)
            XCTAssertEqual(writer.bufferedBytes, UInt64(bytes.count))
        }
    }

    /// On this project's file systems (ext4, tmpfs on Linux 6.6 and later) a large aligned
    /// file goes past the page cache; where the kernel refuses, the count says so and the
    /// bytes are the same (checked above).
    func testALargeFileIsWrittenDirectWhereTheFileSystemAllows() throws {
        let output = try OutputFile(path: "\(directory!)/large", binary: true)
        let writer = WriteBehind(output.descriptor, directAfter: 0)
        let bytes = pattern(4 * WriteBehind.bufferSize, seed: 9)
        try bytes.withUnsafeBytes { try writer.write($0) }
        try writer.finish()
        try output.commit()
        XCTAssertTrue(try contents("large") == bytes)
        let probe = open(directory, 0o20_200_000 | O_WRONLY | 0o40_000, 0o600)  // O_TMPFILE | O_DIRECT
        if probe >= 0 {
            close(probe)
            XCTAssertEqual(writer.directBytes, UInt64(bytes.count), "the file system takes direct I/O, so the full buffers went direct")
        }
    }

    /// By default the first 64 MiB go through the page cache (a small file is done once in
    /// memory, as usual), the rest direct; the bytes are the same.
    func testDirectIOStartsPastTheThreshold() throws {
        let output = try OutputFile(path: "\(directory!)/threshold", binary: true)
        let writer = WriteBehind(output.descriptor, directAfter: 3 << 20)
        let bytes = pattern(6 * WriteBehind.bufferSize + 17, seed: 5)
        try bytes.withUnsafeBytes { try writer.write($0) }
        try writer.finish()
        try output.commit()
        XCTAssertTrue(try contents("threshold") == bytes)
        XCTAssertGreaterThanOrEqual(writer.bufferedBytes, 3 << 20)
        let probe = open(directory, 0o20_200_000 | O_WRONLY | 0o40_000, 0o600)  // O_TMPFILE | O_DIRECT
        if probe >= 0 {
            close(probe)
            XCTAssertEqual(writer.directBytes, 3 << 20)
        }
        let small = try OutputFile(path: "\(directory!)/small", binary: true)
        let smallWriter = WriteBehind(small.descriptor)
        try bytes.withUnsafeBytes { try smallWriter.write($0) }
        try smallWriter.finish()
        XCTAssertEqual(smallWriter.directBytes, 0, "under the default threshold: the page cache")
    }

    /// A write the kernel refuses is reported (by a later call or by `finish`), never lost.
    func testAWriteErrorIsReported() throws {
        let full = FileDescriptor(fd: open("/dev/full", O_WRONLY | O_CLOEXEC), name: "/dev/full", owned: true)
        let writer = WriteBehind(full)
        let bytes = pattern(3 * WriteBehind.bufferSize, seed: 1)
        XCTAssertThrowsError(try {
            try bytes.withUnsafeBytes { try writer.write($0) }
            try writer.finish()
        }()) { error in
            XCTAssertTrue("\(error)".contains("/dev/full"), "\(error)")
        }
    }

    /// Dropped without `finish` (a failed check): waits for the write in flight, leaves the
    /// descriptor usable through the page cache.
    func testAnAbandonedWriterLeavesTheDescriptorUsable() throws {
        let output = try OutputFile(path: "\(directory!)/abandoned", binary: true)
        do {
            let writer = WriteBehind(output.descriptor, directAfter: 0)
            try pattern(WriteBehind.bufferSize + 5, seed: 2).withUnsafeBytes { try writer.write($0) }
        }
        try output.descriptor.write([7])  // one byte at an odd length: refused were O_DIRECT still on
        try output.commit()
        XCTAssertEqual(try contents("abandoned").count, WriteBehind.bufferSize + 1)
    }
}
