import CPKCore
import CPKCrypto
import CPKKeys
import CPKKeyService
import Foundation

// What comes over a wire or a command line from outside: an HTTP answer of a key service
// (`http-response`), an ocicrypt key-provider request (`key-provider`), and a PKCS#11 URI
// (`pkcs11-uri`).

/// An HTTP answer, fed in pieces as a socket would: the verdict (status and body, or a
/// refusal) must not depend on where the pieces break, and no message may show the URL's
/// credentials or query. Input: one byte choosing the piece size, then the answer's bytes.
func fuzzHTTPResponse(_ bytes: [UInt8]) {
    guard let first = bytes.first else { return }
    let answer = Array(bytes.dropFirst())
    let url = URL(string: "https://fuzz:Vq7userpw@keys.example/api/WrapKey?code=Vq7query")!
    func parse(pieces: Int) -> HTTPResponse? {
        var offset = 0
        return refusing("reading an HTTP answer", secrets: ["Vq7userpw", "Vq7query"]) {
            try HTTPClient.response(from: url) { buffer in
                let count = min(pieces, buffer.count, answer.count - offset)
                answer.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + count])) }
                offset += count
                return count
            }
        }
    }
    let whole = parse(pieces: Int.max)
    let broken = parse(pieces: 1 + Int(first % 16))
    expect(whole?.status == broken?.status, "the status depends on where the answer breaks")
    expect(whole?.body == broken?.body, "the body depends on where the answer breaks")
    if let whole {
        expect((100...999).contains(whole.status), "a status of \(whole.status) was accepted")
        expect(whole.body.count <= min(answer.count, HTTPClient.maximumResponseSize), "a body larger than the answer")
    }
}

/// The provider's key store, holding one fixed key-encryption key.
private let providerStore: ScratchFile = {
    let file = ScratchFile("fuzz provider store")
    let store = #"{"kbs:///default/key/fuzz": "suAWDWNySJO7M94wBw91NHMJyof4Q71rx6LBw6PMQfQ="}"#
    _ = file.holding(Array(store.utf8))
    return file
}()

/// A key-provider request as `cpk-keyfetch keyprovider` reads it from ocicrypt: refused with
/// one line, or answered; and a wrap's annotation unwraps back to the options it wrapped.
func fuzzKeyProvider(_ bytes: [UInt8]) {
    guard let request = refusing("reading a key-provider request", { try KeyProviderRequest(parsing: bytes, provider: "cpk") })
    else { return }
    let entries: [[UInt8]]
    switch request {
    case .wrap(let parameters, _), .unwrap(let parameters, _): entries = parameters
    }
    // A keypath names a file of the operator's choosing (it comes from their command line):
    // it could be a FIFO or a terminal, which the fuzzer must not open.
    guard let parameters = refusing("reading the provider parameters", { try KeyProviderParameters(parsing: entries) }),
        parameters.keyPath == nil
    else { return }
    let provider = KeyProvider(name: "cpk", storePath: providerStore.path)
    guard let answer = refusing("answering a key-provider request", { try provider.respond(to: bytes) }) else { return }
    guard let json = try? JSONValue(parsing: answer) else { fatalError("the answer is not JSON") }
    guard case .wrap(let parameterEntries, let optsData) = request else { return }
    // Answers carry byte fields as arrays of numbers (as CoCo writes them).
    func numbers(_ value: JSONValue?) -> [UInt8]? {
        guard case .array(let items)? = value else { return nil }
        let bytes = items.compactMap { item -> UInt8? in
            guard case .number(let literal) = item else { return nil }
            return UInt8(literal)
        }
        return bytes.count == items.count ? bytes : nil
    }
    guard let annotationBytes = numbers(json["keywrapresults"]?["annotation"])
    else { fatalError("a wrap answer without an annotation as an array of bytes") }
    let unwrap = JSONValue.object([
        ("op", .string("keyunwrap")),
        ("keyunwrapparams", .object([
            ("dc", .object([("Parameters", .object([("cpk", .array(parameterEntries.map { .string(Base64.encode($0)) }))]))])),
            ("annotation", .string(Base64.encode(annotationBytes))),
        ])),
    ])
    guard let unwrapped = refusing("unwrapping what was wrapped", { try provider.respond(to: Array(unwrap.compactText.utf8)) }),
        let opened = numbers((try? JSONValue(parsing: unwrapped))?["keyunwrapresults"]?["optsdata"])
    else { fatalError("an annotation this provider wrote does not unwrap") }
    expect(opened == optsData, "the options unwrapped differ from those wrapped")
}

/// A PKCS#11 URI as `--key` takes it: refused with one line, or parsed into attributes whose
/// canonical form (`recorded`) reads back to the same URI.
func fuzzPKCS11URI(_ bytes: [UInt8]) {
    guard let text = String(validating: bytes, as: UTF8.self) else { return }
    guard let uri = refusing("reading a PKCS#11 URI", { try PKCS11URI(parsing: text) }) else { return }
    guard let again = refusing("reading a canonical PKCS#11 URI", { try PKCS11URI(parsing: uri.recorded) }) else {
        fatalError("the canonical form of a PKCS#11 URI is refused: \(uri.recorded)")
    }
    expect(again == uri, "the URI changed through its canonical form: \(uri.recorded)")
    // A PIN never rides in a URI (it would be on argv): a query naming one is refused.
    let query = text.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
    expect(!query.split(separator: "&").contains { $0.hasPrefix("pin-value=") }, "a URI with a pin-value was accepted")
}
