import CPKCore
import CPKCrypto
import CPKKeys
import CPKKeyService
import Foundation
import CPKTestSupport
import XCTest

/// A key service in memory: records requests, answers with a closure.
final class FakeTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var _requests: [(url: URL, body: JSONValue)] = []
    let answer: @Sendable (URL, JSONValue) throws -> HTTPResponse

    init(answer: @escaping @Sendable (URL, JSONValue) throws -> HTTPResponse) { self.answer = answer }

    var requests: [(url: URL, body: JSONValue)] {
        lock.lock()
        defer { lock.unlock() }
        return _requests
    }

    func post(_ url: URL, json body: [UInt8], timeout: TimeInterval) throws -> HTTPResponse {
        let json = try JSONValue(parsing: body)
        lock.lock()
        _requests.append((url, json))
        lock.unlock()
        return try answer(url, json)
    }

    static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: status, body: Array(value.compactText.utf8))
    }

    /// A conforming WrapKey service holding test.json's key.
    static func conforming() -> FakeTransport {
        FakeTransport { _, request in
            guard case .string(let name)? = request["key_name"], name == "test",
                case .string(let spki)? = request["client_public_key"], let der = Base64.decode(spki)
            else { return json(400, .object([("error", .string("bad request"))])) }
            let padding = request["wrapping_algorithm"].flatMap { value -> KeyWrapPadding? in
                guard case .string(let text) = value else { return nil }
                return KeyWrapPadding(algorithmName: text)
            } ?? .pkcs1v15
            let wrapped = try PublicKey(loading: der).wrap(Base64.decode(testKeyBase64)!, padding: padding)
            var answer: [(String, JSONValue)] = [("wrapped_key", .string(Base64.encode(wrapped)))]
            if padding != .pkcs1v15 { answer.append(("wrapping_algorithm", .string(padding.algorithmName))) }
            return json(200, .object(answer))
        }
    }
}

final class KeyServiceTests: XCTestCase {
    func client(_ transport: FakeTransport, url: String = "https://keys.example/api/WrapKey?code=SECRET") throws -> WrapKeyClient {
        try WrapKeyClient(endpoint: url, timeout: 5, transport: transport)
    }

    func testWrapKeyRoundTripsWithBothPaddings() throws {
        let transport = FakeTransport.conforming()
        for padding in KeyWrapPadding.allCases {
            let wrapped = try client(transport).wrappedKey(named: "test", to: TestKeys.pair.publicKey, padding: padding)
            XCTAssertEqual(wrapped.padding, padding)
            XCTAssertEqual(try wrapped.unwrap(with: TestKeys.pair), Base64.decode(testKeyBase64))
        }
        let request = transport.requests[KeyWrapPadding.allCases.firstIndex(of: .pkcs1v15)!].body
        XCTAssertEqual(request["key_name"], .string("test"))
        XCTAssertEqual(request["client_public_key"], .string(Base64.encode(try TestKeys.pair.publicKey.subjectPublicKeyInfoDER)))
        XCTAssertNil(request["wrapping_algorithm"], "the reference contract's request, unchanged")
    }

    func testErrorsShowTheServersMessageButNotTheURLSecret() throws {
        let answers: [(HTTPResponse, String)] = [
            (FakeTransport.json(400, .object([("error", .string("client_public_key is not a key"))])), "400: client_public_key is not a key"),
            (HTTPResponse(status: 500, body: Array("Internal\nServer Error".utf8)), "500: Internal Server Error"),
            (HTTPResponse(status: 200, body: Array("<html>".utf8)), "not a JSON object"),
            (FakeTransport.json(200, .object([("key", .string("x"))])), "without a \"wrapped_key\""),
            (FakeTransport.json(200, .object([("wrapped_key", .string("???"))])), "not base64"),
            (FakeTransport.json(200, .object([("wrapped_key", .string(Base64.encode([1, 2, 3])))])), "3-byte wrapped key"),
        ]
        for (response, expected) in answers {
            let transport = FakeTransport { _, _ in response }
            XCTAssertThrowsError(try client(transport).wrappedKey(named: "test", to: TestKeys.pair.publicKey, padding: .pkcs1v15)) {
                let message = ($0 as? CPKError)?.message ?? "\($0)"
                XCTAssertTrue(message.contains(expected), "\(message) lacks \(expected)")
                XCTAssertFalse(message.contains("SECRET"), message)
                XCTAssertFalse(message.contains("\n"), message)
            }
        }
    }

