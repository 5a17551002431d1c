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
        fails(#"{"op":"keywrap","keywrapparams":{"ec":{"Parameters":{"cpk":[7]}},"optsdata":""}}"#, "not bytes")
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
        // As CoCo reads them: fields without `=` and unknown names are ignored (and listed for a warning).
        let lenient = try KeyProviderParameters(parsing: [Array("keyid=k::colour=blue::offline_fs_kbc::=x::sample=false::sample=maybe".utf8)])
        XCTAssertEqual(lenient.keyID, "k")
        XCTAssertEqual(lenient.ignored, ["colour=blue", "offline_fs_kbc", "=x", "sample=maybe"])
        XCTAssertFalse(lenient.sample)
        XCTAssertTrue(try KeyProviderParameters(parsing: [Array("sample=true".utf8)]).sample)
        for (text, message) in [
            ("keyid=", "empty"), ("keypath=", "empty"),
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

    /// The bytes of an answer's byte field, which must be an array of integers 0-255.
    func numbers(_ value: JSONValue?, file: StaticString = #filePath, line: UInt = #line) -> [UInt8] {
        guard case .array(let items)? = value else {
            XCTFail("not an array: \(value?.compactText ?? "nil")", file: file, line: line)
            return []
        }
        return items.compactMap { item -> UInt8? in
            guard case .number(let literal) = item, let byte = UInt8(literal) else {
                XCTFail("not a byte: \(item.compactText)", file: file, line: line)
                return nil
            }
            return byte
        }
    }

    func testProviderWrapsAndUnwrapsThroughTheStoreOrAKeyPath() throws {
        let provider = KeyProvider(name: "cpk", storePath: try store())
        let response = try JSONValue(parsing: provider.respond(to: wrapRequest()))
        let bytes = numbers(response["keywrapresults"]?["annotation"])
        XCTAssertEqual(try CoCoAnnotation(parsing: bytes).kid, "kbs:///default/key/key_id1")
        let unwrapped = try JSONValue(parsing: provider.respond(to: unwrapRequest(annotation: bytes)))
        XCTAssertEqual(numbers(unwrapped["keyunwrapresults"]?["optsdata"]), Array(#"{"k":"v"}"#.utf8))
        XCTAssertEqual(
            unwrapped.compactText,
            #"{"keyunwrapresults":{"optsdata":["# + Array(#"{"k":"v"}"#.utf8).map(String.init).joined(separator: ",") + "]}}")

        let keyPath = directory + "/kek"
        _ = FileManager.default.createFile(atPath: keyPath, contents: Data(kek))
        let local = KeyProvider(name: "cpk", storePath: nil)
        let viaPath = try JSONValue(parsing: local.respond(to: wrapRequest(params: "keyid=mine::keypath=\(keyPath)")))
        let pathBytes = numbers(viaPath["keywrapresults"]?["annotation"])
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

    func testByteFieldsAreReadInEitherSpelling() throws {
        let optsText = #"{"k":"v"}"#
        let opts = Array(optsText.utf8).map(String.init).joined(separator: ",")
        let params = Array("keyid=kbs:///default/key/key_id1".utf8).map(String.init).joined(separator: ",")
        // serde's spelling (ocicrypt-rs): arrays of numbers for optsdata and each parameter.
        let serde = #"{"op":"keywrap","keywrapparams":{"ec":{"Parameters":{"attestation-agent":[[\#(params)]]},"DecryptConfig":{"Parameters":{}}},"optsdata":[\#(opts)]},"keyunwrapparams":{"dc":null,"annotation":null}}"#
        XCTAssertEqual(
            try KeyProviderRequest(parsing: Array(serde.utf8), providers: ["attestation-agent"]),
            .wrap(parameters: [Array("keyid=kbs:///default/key/key_id1".utf8)], optsData: Array(optsText.utf8)))
        let provider = KeyProvider(names: [KeyProvider.defaultName], storePath: try store())
        let annotation = numbers(try JSONValue(parsing: provider.respond(to: Array(serde.utf8)))["keywrapresults"]?["annotation"])
        let asArray = #"{"op":"keyunwrap","keyunwrapparams":{"dc":{"Parameters":{"attestation-agent":[[69,110]]}},"annotation":[\#(annotation.map(String.init).joined(separator: ","))]}}"#
        let unwrapped = try JSONValue(parsing: provider.respond(to: Array(asArray.utf8)))
        XCTAssertEqual(numbers(unwrapped["keyunwrapresults"]?["optsdata"]), Array(optsText.utf8))
        // Arrays that are no bytes are refused, saying where.
        for bad in ["[256]", "[-1]", "[1.0]", "[1e2]", #"["1"]"#, "[null]"] {
            let text = #"{"op":"keyunwrap","keyunwrapparams":{"dc":null,"annotation":\#(bad)}}"#
            XCTAssertCPKError(.invalidInput, containing: "integers 0 to 255", try KeyProviderRequest(parsing: Array(text.utf8), provider: "cpk"))
        }
        let number = #"{"op":"keyunwrap","keyunwrapparams":{"dc":null,"annotation":7}}"#
        XCTAssertCPKError(.invalidInput, containing: "not bytes", try KeyProviderRequest(parsing: Array(number.utf8), provider: "cpk"))
    }

    func testTheDefaultNameAndTheFormerOne() throws {
        let both = KeyProvider(names: [KeyProvider.defaultName, KeyProvider.formerName], storePath: try store())
        XCTAssertNoThrow(try both.respond(to: wrapRequest(provider: "attestation-agent")))
        XCTAssertNoThrow(try both.respond(to: wrapRequest(provider: "cpk")))
        XCTAssertCPKError(
            .invalidInput, containing: #"no entry for the provider "attestation-agent" or "cpk""#, try both.respond(to: wrapRequest(provider: "mine")))
        XCTAssertEqual(KeyProvider.defaultName, "attestation-agent")
    }

    func testDecryptionParametersAreIgnoredAsCoCoIgnoresThem() throws {
        let provider = KeyProvider(names: [KeyProvider.defaultName], storePath: try store())
        let annotation = try CoCoAnnotation.wrap([0x7B, 0x7D], kid: "kbs:///default/key/key_id1", kek: kek)
        for params in ["offline_fs_kbc::null", "Enabled", "colour=blue", "keyid=", "sample=true", "::"] {
            let answer = try provider.answer(unwrapRequest(annotation: annotation.bytes, params: params))
            XCTAssertEqual(answer.operation, .unwrap)
            XCTAssertEqual(answer.keyID, "kbs:///default/key/key_id1")
            XCTAssertEqual(answer.warnings, [], params)
        }
    }

    func testUnknownParametersAreWarnedAboutNotRefused() throws {
        let provider = KeyProvider(name: "cpk", storePath: try store())
        let answer = try provider.answer(wrapRequest(params: "keyid=kbs:///default/key/key_id1::colour=blue"))
        XCTAssertEqual(answer.warnings.count, 1)
        XCTAssertTrue(answer.warnings[0].contains("colour=blue"), answer.warnings[0])
    }

    func testSampleIsRefusedUnlessAllowedThenWarned() throws {
        let provider = KeyProvider(name: "cpk", storePath: try store())
        XCTAssertCPKError(.invalidInput, containing: "publicly known", try provider.respond(to: wrapRequest(params: "sample=true")))
        XCTAssertCPKError(.invalidInput, containing: "keypath=", try provider.respond(to: wrapRequest(params: "sample=true::keyid=k")))
        // Allowed: the store's key of CoCo's sample id (never a key built in), warned each time.
        let path = directory + "/sample.json"
        try #"{"default/test-key/1": "\#(Base64.encode(kek))"}"#.write(toFile: path, atomically: false, encoding: .utf8)
        let allowed = KeyProvider(name: "cpk", storePath: path, allowsSample: true)
        let answer = try allowed.answer(wrapRequest(params: "sample=true"))
        XCTAssertEqual(answer.keyID, KeyProvider.sampleKeyID)
        XCTAssertTrue(answer.warnings.contains { $0.contains("sample=true") }, "\(answer.warnings)")
        XCTAssertNoThrow(try KeyProvider(name: "cpk", storePath: path).respond(to: wrapRequest(params: "sample=false::keyid=default/test-key/1")))
    }

    func testTheKidIsWrittenInTheFormACoCoGuestResolves() throws {
        XCTAssertEqual(KeyProvider.annotationKeyID("kbs:///default/key/key_id1").kid, "kbs:///default/key/key_id1")
        XCTAssertNil(KeyProvider.annotationKeyID("kbs:///default/key/key_id1").note)
        XCTAssertEqual(KeyProvider.annotationKeyID("kbs://kbs.example:8080/default/key/k").kid, "kbs://kbs.example:8080/default/key/k")
        for given in ["/default/key/key_id1", "default/key/key_id1", "kbs.example/default/key/key_id1"] {
            let (kid, note) = KeyProvider.annotationKeyID(given)
            XCTAssertEqual(kid, "kbs:///default/key/key_id1", given)
            XCTAssertTrue(note?.contains("the form a CoCo guest resolves") == true, "\(note ?? "no note")")
        }
        XCTAssertTrue(KeyProvider.annotationKeyID("kbs.example/default/key/key_id1").note?.contains("without the host") == true)
        let local = KeyProvider.annotationKeyID("local")
        XCTAssertEqual(local.kid, "local")
        XCTAssertTrue(local.note?.contains("cannot fetch") == true)
        // Through the provider: the annotation carries the rewritten kid, the answer says so.
        let provider = KeyProvider(name: "cpk", storePath: try store())
        let answer = try provider.answer(wrapRequest(params: "keyid=/default/key/key_id1"))
        XCTAssertEqual(answer.keyID, "kbs:///default/key/key_id1")
        let annotation = numbers(try JSONValue(parsing: answer.response)["keywrapresults"]?["annotation"])
        XCTAssertEqual(try CoCoAnnotation(parsing: annotation).kid, "kbs:///default/key/key_id1")
        XCTAssertEqual(answer.warnings.count, 1)
    }

    func testA256CTRIsUnwrappedWithAWarningNeverWritten() throws {
        // CoCo's A256CTR: AES-256-CTR, 16-byte initial counter, no tag.
        let opts = Array(#"{"symkey":"c3ltCg==","cipheroptions":{}}"#.utf8)
        let iv = [UInt8](repeating: 9, count: 16)
        let annotation = CoCoAnnotation(
            kid: "kbs:///default/key/key_id1", wrappedData: try AESCTR.apply(opts, key: kek, counter: iv), iv: iv, wrapType: "A256CTR")
        let provider = KeyProvider(name: "cpk", storePath: try store())
        let answer = try provider.answer(unwrapRequest(annotation: annotation.bytes))
        XCTAssertEqual(numbers(try JSONValue(parsing: answer.response)["keyunwrapresults"]?["optsdata"]), opts)
        XCTAssertTrue(answer.warnings.contains { $0.contains("unauthenticated") }, "\(answer.warnings)")
        // A wrong key gives bytes that are not ocicrypt's JSON: refused, not passed on.
        XCTAssertCPKError(.checkFailed, containing: "A256CTR has no tag", try annotation.unwrap(kek: [UInt8](repeating: 1, count: 32)))
        var short = annotation
        short.iv = [1, 2, 3]
        XCTAssertCPKError(.invalidInput, containing: "A256CTR uses 16", try short.unwrap(kek: kek))
        XCTAssertCPKError(.invalidInput, containing: "A256CTR", try provider.respond(to: wrapRequest(params: "keyid=k::algorithm=A256CTR")))
    }

    func testTheOperationMustMatchTheMethod() throws {
        let provider = KeyProvider(name: "cpk", storePath: try store())
        XCTAssertCPKError(.invalidInput, containing: "op is keywrap", try provider.answer(wrapRequest(), expected: .unwrap))
        XCTAssertEqual(try provider.answer(wrapRequest(), expected: .wrap).operation, .wrap)
    }

    func testListenAddresses() throws {
        let local = try KeyProviderListener(parsing: "127.0.0.1:50000", security: .plaintext, plaintextBeyondLoopback: false)
        XCTAssertEqual(local.host, "127.0.0.1")
        XCTAssertEqual(local.port, 50000)
        XCTAssertTrue(local.isLoopback)
        XCTAssertEqual(try KeyProviderListener(parsing: "localhost:0", security: .plaintext, plaintextBeyondLoopback: false).host, "127.0.0.1")
        let six = try KeyProviderListener(parsing: "[::1]:7", security: .plaintext, plaintextBeyondLoopback: false)
        XCTAssertEqual(six.family, .ipv6)
        XCTAssertEqual(six.text, "[::1]:7")
        XCTAssertTrue(try KeyProviderListener(parsing: "127.8.9.10:1", security: .plaintext, plaintextBeyondLoopback: false).isLoopback)
        for any in ["0.0.0.0:50000", "192.0.2.1:50000", "[::]:50000"] {
            XCTAssertThrowsError(try KeyProviderListener(parsing: any, security: .plaintext, plaintextBeyondLoopback: false)) { error in
                XCTAssertEqual((error as? CPKError)?.reason, .plaintextBeyondLoopback)
                XCTAssertTrue((error as? CPKError)?.message.contains("not a loopback address") == true, "\(error)")
            }
            XCTAssertNoThrow(try KeyProviderListener(parsing: any, security: .plaintext, plaintextBeyondLoopback: true))
            XCTAssertNoThrow(try KeyProviderListener(parsing: any, security: .tls(certificate: "c", key: "k"), plaintextBeyondLoopback: false))
        }
        for bad in ["50000", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:x", "example.com:1", "[nope]:1", "::1:50000"] {
            XCTAssertCPKError(.usage, containing: "listen address", try KeyProviderListener(parsing: bad, security: .plaintext, plaintextBeyondLoopback: false))
        }
    }
}
