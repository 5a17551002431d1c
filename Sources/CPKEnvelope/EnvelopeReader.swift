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
                guard bytes.count > 0 else { throw CPKError.invalid("envelope: empty payload chunk") }
                guard bytes.count <= Envelope.maximumItemSize else {
                    throw CPKError.invalid("envelope: a payload chunk of \(bytes.count) bytes exceeds the \(Envelope.maximumItemSize)-byte limit")
                }
                payloadRead += UInt64(bytes.count)
                if let announced = header.package.payloadSize, payloadRead > announced {
                    throw CPKError.invalid("envelope: payload is longer than the \(announced) bytes its header announces")
                }
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

    func next() throws -> Item {
        while true {
            if start == end && atEndOfInput { return .end }
            let available = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
            let outcome: CBORDecoding.Outcome
            do {
                outcome = try CBORDecoding.decodeItem(available)
            } catch let failure as CBORDecoding.Failure {
                throw CPKError.invalid("envelope: \(failure.reason)")
            }
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
    private func fill(toHold needed: Int) throws {
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
        let limit = min(buffer.count, needed + Self.lookahead)
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
