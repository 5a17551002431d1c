/// How an HTTP answer's framing can be wrong; `HTTPClient` turns each into one line naming
/// the URL. Kept apart from `CPKError` so the parser can be tested without a network or URL.
enum FramingError: Error, Equatable {
    /// Nothing came back before the connection closed.
    case noAnswer
    /// The status line does not start with `HTTP/1.x` and a three-digit status.
    case notHTTP
    /// Status line and headers (or the trailers) exceed `ResponseParser.headLimit`.
    case headTooLarge
    /// The body would exceed the limit: announced, in a chunk size, or received.
    case bodyTooLarge
    /// A header line that is not `name: value`, or framing headers that contradict each other.
    case badHeader(String)
    /// A chunk size line or the CRLF after a chunk is wrong.
    case badChunk(String)
    /// The connection closed before the end the framing promised.
    case truncated
}

/// Decodes a `Transfer-Encoding: chunked` body (RFC 9112 §7.1), incrementally, strictly:
/// a size line is 1 to 16 hex digits, optionally `;extensions`, ended by CRLF and at most
/// `sizeLineLimit` bytes; each chunk's data is followed by exactly CRLF; trailers after the
/// last chunk are read (bounded) and ignored. A size larger than what is left of `limit` is
/// refused as soon as it is read, before any of its data.
struct ChunkedDecoder {
    static let sizeLineLimit = 1024

    private enum State: Equatable {
        case sizeLine
        case data(remaining: Int)
        case dataEnd(sawCR: Bool)
        case trailers
        case done
    }

    private var state = State.sizeLine
    private var line: [UInt8] = []
    private var trailerBytes = 0
    private let limit: Int
    private let trailerLimit: Int
    /// Data bytes delivered so far.
    private(set) var delivered = 0

    init(limit: Int, trailerLimit: Int) {
        self.limit = limit
        self.trailerLimit = trailerLimit
    }

    var isComplete: Bool { state == .done }

    /// Decodes what `input` holds, appending chunk data to `body`; returns how many bytes of
    /// `input` it used (all of them unless the body ended within it).
    mutating func decode(_ input: UnsafeRawBufferPointer, into body: inout [UInt8]) throws(FramingError) -> Int {
        var index = 0
        while index < input.count {
            switch state {
            case .done:
                return index
            case .data(let remaining):
                let take = min(remaining, input.count - index)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<(index + take)]))
                delivered += take
                index += take
                state = remaining == take ? .dataEnd(sawCR: false) : .data(remaining: remaining - take)
            case .dataEnd(let sawCR):
                let byte = input[index]
                index += 1
                if !sawCR && byte == 0x0D {
                    state = .dataEnd(sawCR: true)
                } else if sawCR && byte == 0x0A {
                    state = .sizeLine
                } else {
                    throw .badChunk("a chunk's data is not followed by CRLF")
                }
            case .sizeLine, .trailers:
                let byte = input[index]
                index += 1
                if state == .trailers {
                    trailerBytes += 1
                    guard trailerBytes <= trailerLimit else { throw .headTooLarge }
                }
                guard byte == 0x0A else {
                    line.append(byte)
                    if state == .sizeLine && line.count > Self.sizeLineLimit { throw .badChunk("a chunk size line is too long") }
                    continue
                }
                guard line.last == 0x0D else { throw .badChunk("a chunk line does not end with CRLF") }
                line.removeLast()
                if state == .sizeLine {
                    let size = try Self.size(line)
                    guard size <= limit - delivered else { throw .bodyTooLarge }
                    state = size == 0 ? .trailers : .data(remaining: size)
                } else if line.isEmpty {
                    state = .done
                }
                line.removeAll(keepingCapacity: true)
            }
        }
        return index
    }

    /// The size in a size line (CR LF removed): hex digits, then nothing or `;` extensions
    /// (whitespace allowed before the `;`, as RFC 9112's BWS). Anything else is refused.
    static func size(_ line: [UInt8]) throws(FramingError) -> Int {
        var size = 0
        var digits = 0
        var index = 0
        while index < line.count, let value = hexValue(line[index]) {
            digits += 1
            guard digits <= 16 else { throw .badChunk("a chunk size has more than 16 hex digits") }
            // 16 digits can exceed Int.max: such a size is too large for any limit anyway.
            let (shifted, overflow) = size.multipliedReportingOverflow(by: 16)
            guard !overflow else { throw .bodyTooLarge }
            size = shifted + value
            index += 1
        }
        guard digits > 0 else { throw .badChunk("a chunk size line does not start with hex digits") }
        while index < line.count, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
        guard index == line.count || line[index] == UInt8(ascii: ";") else {
            throw .badChunk("a chunk size line has text after the size")
        }
        return size
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }
}