    func testAServiceThatIgnoresTheOAEPRequestIsCaught() throws {
        let pkcs1Only = FakeTransport { _, request in
            let spki = Base64.decode({ if case .string(let s)? = request["client_public_key"] { return s } else { return "" } }())!
            let wrapped = try PublicKey(loading: spki).wrap(Base64.decode(testKeyBase64)!, padding: .pkcs1v15)
            return FakeTransport.json(200, .object([("wrapped_key", .string(Base64.encode(wrapped)))]))
        }
        XCTAssertCPKError(.invalidInput, containing: "not rsa-oaep-sha256 as asked",
            try client(pkcs1Only).wrappedKey(named: "test", to: TestKeys.pair.publicKey, padding: .oaepSHA256))
        // typed, so the command line adds the padding option that helps
        XCTAssertThrowsError(try client(pkcs1Only).wrappedKey(named: "test", to: TestKeys.pair.publicKey, padding: .oaepSHA256)) {
            XCTAssertEqual(($0 as? CPKError)?.reason, .wrappingAlgorithmMismatch)
        }
    }

    func testProvisionKeyURLAndBody() throws {
        let transport = FakeTransport { _, _ in HTTPResponse(status: 201, body: []) }
        for base in ["https://keys.example/api", "https://keys.example/api/", "https://keys.example/api/WrapKey"] {
            let client = try ProvisionKeyClient(base: base, timeout: 5, transport: transport)
            XCTAssertEqual(try client.url(for: "default/key/k 1").absoluteString, "https://keys.example/api/ProvisionKey/default%2Fkey%2Fk%201")
        }
        let withCode = try ProvisionKeyClient(base: "https://keys.example/api/WrapKey?code=abc", timeout: 5, transport: transport)
        XCTAssertEqual(try withCode.url(for: "app").absoluteString, "https://keys.example/api/ProvisionKey/app?code=abc")
        try withCode.provision(named: "app")
        XCTAssertEqual(
            transport.requests.last?.body,
            .object([("key_name", .string("app")), ("algorithm", .string("aes-gcm")), ("strength", .string("256"))]))
        let conflict = FakeTransport { _, _ in FakeTransport.json(409, .object([("error", .string("key app exists"))])) }
        XCTAssertCPKError(.invalidInput, containing: "409: key app exists",
            try ProvisionKeyClient(base: "http://k", timeout: 5, transport: conflict).provision(named: "app"))
    }

    func testURLsMustBeHTTP() {
        XCTAssertCPKError(.usage, containing: "http://", try WrapKeyClient(endpoint: "ftp://x/y", timeout: 1))
        XCTAssertCPKError(.usage, containing: "http://", try WrapKeyClient(endpoint: "keys.json", timeout: 1))
        XCTAssertEqual(URL(string: "https://u:p@h:8443/a/WrapKey?code=s#f")!.redacted, "https://h:8443/a/WrapKey")
    }

    func testTheRealTransportSaysConnectionRefused() throws {
        // Port 1 on the loopback interface: nothing listens there, so the refusal is immediate.
        let client = try WrapKeyClient(endpoint: "http://127.0.0.1:1/WrapKey", timeout: 5)
        XCTAssertCPKError(.io, containing: "connection refused", try client.wrappedKey(named: "test", to: TestKeys.pair.publicKey, padding: .pkcs1v15))
    }
}
