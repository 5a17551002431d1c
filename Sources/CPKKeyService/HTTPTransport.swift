import CPKCore

#if canImport(FoundationEssentials)
import FoundationEssentials  // URL without the rest of Foundation (ICU, networking)
#else
import Foundation
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
