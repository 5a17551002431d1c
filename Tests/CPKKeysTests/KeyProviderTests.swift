import CPKCore
import CPKCrypto
import CPKKeys
import Foundation
import CPKTestSupport
import XCTest

/// The ocicrypt key provider: request parsing, parameters, and CoCo annotation round trips.
final class KeyProviderTests: XCTestCase {
    var directory: String!
    let kek = [UInt8](repeating: 0x42, count: 32)

    override func setUp() {
        directory = NSTemporaryDirectory() + "cpk-keyprovider-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func b64(_ text: String) -> String { Base64.encode(Array(text.utf8)) }

    func wrapRequest(params: String = "keyid=kbs:///default/key/key_id1", provider: String = "cpk", opts: String = #"{"k":"v"}"#) -> [UInt8] {
        Array(#"""
            {"op":"keywrap","keywrapparams":{"ec":{"Parameters":{"\#(provider)":["\#(b64(params))"],"other":["\#(b64("x"))"]},"DecryptConfig":{"Parameters":null}},"optsdata":"\#(b64(opts))"},"keyunwrapparams":{"dc":null,"annotation":null}}
            """#.utf8)
    }

    func unwrapRequest(annotation: [UInt8], params: String = "Enabled") -> [UInt8] {
        Array(#"""
            {"op":"keyunwrap","keywrapparams":{"ec":null,"optsdata":null},"keyunwrapparams":{"dc":{"Parameters":{"cpk":["\#(b64(params))"]}},"annotation":"\#(Base64.encode(annotation))"}}
            """#.utf8)
    }

    func store() throws -> String {
        let path = directory + "/keys.json"
        try #"{"default/key/key_id1": "\#(Base64.encode(kek))"}"#.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    func testParsesAWrapRequestForItsOwnProviderOnly() throws {
        let request = try KeyProviderRequest(parsing: wrapRequest(), provider: "cpk")
        XCTAssertEqual(request, .wrap(parameters: [Array("keyid=kbs:///default/key/key_id1".utf8)], optsData: Array(#"{"k":"v"}"#.utf8)))
        XCTAssertCPKError(.invalidInput, containing: "no entry for the provider \"mine\"", try KeyProviderRequest(parsing: wrapRequest(), provider: "mine"))
    }

    func testParsesAnUnwrapRequestWithOrWithoutTheDecryptConfig() throws {
        let request = try KeyProviderRequest(parsing: unwrapRequest(annotation: [1, 2]), provider: "cpk")
        XCTAssertEqual(request, .unwrap(parameters: [Array("Enabled".utf8)], annotation: [1, 2]))
        let bare = #"{"op":"keyunwrap","keyunwrapparams":{"dc":null,"annotation":"AQI="}}"#
        XCTAssertEqual(try KeyProviderRequest(parsing: Array(bare.utf8), provider: "cpk"), .unwrap(parameters: [], annotation: [1, 2]))
    }

    func testBadRequestsSayWhatIsWrong() {
        func fails(_ text: String, _ message: String, line: UInt = #line) {
            XCTAssertCPKError(.invalidInput, containing: message, try KeyProviderRequest(parsing: Array(text.utf8), provider: "cpk"), line: line)
        }
        fails("{", "not JSON")
        fails("[]", "not a JSON object")
        fails(#"{"op":"keyrewrap"}"#, "unknown key provider op \"keyrewrap\"")
        fails(#"{"keywrapparams":{}}"#, "no \"op\"")
        fails(#"{"op":"keywrap","keywrapparams":null}"#, "keywrapparams is missing")
        fails(#"{"op":"keywrap","keywrapparams":{"ec":{"Parameters":{"cpk":["a2V5aWQ9eA=="]}},"optsdata":"not base64!"}}"#, "optsdata is not valid base64")
        fails(#"{"op":"keywrap","keywrapparams":{"ec":{"Parameters":{"cpk":[7]}},"optsdata":""}}"#, "not a base64 string")
        fails(#"{"op":"keyunwrap","keyunwrapparams":{"dc":null,"annotation":"@@@@"}}"#, "annotation is not valid base64")
        XCTAssertCPKError(
            .invalidInput, containing: "larger than",
            try KeyProviderRequest(parsing: [UInt8](repeating: 0x20, count: KeyProviderRequest.sizeLimit + 1), provider: "cpk"))
    }

    func testParametersSplitOnDoubleColonsOnly() throws {
        let parameters = try KeyProviderParameters(parsing: [Array("keyid=kbs://kbs.example:8080/default/key/k1::algorithm=A256GCM::keypath=/k".utf8)])
        XCTAssertEqual(parameters, KeyProviderParameters(keyID: "kbs://kbs.example:8080/default/key/k1", keyPath: "/k", algorithm: .a256gcm))
        XCTAssertEqual(try KeyProviderParameters(parsing: [Array("Enabled".utf8)]), KeyProviderParameters())
        XCTAssertEqual(try KeyProviderParameters(parsing: [Array("algorithm=A256CTR".utf8)]).algorithm, .a256ctr)
        for (text, message) in [
            ("keyid", "not key=value"), ("=x", "not key=value"), ("keyid=", "empty"), ("colour=blue", "unknown key provider parameter"),
            ("algorithm=A128GCM", "unknown algorithm"), ("keyid=a::keyid=b", "given twice"), ("keyid=a\u{1}b", "control characters"),
        ] {
            XCTAssertCPKError(.invalidInput, containing: message, try KeyProviderParameters(parsing: [Array(text.utf8)]))
        }
    }

    func testAnnotationRoundTripsInCoCosShape() throws {
        let opts = Array(#"{"symkey":"abc","cipheroptions":{}}"#.utf8)
        let annotation = try CoCoAnnotation.wrap(opts, kid: "kbs:///default/key/key_id1", kek: kek)
        XCTAssertEqual(annotation.iv.count, 12)
        XCTAssertEqual(annotation.wrappedData.count, opts.count + 16)
        let text = String(decoding: annotation.bytes, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix(#"{"kid":"kbs:///default/key/key_id1","wrapped_data":""#), text)
        XCTAssertTrue(text.hasSuffix(#","wrap_type":"A256GCM"}"#), text)
        let parsed = try CoCoAnnotation(parsing: annotation.bytes)
        XCTAssertEqual(parsed, annotation)
        XCTAssertEqual(try parsed.unwrap(kek: kek), opts)
        XCTAssertNotEqual(try CoCoAnnotation.wrap(opts, kid: "k", kek: kek).iv, annotation.iv, "a fresh IV each time")
    }

    func testAnnotationFailuresAreChecksOrInvalidInput() throws {
        let annotation = try CoCoAnnotation.wrap([1, 2, 3], kid: "default/key/key_id1", kek: kek)
        XCTAssertCPKError(.checkFailed, containing: "GCM tag mismatch", try annotation.unwrap(kek: [UInt8](repeating: 1, count: 32)))
        var changed = annotation
        changed.wrappedData[0] ^= 1
        XCTAssertCPKError(.checkFailed, containing: "GCM tag mismatch", try changed.unwrap(kek: kek))
        var short = annotation
        short.wrappedData = [1, 2]
        XCTAssertCPKError(.invalidInput, containing: "shorter than", try short.unwrap(kek: kek))
        var ctr = annotation
        ctr.wrapType = "A256CTR"
        XCTAssertCPKError(.invalidInput, containing: "A256CTR", try ctr.unwrap(kek: kek))
        XCTAssertCPKError(.invalidInput, containing: "A256CTR", try CoCoAnnotation.wrap([1], kid: "k", kek: kek, algorithm: .a256ctr))
        XCTAssertCPKError(.invalidInput, containing: "16 bytes", try annotation.unwrap(kek: Array(kek[..<16])))
        for (text, message) in [
            ("nope", "not CoCo's JSON"), (#"{"kid":"k","iv":"AAAA","wrap_type":"A256GCM"}"#, "no string \"wrapped_data\""),
            (#"{"kid":"k","wrapped_data":"!!","iv":"AAAA","wrap_type":"A256GCM"}"#, "wrapped_data is not valid base64"),
        ] {
            XCTAssertCPKError(.invalidInput, containing: message, try CoCoAnnotation(parsing: Array(text.utf8)))
        }
        // Later CoCo annotation versions add members; the four of this version still suffice.
        let extended = #"{"version":"0.1.0","kid":"k","wrapped_data":"\#(Base64.encode(annotation.wrappedData))","iv":"\#(Base64.encode(annotation.iv))","wrap_type":"A256GCM"}"#
        XCTAssertEqual(try CoCoAnnotation(parsing: Array(extended.utf8)).unwrap(kek: kek), [1, 2, 3])
    }

    func testProviderWrapsAndUnwrapsThroughTheStoreOrAKeyPath() throws {
        let provider = KeyProvider(name: "cpk", storePath: try store())
        let response = try JSONValue(parsing: provider.respond(to: wrapRequest()))
        guard case .string(let annotation)? = response["keywrapresults"]?["annotation"], let bytes = Base64.decode(annotation) else {
            return XCTFail("no annotation in \(response.compactText)")
        }
        XCTAssertEqual(try CoCoAnnotation(parsing: bytes).kid, "kbs:///default/key/key_id1")
        let unwrapped = try JSONValue(parsing: provider.respond(to: unwrapRequest(annotation: bytes)))
        XCTAssertEqual(unwrapped.compactText, #"{"keyunwrapresults":{"optsdata":"\#(b64(#"{"k":"v"}"#))"}}"#)

        let keyPath = directory + "/kek"
        _ = FileManager.default.createFile(atPath: keyPath, contents: Data(kek))
        let local = KeyProvider(name: "cpk", storePath: nil)
        let viaPath = try JSONValue(parsing: local.respond(to: wrapRequest(params: "keyid=mine::keypath=\(keyPath)")))
        guard case .string(let pathAnnotation)? = viaPath["keywrapresults"]?["annotation"], let pathBytes = Base64.decode(pathAnnotation) else {
            return XCTFail("no annotation")
        }
        XCTAssertEqual(try CoCoAnnotation(parsing: pathBytes).unwrap(kek: kek), Array(#"{"k":"v"}"#.utf8))
        XCTAssertNoThrow(try local.respond(to: unwrapRequest(annotation: pathBytes, params: "keypath=\(keyPath)")))
    }

    func testProviderRefusals() throws {
        let provider = KeyProvider(name: "cpk", storePath: try store())
        XCTAssertCPKError(.invalidInput, containing: "needs a keyid", try provider.respond(to: wrapRequest(params: "algorithm=A256GCM")))
        XCTAssertCPKError(.invalidInput, containing: "no key named", try provider.respond(to: wrapRequest(params: "keyid=kbs:///default/key/absent")))
        XCTAssertCPKError(.usage, containing: "no key store", try KeyProvider(name: "cpk", storePath: nil).respond(to: wrapRequest()))
        let other = try CoCoAnnotation.wrap([1], kid: "default/key/key_id1", kek: [UInt8](repeating: 7, count: 32))
        XCTAssertCPKError(.checkFailed, containing: "GCM tag mismatch", try provider.respond(to: unwrapRequest(annotation: other.bytes)))
    }

    func testReadsAtMostTheLimitPlusOneByte() throws {
        let path = directory + "/big"
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x20, count: 100))
        XCTAssertCPKError(.invalidInput, containing: "larger than 99 bytes", try KeyProvider.readRequest(from: FileDescriptor.open(forReading: path), limit: 99))
        XCTAssertEqual(try KeyProvider.readRequest(from: FileDescriptor.open(forReading: path), limit: 100).count, 100)
    }
}
