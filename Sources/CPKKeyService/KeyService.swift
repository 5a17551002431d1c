import CPKCore
import CPKKeys
import CPKCrypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The HTTP key-service contracts (docs/keys.md §4.2):
///
///     WrapKey:      POST <endpoint>  {"key_name", "client_public_key"}  ->  {"wrapped_key"}
///     ProvisionKey: POST <base>/ProvisionKey/<name>  {"key_name", "algorithm", "strength"}
///
/// The contract wraps with PKCS#1 v1.5. To ask for OAEP the request adds
/// `"wrapping_algorithm": "rsa-oaep-sha256"`, and the answer must echo it: a service that
/// ignores the field would silently wrap with PKCS#1 v1.5, so its answer is refused instead.
public enum KeyService {
    public static let wrappingAlgorithmField = "wrapping_algorithm"

    /// Parses a key-service URL: http or https, with a host.
    public static func url(_ text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            throw CPKError.usage("the key service URL must be http:// or https:// with a host, e.g. https://keys.example/api/WrapKey")
        }
        return url
    }

    /// Checks the status; on 4xx/5xx, the server's own message in one line.
    static func requireSuccess(_ response: HTTPResponse, from url: URL) throws {
        guard !(200..<300).contains(response.status) else { return }
        let kind: CPKError.Kind = (400..<500).contains(response.status) ? .invalidInput : .io
        throw CPKError(kind, "the key service at \(url.redacted) answered \(response.status): \(serverMessage(response.body))")
    }

    /// The message in an error body: a JSON `error`/`message`/`detail` text, or the text itself.
    static func serverMessage(_ body: [UInt8]) -> String {
        if let json = try? JSONValue(parsing: body) {
            for field in ["error", "message", "detail"] {
                if case .string(let text)? = json[field] { return oneLine(text) }
            }
        }
        let text = oneLine(String(decoding: body, as: UTF8.self))
        return text.isEmpty ? "(no message)" : text
    }

    /// The answer as a JSON object, or a message saying it is not one.
    static func jsonObject(_ response: HTTPResponse, from url: URL) throws -> JSONValue {
        guard let json = try? JSONValue(parsing: response.body), case .object = json else {
            throw CPKError.invalid(
                "the key service at \(url.redacted) answered with something that is not a JSON object; is the URL the WrapKey endpoint?")
        }
        return json
    }
}

/// The WrapKey contract: the service wraps the named key to the public key sent.
public struct WrapKeyClient: KeySource {
    public let endpoint: URL
    public let timeout: TimeInterval
    let transport: HTTPTransport

    public init(endpoint: String, timeout: TimeInterval, transport: HTTPTransport = HTTPClient()) throws {
        self.endpoint = try KeyService.url(endpoint)
        self.timeout = timeout
        self.transport = transport
    }

    public var description: String { "the key service at \(endpoint.redacted)" }

    public func wrappedKey(named name: String, to publicKey: PublicKey, padding: KeyWrapPadding) throws -> WrappedKey {
        try KeyName.validate(name)
        var request: [(String, JSONValue)] = [
            ("key_name", .string(name)),
            ("client_public_key", .string(Base64.encode(publicKey.subjectPublicKeyInfoDER))),
        ]
        if padding != .pkcs1v15 { request.append((KeyService.wrappingAlgorithmField, .string(padding.algorithmName))) }
        let response = try transport.post(endpoint, json: Array(JSONValue.object(request).compactText.utf8), timeout: timeout)
        try KeyService.requireSuccess(response, from: endpoint)
        let json = try KeyService.jsonObject(response, from: endpoint)
        guard case .string(let text)? = json["wrapped_key"] else {
            throw CPKError.invalid("\(description) answered without a \"wrapped_key\" text")
        }
        try checkAlgorithm(json[KeyService.wrappingAlgorithmField], asked: padding)
        guard let wrapped = Base64.decode(text, ignoringWhitespace: true) else {
            throw CPKError.invalid("\(description) answered with a wrapped_key that is not base64")
        }
        return try WrappedKey(received: wrapped, named: name, to: publicKey, padding: padding, from: description)
    }

    /// The answer must say it used the padding asked for, unless that is the contract's own.
    private func checkAlgorithm(_ answered: JSONValue?, asked padding: KeyWrapPadding) throws {
        let algorithm: String
        switch answered {
        case nil: algorithm = KeyWrapPadding.pkcs1v15.algorithmName
        case .string(let text)?: algorithm = text
        default: throw CPKError.invalid("\(description) answered with a \(KeyService.wrappingAlgorithmField) that is not text")
        }
        guard algorithm == padding.algorithmName else {
            throw CPKError(
                .invalidInput, "\(description) wrapped with \(algorithm), not \(padding.algorithmName) as asked",
                reason: .wrappingAlgorithmMismatch)
        }
    }
}

/// The ProvisionKey contract: the service creates a new AES-256 key under a name.
public struct ProvisionKeyClient {
    public let base: URL
    public let timeout: TimeInterval
    let transport: HTTPTransport

    /// - Parameter base: the service's base URL. A WrapKey endpoint (`.../WrapKey`, as in
    ///   `CP_CLOUD_KEY_SOURCE`) is accepted too: its last path component is dropped.
    public init(base: String, timeout: TimeInterval, transport: HTTPTransport = HTTPClient()) throws {
        self.base = try KeyService.url(base)
        self.timeout = timeout
        self.transport = transport
    }

    /// `<base>/ProvisionKey/<name>`, the name escaped as one path segment, any query kept.
    public func url(for name: String) throws -> URL {
        guard var parts = URLComponents(url: base, resolvingAgainstBaseURL: false) else {
            throw CPKError.usage("cannot use the key service URL \(base.redacted)")
        }
        var path = parts.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        if path.split(separator: "/").last?.lowercased() == "wrapkey" {
            path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        }
        let segment = Self.pathSegment(name)
        parts.percentEncodedPath = path + "/ProvisionKey/" + segment
        guard let url = parts.url else { throw CPKError.usage("cannot use the key service URL \(base.redacted)") }
        return url
    }

    /// The name as one path segment: RFC 3986 unreserved characters kept, every other UTF-8
    /// byte percent-encoded, `/` included.
    static func pathSegment(_ name: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public func provision(named name: String) throws {
        try KeyName.validate(name)
        let url = try url(for: name)
        let request = JSONValue.object([
            ("key_name", .string(name)), ("algorithm", .string("aes-gcm")), ("strength", .string("256")),
        ])
        let response = try transport.post(url, json: Array(request.compactText.utf8), timeout: timeout)
        try KeyService.requireSuccess(response, from: url)
    }
}

extension KeyStoreLocation {
    /// The key source at this location, with HTTP key services reached in this process.
    public func source(timeout: Double, transport: HTTPTransport = HTTPClient()) throws -> KeySource {
        try source { endpoint in try WrapKeyClient(endpoint: endpoint, timeout: timeout, transport: transport) }
    }
}
