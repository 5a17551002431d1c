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
///
/// A key service is a party that can misbehave, so the answer is streamed through a delegate
/// and held only up to `maximumResponseSize` (an endless or huge body stops there, in memory
/// that size); the whole request, connection to last byte, has one deadline (`timeout`); and
/// redirects are not followed: a key service names its final URL, and following one could take
/// the request (and its credentials) to another origin or from https to http.
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
        let exchange = Exchange(url: url, limit: Self.maximumResponseSize)
        let session = URLSession(configuration: configuration, delegate: exchange, delegateQueue: nil)
        defer { session.invalidateAndCancel() }  // also breaks the session's hold on its delegate

        let task = session.dataTask(with: request)
        task.resume()
        // The one deadline of the whole request: URLSession's own timeouts restart with every
        // byte received, so a server trickling an endless body would never reach them.
        guard exchange.wait(until: .now() + timeout) else {
            task.cancel()
            throw CPKError.io("no answer from \(url.redacted) within \(seconds(timeout)); is the key service up? (--timeout)")
        }
        return try exchange.response(timeout: timeout)
    }
}

/// One request's answer as the URLSession delegate receives it, handed from URLSession's
/// threads to the waiting one. `@unchecked Sendable`: every access goes through `lock`, and
/// the semaphore orders the handoff.
private final class Exchange: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let url: URL
    private let limit: Int
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var body: [UInt8] = []
    private var response: URLResponse?
    private var error: Error?
    /// Why this side stopped the transfer (too large, a redirect); wins over the cancellation error.
    private var refusal: CPKError?

    init(url: URL, limit: Int) {
        self.url = url
        self.limit = limit
    }

    func wait(until deadline: DispatchTime) -> Bool { done.wait(timeout: deadline) == .success }

    private func refuse(_ reason: CPKError, _ task: URLSessionTask) {
        lock.lock()
        let first = refusal == nil
        if first { refusal = reason }
        lock.unlock()
        task.cancel()
        // Wake the waiting thread now: FoundationNetworking keeps queueing what libcurl reads
        // until the cancellation lands, so waiting for completion lets an endless body grow.
        if first { done.signal() }
    }

    private var tooLarge: CPKError {
        .invalid("\(url.redacted) answered with more than \(limit) bytes; a key service answer is small")
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        lock.lock()
        self.response = response
        lock.unlock()
        if response.expectedContentLength > Int64(limit) {
            refuse(tooLarge, dataTask)
            completionHandler(.cancel)
            return
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock()
        let fits = refusal == nil && body.count + data.count <= limit
        if fits { body += data }
        lock.unlock()
        if !fits { refuse(tooLarge, dataTask) }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        let target = request.url.map { $0.redacted } ?? "another URL"
        // Declining (nil) ends the task with the 3xx answer; cancelling here as well would
        // make FoundationNetworking trap on the second callback.
        lock.lock()
        if refusal == nil {
            refusal = .invalid(
                "\(url.redacted) answered \(response.statusCode), a redirect to \(target); redirects are not followed: "
                    + "give the key service's final URL")
        }
        lock.unlock()
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.lock()
        self.error = error
        if response == nil { response = task.response }
        lock.unlock()
        done.signal()
    }

    func response(timeout: TimeInterval) throws -> HTTPResponse {
        lock.lock()
        defer { lock.unlock() }
        if let refusal { throw refusal }
        if let error { throw describe(error, url: url, timeout: timeout) }
        guard let http = response as? HTTPURLResponse else {
            throw CPKError.io("\(url.redacted) did not answer with HTTP")
        }
        if (300..<400).contains(http.statusCode) {
            throw CPKError.invalid("\(url.redacted) answered \(http.statusCode), a redirect; redirects are not followed: give the key service's final URL")
        }
        return HTTPResponse(status: http.statusCode, body: body)
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
