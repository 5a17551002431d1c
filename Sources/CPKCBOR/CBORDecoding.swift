import CLibCBOR
import CPKCore

/// Decodes one CBOR item from the front of a buffer with libcbor's streaming decoder.
///
/// The decoder builds small items (maps, arrays, text) as `CBORValue`s, bounded in depth and
/// with every declared count checked against the bytes actually present, so a hostile length
/// cannot make it allocate more than the input. A top-level byte string is not copied: the
/// caller gets a view of the buffer (the payload chunks of an envelope).
public enum CBORDecoding {
    public enum Outcome {
        case value(CBORValue, consumed: Int)
        case byteString(UnsafeRawBufferPointer, consumed: Int)
        /// The item is not complete: at least this many bytes (from the buffer's start) are needed.
        case needMore(Int)
    }

    public struct Failure: Error {
        public let reason: String
    }

    public static let maximumDepth = 16

    public static func decodeItem(_ buffer: UnsafeRawBufferPointer) throws -> Outcome {
        let builder = TreeBuilder()
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .needMore(1) }
        var offset = 0
        var callbacks = Self.callbacks
        let context = Unmanaged.passUnretained(builder).toOpaque()
        while true {
            guard offset < buffer.count else { return .needMore(offset + 1) }
            builder.bytesLeft = buffer.count - offset
            let result = cbor_stream_decode(base + offset, buffer.count - offset, &callbacks, context)
            switch result.status {
            case CBOR_DECODER_FINISHED:
                if let reason = builder.failure { throw Failure(reason: reason) }
                offset += result.read
                if builder.itemsBeyondInput > 0 {
                    // A container declares more items than the bytes at hand: the rest of the
                    // item has not arrived yet, or never will (the reader's size limit decides).
                    let (needed, overflow) = offset.addingReportingOverflow(builder.itemsBeyondInput)
                    return .needMore(overflow ? Int.max : needed)
                }
                if let view = builder.topLevelBytes {
                    return .byteString(view, consumed: offset)
                }
                if let value = builder.result { return .value(value, consumed: offset) }
            case CBOR_DECODER_NEDATA:
                // libcbor adds a declared length to the head size without an overflow check:
                // a "required" that is not beyond the bytes at hand can only be such a wrap.
                let (needed, overflow) = offset.addingReportingOverflow(result.required)
                return .needMore(overflow || needed <= buffer.count ? Int.max : needed)
            default:
                throw Failure(reason: "malformed CBOR (reserved or invalid initial byte)")
            }
        }
    }

    /// The callbacks libcbor calls as it meets each item head; `context` is the `TreeBuilder`.
    nonisolated(unsafe) static let callbacks: cbor_callbacks = {
        var c = cbor_empty_callbacks
        c.uint8 = { TreeBuilder.from($0).add(.unsigned(UInt64($1))) }
        c.uint16 = { TreeBuilder.from($0).add(.unsigned(UInt64($1))) }
        c.uint32 = { TreeBuilder.from($0).add(.unsigned(UInt64($1))) }
        c.uint64 = { TreeBuilder.from($0).add(.unsigned($1)) }
        c.negint8 = { TreeBuilder.from($0).add(.negative(UInt64($1))) }
        c.negint16 = { TreeBuilder.from($0).add(.negative(UInt64($1))) }
        c.negint32 = { TreeBuilder.from($0).add(.negative(UInt64($1))) }
        c.negint64 = { TreeBuilder.from($0).add(.negative($1)) }
        c.byte_string = { context, data, length in TreeBuilder.from(context).addBytes(data, length) }
        c.string = { context, data, length in TreeBuilder.from(context).addText(data, length) }
        c.array_start = { TreeBuilder.from($0).open(.array, count: $1) }
        c.map_start = { TreeBuilder.from($0).open(.map, count: $1) }
        c.tag = { TreeBuilder.from($0).openTag($1) }
        c.float2 = { TreeBuilder.from($0).add(.float(Double($1))) }
        c.float4 = { TreeBuilder.from($0).add(.float(Double($1))) }
        c.float8 = { TreeBuilder.from($0).add(.float($1)) }
        c.null = { TreeBuilder.from($0).add(.null) }
        c.boolean = { TreeBuilder.from($0).add(.bool($1)) }
        c.undefined = { TreeBuilder.from($0).fail("the undefined value is not used in envelopes") }
        let indefinite: @convention(c) (UnsafeMutableRawPointer?) -> Void = {
            TreeBuilder.from($0).fail("indefinite-length items are not used in envelopes")
        }
        c.byte_string_start = indefinite
        c.string_start = indefinite
        c.indef_array_start = indefinite
        c.indef_map_start = indefinite
        c.indef_break = indefinite
        return c
    }()
}

