import CPKCore
import CPKKeys
import CPKCrypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// HTTP/1.1 over our own socket (and OpenSSL for https), synchronously: the tools are
/// one-shot processes with nothing else to do while they wait.
///
/// A key service is a party that can misbehave, so: the answer is read from the socket into
/// one small buffer and kept only up to `maximumResponseSize` (beyond that the connection is
/// closed, so an endless body costs nothing more: the server's writes just stall); status line
/// and headers are bounded too; the whole request, name resolution to last byte, has one
/// deadline (`timeout`; resolution runs on another thread so it can be given up on, see
/// `HostLookup`); and redirects are not followed: a key service names its final URL, and
/// following one could take the request (and its credentials) to another origin or from https
/// to http.
///
/// It replaces a URLSession client, which on Linux could neither trust a given CA nor stop
/// FoundationNetworking from queueing an endless body in memory (24 GB seen).
public struct HTTPClient: HTTPTransport {
    /// Answers larger than this are not key-service answers.
    public static let maximumResponseSize = 1 << 20

    /// A PEM file of the CAs to trust for https instead of the system's, or nil.
    public let caFile: String?

    public init(caFile: String? = nil) {
        self.caFile = caFile
    }

    public func post(_ url: URL, json body: [UInt8], timeout: TimeInterval) throws -> HTTPResponse {
        let deadline = Deadline(after: timeout)
        let target = try RequestTarget(url)
        let place = url.redacted
        // OpenSSL writes to the socket with write(2): a server that closes early would raise
        // SIGPIPE and kill the tool without a message. Ignored for the request, so the write
        // fails with EPIPE instead (plain sockets use MSG_NOSIGNAL anyway).
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        do {
            let connection = try Connection.open(host: target.host, port: target.port, deadline: deadline)
            if target.secure { try connection.startTLS(host: target.host, caFile: caFile) }
            try connection.write(target.request(json: body))
            // The connection is closed when `connection` goes: the rest is never read.
            return try Self.response(from: url) { try connection.read(into: $0) }
        } catch let error as ConnectionError {
            throw describe(error, place: place, timeout: timeout)
        }
    }

    /// Reads one answer to a request to `url` through `read`, which fills the buffer it is
    /// given and returns the count (0 at the end of the connection): everything the server
    /// sends is judged here, with the limits above, so a test or fuzzer can feed it any bytes
    /// in any pieces. A redirect is refused, naming its target (redacted).
    public static func response(from url: URL, read: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> HTTPResponse {
        let place = url.redacted
        var parser = ResponseParser(bodyLimit: maximumResponseSize)
        var buffer = [UInt8](repeating: 0, count: 1 << 14)
        do {
            while !parser.isComplete {
                let count = try buffer.withUnsafeMutableBytes { try read($0) }
                if count == 0 {
                    try parser.finish()
                    break
                }
                try buffer.withUnsafeBytes {
                    try parser.consume(UnsafeRawBufferPointer(rebasing: $0[..<count]))
                }
            }
        } catch let error as FramingError {
            throw describe(error, place: place)
        }
        let status = parser.status ?? 0
        if (300..<400).contains(status) {
            let location = parser.values(of: "location").first
            let target = location.flatMap { URL(string: $0, relativeTo: url)?.absoluteURL.redacted } ?? "another URL"
            throw CPKError.invalid(
                "\(place) answered \(status), a redirect to \(target); redirects are not followed: give the key service's final URL")
        }
        return HTTPResponse(status: status, body: parser.body)
    }

    private func describe(_ error: ConnectionError, place: String, timeout: TimeInterval) -> CPKError {
        switch error {
        case .timedOut:
            return CPKError(
                .io, "no answer from \(place) within \(seconds(timeout)); is the key service up?", reason: .keyServiceTimeout)
        case .hostNotFound(let reason):
            return .io("cannot find the host of \(place) (\(oneLine(reason))); check the URL")
        case .refused:
            return .io("cannot connect to \(place): connection refused; is the key service running at that address?")
        case .cannotConnect(let reason):
            return .io("cannot connect to \(place): \(oneLine(reason))")
        case .io(let reason):
            return .io("request to \(place) failed: \(oneLine(reason))")
        case .tls(let reason):
            let trusted = caFile.map { "the CAs in \($0)" } ?? "the system's trusted CAs"
            // With the system's CAs, a command line can say how to name others.
            return CPKError(
                .io, "TLS failure talking to \(place): \(oneLine(reason)); check the server's certificate and \(trusted)",
                reason: caFile == nil ? .systemCAsRefused : nil)
        case .caFile(let reason):
            return .io("cannot use \(caFile ?? "the CA file") as the key service's CA: \(oneLine(reason))")
        }
    }

    private static func describe(_ error: FramingError, place: String) -> CPKError {
        switch error {
        case .noAnswer:
            return .io("\(place) closed the connection without answering")
        case .notHTTP:
            return .io("\(place) did not answer with HTTP")
        case .headTooLarge:
            return .invalid("\(place) answered with headers over \(ResponseParser.headLimit) bytes; a key service answer is small")
        case .bodyTooLarge:
            return .invalid("\(place) answered with more than \(Self.maximumResponseSize) bytes; a key service answer is small")
        case .badHeader(let what), .badChunk(let what):
            return .invalid("\(place) answered with malformed HTTP: \(what)")
        case .truncated:
            return .io("\(place) closed the connection before the answer was complete")
        }
    }
}

/// What a request to a URL needs: where to connect, and the request's head.
struct RequestTarget {
    let secure: Bool
    let host: String
    let port: Int
    /// `Host:` — the host (IPv6 in brackets), with the port when it is not the scheme's.
    let hostHeader: String
    /// The path and query, as sent on the request line.
    let path: String
    /// Basic credentials from the URL's user:password@, as URLSession (libcurl) sent them.
    let authorization: String?

    init(_ url: URL) throws {
        guard let parts = URLComponents(url: url, resolvingAgainstBaseURL: false),
            let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https",
            var host = parts.host, !host.isEmpty
        else { throw CPKError.usage("cannot use the URL \(url.redacted); give an http:// or https:// URL") }
        // URLComponents keeps an IPv6 literal's brackets; getaddrinfo and TLS want the address.
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        secure = scheme == "https"
        let standardPort = secure ? 443 : 80
        let port = parts.port ?? standardPort
        guard (1...65535).contains(port) else { throw CPKError.usage("the URL \(url.redacted) has no usable port") }
        self.host = host
        self.port = port
        let bracketed = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == standardPort ? bracketed : "\(bracketed):\(port)"
        var path = parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath
        if let query = parts.percentEncodedQuery { path += "?" + query }
        self.path = path
        // Nothing that could end the request line or a header may reach them (the URL parser
        // percent-encodes such bytes; this holds whatever it lets through).
        guard (path + hostHeader).utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw CPKError.usage("cannot use the URL \(url.redacted): it has spaces or control characters")
        }
        if let user = parts.user {
            authorization = "Basic " + Base64.encode(Array("\(user):\(parts.password ?? "")".utf8))
        } else {
            authorization = nil
        }
    }

    func request(json body: [UInt8]) -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\n"
        head += "Host: \(hostHeader)\r\n"
        if let authorization { head += "Authorization: \(authorization)\r\n" }
        head += "User-Agent: cpk-tools\r\n"
        head += "Content-Type: application/json\r\n"
        head += "Accept: application/json\r\n"
        head += "Content-Length: \(body.count)\r\n"
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + body
    }
}
