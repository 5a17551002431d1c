import CPKCore
import Dispatch
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP answer: status and body.
public struct HTTPResponse: Sendable {
    public let status: Int
    public let body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// Posts JSON and waits for the answer. A protocol so the key-service clients can be tested
/// without a network; failures to talk at all are thrown as one-line `CPKError`s.
public protocol HTTPTransport: Sendable {
    func post(_ url: URL, json body: [UInt8], timeout: TimeInterval) throws -> HTTPResponse
}

/// HTTP(S) through Foundation's URLSession (libcurl on Linux), synchronously: the tools are
/// one-shot processes with nothing else to do while they wait.
public struct URLSessionTransport: HTTPTransport {
    /// Answers larger than this are not key-service answers.
    public static let maximumResponseSize = 1 << 20

    public init() {}

    public func post(_ url: URL, json body: [UInt8], timeout: TimeInterval) throws -> HTTPResponse {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.httpBody = Data(body)

        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        let session = URLSession(configuration: configuration)
        defer { session.invalidateAndCancel() }

        let outcome = Outcome()
        let task = session.dataTask(with: request) { data, response, error in
            outcome.finish(data: data, response: response, error: error)
        }
        task.resume()
        // URLSession enforces the timeout; this wait is a backstop should it not.
        guard outcome.wait(until: .now() + timeout + 5) else {
            task.cancel()
            throw CPKError.io("no answer from \(url.redacted) within \(seconds(timeout)); is the key service up? (--timeout)")
        }
        return try outcome.response(from: url, timeout: timeout)
    }
}

/// What the URLSession completion handler delivers, handed from its thread to the waiting one.
/// `@unchecked Sendable`: every access goes through `lock`, and the semaphore orders the handoff.
private final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var data: Data?
    private var response: URLResponse?
    private var error: Error?

    func finish(data: Data?, response: URLResponse?, error: Error?) {
        lock.lock()
        (self.data, self.response, self.error) = (data, response, error)
        lock.unlock()
        done.signal()
    }

    func wait(until deadline: DispatchTime) -> Bool { done.wait(timeout: deadline) == .success }

    func response(from url: URL, timeout: TimeInterval) throws -> HTTPResponse {
        lock.lock()
        defer { lock.unlock() }
        if let error { throw describe(error, url: url, timeout: timeout) }
        guard let http = response as? HTTPURLResponse else {
            throw CPKError.io("\(url.redacted) did not answer with HTTP")
        }
        let body = data ?? Data()
        guard body.count <= URLSessionTransport.maximumResponseSize else {
            throw CPKError.invalid("\(url.redacted) answered with \(body.count) bytes; a key service answer is small")
        }
        return HTTPResponse(status: http.statusCode, body: [UInt8](body))
    }
}

/// One line saying why a request failed, and what to check.
private func describe(_ error: Error, url: URL, timeout: TimeInterval) -> CPKError {
    let where_ = url.redacted
    let code = URLError.Code(rawValue: (error as NSError).code)
    switch code {
    case .cannotConnectToHost, .networkConnectionLost:
        return .io("cannot connect to \(where_): connection refused; is the key service running at that address?")
    case .cannotFindHost, .dnsLookupFailed:
        return .io("cannot find the host of \(where_); check the URL")
    case .notConnectedToInternet:
        return .io("cannot reach \(where_): no network")
    case .timedOut:
        return .io("no answer from \(where_) within \(seconds(timeout)); is the key service up? (--timeout)")
    case .secureConnectionFailed, .serverCertificateHasBadDate, .serverCertificateUntrusted,
        .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid, .clientCertificateRejected,
        .clientCertificateRequired:
        return tlsFailure(error, where_)
    case .badURL, .unsupportedURL:
        return .usage("cannot use the URL \(where_); give an http:// or https:// URL")
    default:
        // libcurl's TLS errors reach Foundation on Linux as "unknown" (-1), with curl's text.
        let text = error.localizedDescription
        if ["SSL", "TLS", "certificate"].contains(where: { text.contains($0) }) { return tlsFailure(error, where_) }
        return .io("request to \(where_) failed: \(oneLine(text))")
    }
}

private func tlsFailure(_ error: Error, _ where_: String) -> CPKError {
    .io("TLS failure talking to \(where_): \(oneLine(error.localizedDescription)); check the server's certificate and the system's trusted CAs")
}

/// "1 second", "30 seconds", "0.5 seconds".
func seconds(_ value: TimeInterval) -> String {
    let number = value == value.rounded() ? String(Int(value)) : String(value)
    return number + (value == 1 ? " second" : " seconds")
}

func oneLine(_ text: String, limit: Int = 200) -> String {
    let words = text.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " ")
    let printable = String(words.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
    return printable.count > limit ? String(printable.prefix(limit)) + "…" : printable
}

extension URL {
    /// The URL without credentials or query: pre-authenticated endpoints carry their secret
    /// (e.g. an Azure Functions `?code=`) there, and messages must not show it.
    public var redacted: String {
        guard var parts = URLComponents(url: self, resolvingAgainstBaseURL: false) else { return "the key service" }
        parts.user = nil
        parts.password = nil
        parts.query = nil
        parts.fragment = nil
        return parts.string ?? "the key service"
    }
}