/// Assembles the items libcbor reports into one value.
private final class TreeBuilder {
    enum ContainerKind { case array, map, tag(UInt64) }

    struct Container {
        var kind: ContainerKind
        var expected: Int
        var items: [CBORValue] = []
    }

    var stack: [Container] = []
    var result: CBORValue?
    var topLevelBytes: UnsafeRawBufferPointer?
    var failure: String?
    /// Bytes of input not yet decoded: no container can hold more items than that.
    var bytesLeft = 0
    /// Set when a container declares more items than `bytesLeft`: how many it declares.
    var itemsBeyondInput = 0

    static func from(_ context: UnsafeMutableRawPointer?) -> TreeBuilder {
        Unmanaged<TreeBuilder>.fromOpaque(context!).takeUnretainedValue()
    }

    func fail(_ reason: String) {
        if failure == nil { failure = reason }
    }

    func add(_ value: CBORValue) {
        guard failure == nil else { return }
        guard var top = stack.popLast() else {
            result = value
            return
        }
        top.items.append(value)
        if top.items.count < top.expected {
            stack.append(top)
            return
        }
        switch top.kind {
        case .array: add(.array(top.items))
        case .tag(let tag): add(.tagged(tag, top.items[0]))
        case .map:
            let entries = stride(from: 0, to: top.items.count, by: 2).map {
                CBORValue.MapEntry(top.items[$0], top.items[$0 + 1])
            }
            add(.map(entries))
        }
    }

    func open(_ kind: ContainerKind, count: Int) {
        // libcbor reports the count as size_t, which Swift reads as Int: 2^63 and up is negative.
        let items = count.multipliedReportingOverflow(by: kind.isMap ? 2 : 1)
        guard count >= 0, !items.overflow else {
            return fail("a CBOR container declares \(UInt(bitPattern: count)) items, more than any envelope holds")
        }
        if items.partialValue > bytesLeft {
            itemsBeyondInput = items.partialValue
            return
        }
        guard stack.count < CBORDecoding.maximumDepth else { return fail("CBOR nested too deeply") }
        if items.partialValue == 0 {
            add(kind.isMap ? .map([]) : .array([]))
        } else {
            stack.append(Container(kind: kind, expected: items.partialValue))
        }
    }

    func openTag(_ tag: UInt64) {
        guard stack.count < CBORDecoding.maximumDepth else { return fail("CBOR nested too deeply") }
        stack.append(Container(kind: .tag(tag), expected: 1))
    }

    func addBytes(_ data: UnsafePointer<UInt8>?, _ length: Int) {
        let view = UnsafeRawBufferPointer(start: data, count: length)
        if stack.isEmpty && failure == nil {
            topLevelBytes = view
        } else {
            add(.bytes(Array(view)))
        }
    }

    func addText(_ data: UnsafePointer<UInt8>?, _ length: Int) {
        guard let text = String(validating: UnsafeBufferPointer(start: data, count: length), as: UTF8.self) else {
            return fail("a CBOR text string is not valid UTF-8")
        }
        add(.text(text))
    }
}

extension TreeBuilder.ContainerKind {
    var isMap: Bool {
        if case .map = self { return true }
        return false
    }
}

extension CBORValue {
    /// Decodes bytes that hold exactly one small CBOR item (e.g. a wrapped-key document).
    public init(decoding bytes: [UInt8]) throws {
        let outcome: CBORDecoding.Outcome
        do {
            outcome = try bytes.withUnsafeBytes { try CBORDecoding.decodeItem($0) }
        } catch let failure as CBORDecoding.Failure {
            throw CPKError.invalid(failure.reason)
        }
        switch outcome {
        case .value(let value, let consumed) where consumed == bytes.count:
            self = value
        case .byteString(let view, let consumed) where consumed == bytes.count:
            self = .bytes(Array(view))
        case .needMore:
            throw CPKError.invalid("CBOR item is truncated")
        default:
            throw CPKError.invalid("unexpected bytes after the CBOR item")
        }
    }
}
