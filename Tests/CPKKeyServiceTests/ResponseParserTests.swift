import CPKCore
import XCTest

@testable import CPKKeyService

/// The response parser and chunked decoder, fed as a hostile server could feed them.
final class ResponseParserTests: XCTestCase {
    private let limit = 64

    /// Parses `text`, fed `piece` bytes at a time, then the end of the connection if `eof`.
    private func parse(_ text: String, piece: Int = .max, eof: Bool = true) throws -> ResponseParser {
        try parse(Array(text.utf8), piece: piece, eof: eof)
    }

    private func parse(_ bytes: [UInt8], piece: Int = .max, eof: Bool = true) throws -> ResponseParser {
        var parser = ResponseParser(bodyLimit: limit)
        var start = 0
        while start < bytes.count && !parser.isComplete {
            let end = start + min(piece, bytes.count - start)
            try parser.consume(Array(bytes[start..<end]))
            start = end
        }
        if eof { try parser.finish() }
        return parser
    }

    private func assertFails(_ text: String, _ expected: FramingError, piece: Int = .max, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try parse(text, piece: piece)
            XCTFail("parsed, expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error as? FramingError, expected, file: file, line: line)
        }
    }

    func testContentLength() throws {
        for piece in [1, 3, 1000] {
            let parser = try parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b  \r\n\r\nhelloEXTRA", piece: piece, eof: false)
            XCTAssertTrue(parser.isComplete)
            XCTAssertEqual(parser.status, 200)
            XCTAssertEqual(parser.body, Array("hello".utf8))
            XCTAssertEqual(parser.values(of: "X-a"), ["b"])
        }
    }

    func testUntilCloseAndBareLF() throws {
        let parser = try parse("HTTP/1.0 404 Not Found\nServer: x\n\n{\"error\": 1}", piece: 2)
        XCTAssertEqual(parser.status, 404)
        XCTAssertEqual(String(decoding: parser.body, as: UTF8.self), "{\"error\": 1}")
    }

