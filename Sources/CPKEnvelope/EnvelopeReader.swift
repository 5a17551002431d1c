import CPKCBOR
import CPKCore
import CPKFormat

/// Reads an envelope item by item from a file or pipe, in bounded memory.
///
///     let reader = try EnvelopeReader(input: file)      // reads and checks the header
///     while let chunk = try reader.nextChunk() { ... }  // payload, a view valid until the next call
///     let trailer = try reader.trailer()                // deferred streams, checked
public final class EnvelopeReader {
    public let header: EnvelopeHeader
    public var name: String { items.input.name }
    private let items: CBORSequenceReader
    private var payloadRead: UInt64 = 0
    private var finalTrailer: EnvelopeTrailer?

    /// - Parameter prefix: bytes already read from `input` (to recognise it), which come first.
    public init(input: FileDescriptor, prefix: [UInt8] = []) throws {
        items = CBORSequenceReader(input: input, prefix: prefix)
        do {
            guard case .value(let first) = try items.next() else {
                throw CPKError.invalid("not an envelope: the first item must be a map tagged 55799")
            }
            header = try EnvelopeHeader(cbor: first)
        } catch {
            throw error.located(in: input.name)
        }
    }

    /// The next payload chunk, or nil once the trailer has been read.
    public func nextChunk() throws -> UnsafeRawBufferPointer? {
        guard finalTrailer == nil else { return nil }
        do {
            switch try items.next() {
            case .chunk(let bytes):
                try account(chunkOf: bytes.count)
                return bytes
            case .value(let value):
                finalTrailer = try checkedTrailer(value)
                return nil
            case .end:
                throw CPKError.invalid("envelope is truncated: it ends before its trailer (after \(payloadRead) payload bytes)")
            }
        } catch {
            throw error.located(in: items.input.name)
        }
    }

    /// Passes the next payload chunk to `body` without reading its bytes: `body` gets the few
    /// already read with the chunk's head and must move the rest from the input (`ByteMover`)
    /// before the reader is used again. Every check of `nextChunk()` applies; false once the
    /// trailer has been read.
    public func passNextChunk(_ body: (PassedBytes) throws -> Void) throws -> Bool {
        guard finalTrailer == nil else { return false }
        let passed: PassedBytes
        do {
            guard case .chunkHead(let buffered, let rest) = try items.nextPassing() else {
                // A whole chunk, or the trailer, already in memory: the ordinary way.
                guard let chunk = try nextChunk() else { return false }
                try body(PassedBytes(chunk))
                return true
            }
            let size = buffered.count + rest
            try account(chunkOf: size)
            passed = PassedBytes(
                buffered: buffered, source: items.input, offset: nil, count: rest,
                truncation: CPKError.invalid(
                    "envelope is truncated: it ends inside a payload chunk (after fewer than \(payloadRead) payload bytes)"
                ).located(in: items.input.name))
        } catch {
            throw error.located(in: items.input.name)
        }
        try body(passed)
        return true
    }

    private func account(chunkOf size: Int) throws {
        guard size > 0 else { throw CPKError.invalid("envelope: empty payload chunk") }
        guard size <= Envelope.maximumItemSize else {
            throw CPKError.invalid("envelope: a payload chunk of \(size) bytes exceeds the \(Envelope.maximumItemSize)-byte limit")
        }
        payloadRead += UInt64(size)
        if let announced = header.package.payloadSize, payloadRead > announced {
            throw CPKError.invalid("envelope: payload is longer than the \(announced) bytes its header announces")
        }
    }

    /// The trailer; reads (and discards) any payload not yet read.
    public func trailer() throws -> EnvelopeTrailer {
        while try nextChunk() != nil {}
        return finalTrailer!
    }

    private func checkedTrailer(_ value: CBORValue) throws -> EnvelopeTrailer {
        guard case .map = value else {
            throw CPKError.invalid("envelope: expected a payload chunk or the trailer map, found \(value.typeName)")
        }
        let trailer = try EnvelopeTrailer(cbor: value)
        guard trailer.payloadSize == payloadRead else {
            throw CPKError.invalid("envelope: trailer counts \(trailer.payloadSize) payload bytes, the chunks held \(payloadRead)")
        }
        if let announced = header.package.payloadSize, announced != payloadRead {
            throw CPKError.invalid("envelope: payload ended after \(payloadRead) of the \(announced) bytes announced")
        }
        let deferred = header.package.deferredStreams
        guard Set(trailer.streams.keys) == Set(deferred) else {
            throw CPKError.invalid("envelope: trailer streams \(trailer.streams.keys.sorted()) differ from the deferred streams \(deferred)")
        }
        for index in deferred {
            guard case .deferred(let size) = header.package.streams[index], trailer.streams[index]?.count == size else {
                throw CPKError.invalid("envelope: trailer stream \(index) does not have its announced size")
            }
        }
        guard case .end = try items.next() else {
            throw CPKError.invalid("envelope: unexpected data after the trailer")
        }
        return trailer
    }
}

