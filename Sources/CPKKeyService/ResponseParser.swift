/// Reads an HTTP/1.1 answer (RFC 9112) fed to it in pieces as they arrive from the socket, with
/// everything a hostile server controls bounded: status line and headers together at most
/// `headLimit` bytes, the body at most `bodyLimit` (an announced Content-Length above it is
/// refused at once, before any body is read), chunk size lines by `ChunkedDecoder`.
///
/// Framing follows RFC 9112 §6.3 for an answer to a POST on a `Connection: close` request:
/// 1xx interim answers are skipped; 204, 304 and 101 have no body; `Transfer-Encoding: chunked`
/// (the only coding accepted, since the request asks for none) is decoded; else Content-Length;
/// else the body runs to the end of the connection. A 3xx answer is complete at its headers:
/// redirects are refused, so their bodies are never read. An answer with both Transfer-Encoding
/// and Content-Length, or with differing Content-Lengths, is refused: that ambiguity is what
/// request smuggling is made of, and a key service has no reason to send it.
struct ResponseParser {
    static let headLimit = 64 * 1024

    private enum Framing {
        case length(remaining: Int)
        case chunked(ChunkedDecoder)
        case untilClose
    }

    private enum State {
        case head
        case body(Framing)
        case done
    }

    let bodyLimit: Int
    private var state = State.head
    private var line: [UInt8] = []
    private var headBytes = 0
    private var receivedAnything = false
    private var statusLineSeen = false

    /// The status, once the (final) status line is read.
    private(set) var status: Int?
    /// The headers of the final answer, names lowercased, in order.
    private(set) var headers: [(name: String, value: String)] = []
    private(set) var body: [UInt8] = []

    init(bodyLimit: Int) {
        self.bodyLimit = bodyLimit
    }

    var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// The values of one header (name in any case), in order.
    func values(of name: String) -> [String] {
        let name = name.lowercased()
        return headers.filter { $0.name == name }.map(\.value)
    }

    /// `consume` for an array; throws only `FramingError` (`withUnsafeBytes` cannot say so).
    mutating func consume(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try consume($0) }
    }

    /// Takes the next bytes read. Bytes after the end of the answer are ignored: the request
    /// said `Connection: close`, so nothing more is expected.
    mutating func consume(_ input: UnsafeRawBufferPointer) throws(FramingError) {
        if !input.isEmpty { receivedAnything = true }
        var index = 0
        while index < input.count {
            switch state {
            case .done:
                return
            case .head:
                let byte = input[index]
                index += 1
                headBytes += 1
                guard headBytes <= Self.headLimit else { throw .headTooLarge }
                if byte == 0x0A {
                    // RFC 9112 §2.2: a recipient may take a bare LF as the end of a head line.
                    if line.last == 0x0D { line.removeLast() }
                    try headLine(line)
                    line.removeAll(keepingCapacity: true)
                } else {
                    line.append(byte)
                }
            case .body(.length(let remaining)):
                let take = min(remaining, input.count - index)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<(index + take)]))
                index += take
                state = remaining == take ? .done : .body(.length(remaining: remaining - take))
            case .body(.chunked(var decoder)):
                index += try decoder.decode(UnsafeRawBufferPointer(rebasing: input[index...]), into: &body)
                state = decoder.isComplete ? .done : .body(.chunked(decoder))
            case .body(.untilClose):
                let take = input.count - index
                guard take <= bodyLimit - body.count else { throw .bodyTooLarge }
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index...]))
                index += take
            }
        }
    }

    /// The connection ended: complete only if the framing says the body may end here.
    mutating func finish() throws(FramingError) {
        switch state {
        case .done:
            return
        case .body(.untilClose):
            state = .done
        case .head:
            throw receivedAnything ? .truncated : .noAnswer
        case .body:
            throw .truncated
        }
    }

    private mutating func headLine(_ line: [UInt8]) throws(FramingError) {
        guard statusLineSeen else {
            status = try Self.status(line)
            statusLineSeen = true
            return
        }
        if line.isEmpty { return try headEnded() }
        if line.first == 0x20 || line.first == 0x09 { throw .badHeader("a folded header line") }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
            line[..<colon].allSatisfy(Self.isTokenByte)
        else { throw .badHeader("a header line that is not name: value") }
        let value = line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }
        guard !value.contains(where: { $0 == 0 || $0 == 0x0D }) else { throw .badHeader("a header value with NUL or CR") }
        var text = String(decoding: value, as: UTF8.self)
        while text.last == " " || text.last == "\t" { text.removeLast() }
        headers.append((String(decoding: line[..<colon], as: UTF8.self).lowercased(), text))
    }

    private mutating func headEnded() throws(FramingError) {
        let status = self.status ?? 0
        if (100..<200).contains(status) && status != 101 {
            // An interim answer: the final one follows, within the same head budget.
            statusLineSeen = false
            self.status = nil
            headers = []
            return
        }
        if status == 101 || status == 204 || status == 304 || (300..<400).contains(status) {
            state = .done
            return
        }
        let codings = values(of: "transfer-encoding")
        let lengths = values(of: "content-length")
        if !codings.isEmpty {
            guard lengths.isEmpty else { throw .badHeader("both Transfer-Encoding and Content-Length") }
            let names = codings.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces.lowercased() }
            guard names == ["chunked"] else {
                throw .badHeader("Transfer-Encoding \(codings.joined(separator: ", ")) (only chunked is accepted)")
            }
            state = .body(.chunked(ChunkedDecoder(limit: bodyLimit, trailerLimit: Self.headLimit)))
        } else if !lengths.isEmpty {
            // Several equal values (in one header or repeated) are allowed by RFC 9110 §8.6.
            let texts = Set(lengths.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map(\.trimmingSpaces))
            guard texts.count == 1, let text = texts.first, !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) })
            else { throw .badHeader("a Content-Length that is not one decimal number") }
            // More digits than any limit here could need: refused as too large, not parsed.
            guard text.utf8.count <= 18, let length = Int(text) else { throw .bodyTooLarge }
            guard length <= bodyLimit else { throw .bodyTooLarge }
            state = length == 0 ? .done : .body(.length(remaining: length))
        } else {
            state = .body(.untilClose)
        }
    }

    /// `HTTP/1.x SSS reason`: the status, or `notHTTP`. Three digits outside 100...599 are not
    /// a status either (RFC 9110 §15: its first digit is the class, 1 to 5).
    static func status(_ line: [UInt8]) throws(FramingError) -> Int {
        let prefix = Array("HTTP/1.".utf8)
        guard line.count >= 12, Array(line[0..<7]) == prefix, (0x30...0x39).contains(line[7]), line[8] == 0x20,
            line[9..<12].allSatisfy({ (0x30...0x39).contains($0) }), line.count == 12 || line[12] == 0x20
        else { throw .notHTTP }
        let status = line[9..<12].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard (100...599).contains(status) else { throw .notHTTP }
        return status
    }

    /// RFC 9110 §5.6.2 tchar.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's OWS).
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