    func testChunked() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n5;ext=1\r\nhello\r\n000A \r\n, world!!!\r\n0\r\nTrailer: x\r\n\r\n"
        for piece in [1, 2, 7, 1000] {
            let parser = try parse(text, piece: piece, eof: false)
            XCTAssertTrue(parser.isComplete)
            XCTAssertEqual(String(decoding: parser.body, as: UTF8.self), "hello, world!!!")
        }
    }

    func testInterimAnswersAreSkipped() throws {
        let parser = try parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", eof: false)
        XCTAssertEqual(parser.status, 201)
        XCTAssertTrue(parser.isComplete)
    }

    func testRedirectIsCompleteAtItsHeaders() throws {
        let parser = try parse("HTTP/1.1 307 Temporary Redirect\r\nLocation: http://x/\r\nContent-Length: 999999999\r\n\r\n", eof: false)
        XCTAssertTrue(parser.isComplete)
        XCTAssertEqual(parser.status, 307)
        XCTAssertEqual(parser.values(of: "location"), ["http://x/"])
    }

    func testBodyLimits() {
        // announced: refused before any body byte
        assertFails("HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n", .bodyTooLarge)
        assertFails("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\n", .bodyTooLarge)
        // unannounced
        assertFails("HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "x", count: 65), .bodyTooLarge, piece: 10)
        XCTAssertNoThrow(try parse("HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "x", count: 64), piece: 10))
        // a chunk size over what is left is refused before its data
        assertFails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n", .bodyTooLarge)
        assertFails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" + String(repeating: "x", count: 32) + "\r\n21\r\n", .bodyTooLarge)
        assertFails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n", .bodyTooLarge)
    }

    func testEndlessChunkedBodyStopsAtTheLimit() {
        var parser = ResponseParser(bodyLimit: 1 << 20)
        let piece = Array("4000\r\n".utf8) + [UInt8](repeating: 0x7A, count: 0x4000) + Array("\r\n".utf8)
        var fed = 0
        do {
            try parser.consume(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
            while fed < 200 {
                try parser.consume(piece)
                fed += 1
            }
            XCTFail("an endless body was accepted")
        } catch {
            XCTAssertEqual(error as? FramingError, .bodyTooLarge)
            XCTAssertEqual(fed, 64)  // 64 chunks of 16 KiB make the 1 MiB; the 65th is refused by its size
            XCTAssertLessThanOrEqual(parser.body.count, 1 << 20)
        }
    }

    func testHeadLimit() {
        let long = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", count: 2000)
        assertFails(long, .headTooLarge, piece: 4096)
        assertFails("HTTP/1.1 200 OK\r\n" + String(repeating: "a", count: 70_000), .headTooLarge)
        // trailers are bounded as well
        let trailers = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + String(repeating: "T: x\r\n", count: 20_000)
        assertFails(trailers, .headTooLarge, piece: 4096)
        // endless interim answers share the one budget
        assertFails(String(repeating: "HTTP/1.1 100 Continue\r\n\r\n", count: 5000), .headTooLarge, piece: 512)
    }

    func testBadStatusLines() {
        for line in ["SSH-2.0-OpenSSH_9.2", "HTTP/2 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1  200 OK", "http/1.1 200 OK", "HTTP/1.1 050 Odd", "HTTP/1.1 600 Odd", ""] {
            assertFails(line + "\r\n\r\n", .notHTTP)
        }
        XCTAssertEqual(try parse("HTTP/1.1 204\r\n\r\n", eof: false).status, 204)
    }

    func testBadHeaders() {
        assertFails("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", .badHeader("a header line that is not name: value"))
        assertFails("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", .badHeader("a header line that is not name: value"))
        assertFails("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", .badHeader("a header line that is not name: value"))
        assertFails("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", .badHeader("a folded header line"))
        assertFails("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", .badHeader("a header value with NUL or CR"))
        assertFails("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", .badHeader("both Transfer-Encoding and Content-Length"))
        assertFails("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .badHeader("Transfer-Encoding gzip, chunked (only chunked is accepted)"))
        for length in ["5, 6", "-1", "+5", "0x10", "", "5 5"] {
            assertFails("HTTP/1.1 200 OK\r\nContent-Length: \(length)\r\n\r\nhello", .badHeader("a Content-Length that is not one decimal number"))
        }
        XCTAssertEqual(try parse("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello", eof: false).body.count, 5)
    }

    func testBadChunks() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        assertFails(head + "\r\n", .badChunk("a chunk size line does not start with hex digits"))
        assertFails(head + "-5\r\n", .badChunk("a chunk size line does not start with hex digits"))
        assertFails(head + "0x5\r\n", .badChunk("a chunk size line has text after the size"))
        assertFails(head + "5 5\r\n", .badChunk("a chunk size line has text after the size"))
        assertFails(head + "5\n", .badChunk("a chunk line does not end with CRLF"))
        assertFails(head + "00000000000000001\r\n", .badChunk("a chunk size has more than 16 hex digits"))
        assertFails(head + "5\r\nhelloX\r\n", .badChunk("a chunk's data is not followed by CRLF"))
        assertFails(head + "5\r\nhello\r\r", .badChunk("a chunk's data is not followed by CRLF"))
        assertFails(head + "1;" + String(repeating: "e", count: 2000) + "\r\n", .badChunk("a chunk size line is too long"), piece: 100)
    }

    func testTruncation() {
        assertFails("", .noAnswer)
        assertFails("HTTP/1.1 200 OK\r\nContent-Le", .truncated)
        assertFails("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", .truncated)
        assertFails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", .truncated)
        assertFails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", .truncated)
    }

    func testRequestHead() throws {
        let target = try RequestTarget(XCTUnwrap(URL(string: "https://us%40r:p%3Aw@[::1]:8443/api/WrapKey?code=a%20b")))
        XCTAssertEqual(target.host, "::1")
        XCTAssertEqual(target.port, 8443)
        let text = String(decoding: target.request(json: Array("{}".utf8)), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("POST /api/WrapKey?code=a%20b HTTP/1.1\r\nHost: [::1]:8443\r\n"), text)
        // "us@r:p:w"
        XCTAssertTrue(text.contains("Authorization: Basic dXNAcjpwOnc=\r\n"), text)
        XCTAssertTrue(text.hasSuffix("Content-Length: 2\r\nConnection: close\r\n\r\n{}"), text)
        let plain = try RequestTarget(XCTUnwrap(URL(string: "http://keys.example:80")))
        XCTAssertEqual(plain.hostHeader, "keys.example")
        XCTAssertEqual(plain.path, "/")
        XCTAssertNil(plain.authorization)
    }

    /// `HTTPClient.response` over bytes fed by a closure, as the socket feeds them.
    private func response(_ text: String, piece: Int) throws -> HTTPResponse {
        let bytes = Array(text.utf8)
        var offset = 0
        let url = try XCTUnwrap(URL(string: "https://user:s3cret@keys.example/api/WrapKey?code=q7token"))
        return try HTTPClient.response(from: url) { buffer in
            let count = min(piece, buffer.count, bytes.count - offset)
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + count])) }
            offset += count
            return count
        }
    }

    func testClientReadsAnAnswerInAnyPieces() throws {
        for piece in [1, 7, 1 << 20] {
            let answer = try response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", piece: piece)
            XCTAssertEqual(answer.status, 200)
            XCTAssertEqual(answer.body, Array("{}".utf8))
        }
    }

    /// A refusal names the service without its credentials or query, and a redirect is refused
    /// naming its target the same way.
    func testClientRefusalsNameTheRedactedURL() {
        for (text, expected) in [
            ("HTTP/1.1 302 Found\r\nLocation: http://a:b@other.example/x?t=1\r\n\r\n", "redirects are not followed"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "before the answer was complete"),
            ("SMTP ready\r\n\r\n", "did not answer with HTTP"),
        ] {
            XCTAssertThrowsError(try response(text, piece: 3)) { error in
                let message = (error as? CPKError)?.message ?? "\(error)"
                XCTAssertTrue(message.contains(expected), message)
                XCTAssertTrue(message.contains("keys.example"), message)
                for secret in ["s3cret", "q7token", "a:b", "t=1"] { XCTAssertFalse(message.contains(secret), message) }
            }
        }
    }
}