/// Splits a CBOR sequence (RFC 8742) read from a descriptor into items.
final class CBORSequenceReader {
    enum Item {
        case value(CBORValue)
        /// A top-level byte string: a view into the buffer, valid until the next call.
        case chunk(UnsafeRawBufferPointer)
        case end
    }

    let input: FileDescriptor
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var atEndOfInput = false

    init(input: FileDescriptor, prefix: [UInt8]) {
        self.input = input
        buffer = .allocate(byteCount: max(Envelope.chunkSize + Self.lookahead + 64, prefix.count), alignment: 16)
        prefix.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        end = prefix.count
    }

    deinit { buffer.deallocate() }

    enum PassingItem {
        case item
        /// The head of a byte string whose body is not all read: `buffered` is the part read
        /// with the head (a view valid until the next call), `rest` bytes are still in the input.
        case chunkHead(buffered: UnsafeRawBufferPointer, rest: Int)
    }

    /// Like `next()`, but when the next item is a byte string whose body has not arrived yet,
    /// reads only its head and leaves the body in the input, for the caller to move.
    /// `.item` means: call `next()` for the item (the trailer, or a chunk already in memory).
    func nextPassing() throws -> PassingItem {
        if end - start < CBOREncoding.maximumHeadSize && !atEndOfInput {
            try fill(toHold: CBOREncoding.maximumHeadSize, lookahead: 0)
        }
        let available = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
        let outcome = try Self.decodeItem(available)
        guard case .needMore(let needed) = outcome,
            needed <= Envelope.maximumItemSize + CBOREncoding.maximumHeadSize,
            let headSize = Self.byteStringHeadSize(available, itemSize: needed)
        else { return .item }
        let buffered = UnsafeRawBufferPointer(rebasing: available[headSize...])
        start = end
        return .chunkHead(buffered: buffered, rest: needed - available.count)
    }

    /// The next item of `bytes`, a CBOR failure reported as an invalid envelope.
    private static func decodeItem(_ bytes: UnsafeRawBufferPointer) throws -> CBORDecoding.Outcome {
        do {
            return try CBORDecoding.decodeItem(bytes)
        } catch let failure as CBORDecoding.Failure {
            throw CPKError.invalid("envelope: \(failure.reason)")
        }
    }

    /// The size of the byte-string head at the front of `bytes` when the item it starts is
    /// `itemSize` bytes long in all, or nil when `bytes` does not start with the head libcbor
    /// writes for such a byte string (another item, or a head in a longer form than needed,
    /// which the ordinary way still reads).
    static func byteStringHeadSize(_ bytes: UnsafeRawBufferPointer, itemSize: Int) -> Int? {
        var head = [UInt8](repeating: 0, count: CBOREncoding.maximumHeadSize)
        for size in [1, 2, 3, 5, 9] where size <= bytes.count && size < itemSize {
            let written = head.withUnsafeMutableBytes { CBOREncoding.byteStringHead(length: itemSize - size, into: $0) }
            if written == size && bytes.prefix(size).elementsEqual(head.prefix(size)) { return size }
        }
        return nil
    }

    func next() throws -> Item {
        while true {
            if start == end && atEndOfInput { return .end }
            let available = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
            let outcome = try Self.decodeItem(available)
            switch outcome {
            case .value(let value, let consumed):
                start += consumed
                return .value(value)
            case .byteString(let view, let consumed):
                start += consumed
                return .chunk(view)
            case .needMore(let needed):
                guard needed <= Envelope.maximumItemSize + CBOREncoding.maximumHeadSize else {
                    let size = needed == Int.max ? "a length beyond any limit" : "at least \(needed) bytes"
                    throw CPKError.invalid(
                        "envelope: an item declares \(size), more than the \(Envelope.maximumItemSize)-byte limit")
                }
                if atEndOfInput {
                    throw CPKError.invalid("envelope is truncated: its last item needs \(needed) bytes, \(end - start) remain")
                }
                try fill(toHold: needed)
            }
        }
    }

    /// Reads more input so that at least `needed` bytes follow `start`, or input ends.
    ///
    /// It reads little beyond the item it needs, so that what is left over when the item has
    /// been used is small: moving it to the front of the buffer then costs next to nothing,
    /// where a deep read-ahead would copy most of every chunk a second time.
    private func fill(toHold needed: Int, lookahead: Int = CBORSequenceReader.lookahead) throws {
        if start > 0 {
            if start < end {
                buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: end - start)
            }
            end -= start
            start = 0
        }
        if needed > buffer.count {
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: needed + Self.lookahead, alignment: 16)
            larger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
            buffer.deallocate()
            buffer = larger
        }
        let limit = min(buffer.count, needed + lookahead)
        while end < needed {
            let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end..<limit]))
            if n == 0 {
                atEndOfInput = true
                return
            }
            end += n
        }
    }

    /// How far past the current item a read may go: room for the next item's head.
    static let lookahead = 4096
}
