import CPKCore
import CPKEnvelope
import CPKFormat

/// Where a tool writes the package it produces: an envelope (the default between tools) or a
/// finished `.cpk` (the explicit last step of a pipeline).
public protocol PackageOutput: AnyObject {
    func begin(head: PackageHead, log: [LogEntry]) throws
    func writePayload(_ chunk: UnsafeRawBufferPointer) throws
    func finish(deferredStreams: [Int: [UInt8]]) throws
    /// Writes payload bytes passed on unchanged (`PackageInput.passNextPayloadChunk`), moving
    /// the part still in the input without copying it through this process where it can.
    func writePayload(passing bytes: PassedBytes) throws
    /// True when bytes passed on (`writePayload(passing:)`) are moved by the kernel rather than
    /// copied: a writer that has its payload in a file then hands over the range, not its buffer.
    var movesPassedBytesInKernel: Bool { get }
}

extension PackageOutput {
    /// For an output that must see every byte: copies them through memory.
    public func writePayload(passing bytes: PassedBytes) throws {
        try ByteMover(to: .standardOutput).forEachPiece(of: bytes) { try writePayload($0) }
    }

    public var movesPassedBytesInKernel: Bool { false }
}

public enum OutputFormat: String, Sendable, CaseIterable {
    case envelope
    case cpk
}

public func makePackageOutput(_ format: OutputFormat, to file: FileDescriptor) -> PackageOutput {
    switch format {
    case .envelope: return EnvelopeOutput(file: file)
    case .cpk: return CPKOutput(file: file)
    }
}

final class EnvelopeOutput: PackageOutput {
    private let file: FileDescriptor
    private var writer: EnvelopeWriter?

    init(file: FileDescriptor) { self.file = file }

    func begin(head: PackageHead, log: [LogEntry]) throws {
        writer = try EnvelopeWriter(output: file, header: EnvelopeHeader(package: head, log: log))
    }

    func writePayload(_ chunk: UnsafeRawBufferPointer) throws { try writer!.writeChunk(chunk) }

    func writePayload(passing bytes: PassedBytes) throws { try writer!.writeChunk(passing: bytes) }

    /// To a pipe, `splice(2)` moves a file's pages in without a copy (`ByteMover`).
    var movesPassedBytesInKernel: Bool { file.isPipe }

    func finish(deferredStreams: [Int: [UInt8]]) throws { try writer!.finish(deferredStreams: deferredStreams) }
}

/// Writes a `.cpk` in one pass. When the payload's size is not known in advance (it came
/// from a pipe), the payload is first spooled to an anonymous temporary file.
final class CPKOutput: PackageOutput {
    private let file: FileDescriptor
    private let tap: ((UnsafeRawBufferPointer) -> Void)?
    private var head: PackageHead?
    private var writer: PackageWriter?
    private var spool: FileDescriptor?
    private var spoolMover: ByteMover?
    private var spooledSize: UInt64 = 0

    /// - Parameter tap: sees every byte of the `.cpk` as it is written (see `PackageWriter`).
    init(file: FileDescriptor, tap: ((UnsafeRawBufferPointer) -> Void)? = nil) {
        self.file = file
        self.tap = tap
    }

    func begin(head: PackageHead, log: [LogEntry]) throws {
        try head.validate()
        if let pending = head.pendingSignatures.first {
            throw CPKError.invalid(
                "stream \(pending) awaits an offline signature; stitch it in (cpk-sign stitch) before writing a .cpk")
        }
        self.head = head
        if let size = head.payloadSize {
            writer = try startWriter(head: head, payloadSize: size)
        } else {
            spool = try TemporaryFile.anonymous(purpose: "payload of unknown size")
        }
    }

    func writePayload(_ chunk: UnsafeRawBufferPointer) throws {
        if let spool {
            try spool.write(chunk)
            spooledSize += UInt64(chunk.count)
        } else {
            try writer!.writePayload(chunk)
        }
    }

    func writePayload(passing bytes: PassedBytes) throws {
        if let spool {
            spoolMover = spoolMover ?? ByteMover(to: spool)
            try spoolMover!.move(bytes)
            spooledSize += UInt64(bytes.total)
        } else {
            try writer!.writePayload(passing: bytes)
        }
    }

    func finish(deferredStreams: [Int: [UInt8]]) throws {
        guard let head else { return }
        if let spool {
            let writer = try startWriter(head: head, payloadSize: spooledSize)
            // From the spool file to the output in the kernel where it can (see ByteMover).
            var done: UInt64 = 0
            while done < spooledSize {
                let count = Int(min(spooledSize - done, 1 << 30))
                try writer.writePayload(passing: PassedBytes(
                    buffered: UnsafeRawBufferPointer(start: nil, count: 0), source: spool, offset: done, count: count,
                    truncation: CPKError.io("the spooled payload is shorter than written")))
                done += UInt64(count)
            }
            self.writer = writer
        }
        let streams: [[UInt8]] = head.streams.enumerated().map { index, content in
            switch content {
            case .bytes(let bytes): return bytes
            case .manifest: return head.manifestBytes
            case .deferred: return deferredStreams[index] ?? []
            case .payload: return []
            }
        }
        try writer!.finish(streams: streams)
    }

    private func startWriter(head: PackageHead, payloadSize: UInt64) throws -> PackageWriter {
        var sizes = head.streamSizes
        sizes[head.manifest.payload.data] = payloadSize
        return try PackageWriter(
            output: file, streamSizes: sizes.map { $0 ?? 0 }, manifestIndex: head.manifestIndex,
            payloadIndex: head.manifest.payload.data, tap: tap, writeBehind: true)
    }
}
