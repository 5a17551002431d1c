import CPKCore
import CPKCrypto
import CPKKeys
import CPKKeyService
import Foundation

// The key parsers: the wrapped-key document (`wrapped-key`), the file key store
// (`key-store`), the HTTP key service's WrapKey and ProvisionKey answers (`key-service`), the
// device-twin document (`twin`), and public and private keys in every form (`public-key`).

/// The fixed key pair of FuzzKey.swift: the corpus holds keys wrapped to its public half.
private let fuzzKeys: (privateKey: RSAPrivateKey, publicKey: PublicKey, fingerprint: [UInt8]) = {
    do {
        let privateKey = try RSAPrivateKey(loading: Array(fuzzPrivateKeyPEM.utf8))
        let publicKey = try privateKey.publicKey
        return (privateKey, publicKey, try publicKey.fingerprint)
    } catch {
        fatalError("cpk-fuzz: the built-in key pair does not load: \(error)")
    }
}()

/// What `cpk-wrap unwrap`, `cpk-wrap show` and `cpk-seal --wrapped-key` read: a document, or
/// a bare block as raw bytes or base64.
func fuzzWrappedKey(_ bytes: [UInt8]) {
    guard let input = refusing("reading a wrapped key", { try WrappedKeyInput(parsing: bytes) }) else { return }
    switch input {
    case .bare(let wrapped):
        expect(wrapped.count <= bytes.count, "a bare wrapped key larger than its input")
        let recorded = refusing("taking a bare wrapped key") {
            try WrappedKey(received: wrapped, named: "test", to: fuzzKeys.publicKey, padding: .pkcs1v15, from: "the input")
        }
        if let recorded { unwrap(recorded) }
    case .document(let key):
        do {
            try expect(try WrappedKey(decoding: key.encoded()) == key, "the document changed through encoding")
        } catch {
            fatalError("an encoded wrapped-key document is refused: \(error)")
        }
        let base64 = WrappedKeyFormat.base64.render(key).bytes
        guard case .bare(let wrapped)? = refusing("reading the base64 form", { try WrappedKeyInput(parsing: base64) }),
            wrapped == key.wrapped
        else { fatalError("the base64 form of a wrapped key does not read back to its bytes") }
        unwrap(key)
    }
}

/// Unwrapping names a wrong key pair before decrypting; with the right one, OpenSSL sees the block.
private func unwrap(_ key: WrappedKey) {
    let secret = refusing("unwrapping") { try key.unwrap(with: fuzzKeys.privateKey) }
    if let secret { expect(!secret.isEmpty, "an empty unwrapped key") }
}

private let storeFile = ScratchFile("fuzz key store")

/// A file key store as `cpk-keyfetch --file-store` reads it: every name looked up, with its
/// KBS spellings; and the text a provisioning rewrite would write must read back the same.
func fuzzKeyStore(_ bytes: [UInt8]) {
    _ = storeFile.holding(bytes)
    guard let store = refusing("reading the key store", { try FileKeyStore(path: storeFile.path) }) else { return }
    for entry in store.entries.prefix(16) {
        if let key = refusing("looking up a key", { try store.key(named: entry.name) }) {
            expect(key.count == classKeySize, "a class key of \(key.count) bytes was accepted")
        }
        if let resource = KBSResourceURI(parsing: entry.name) {
            _ = refusing("looking up a KBS resource") { try store.key(named: "kbs:///\(resource.path)") }
        }
    }
    let document = JSONValue.object(store.entries.map { ($0.name, $0.value) })
    let text = document.prettyText
    do {
        try expect(try JSONValue(parsing: Array(text.utf8)) == document, "the rewritten store reads back differently")
    } catch {
        fatalError("the rewritten store is not JSON (\(error)): \(text)")
    }
}

/// A key service that gives one canned answer.
private struct CannedTransport: HTTPTransport {
    let response: HTTPResponse
    func post(_ url: URL, json body: [UInt8], timeout: TimeInterval) throws -> HTTPResponse { response }
}

/// Statuses to try besides 200: the other successes, client and server errors, nonsense.
private let statuses = [201, 204, 299, 301, 400, 401, 403, 404, 409, 429, 500, 502, 503, 0, 99, 600, 999]

/// The credentials and query of the service URL, which no message may show.
private let urlSecrets = ["Vq7userpw", "Vq7query"]
private let serviceURL = "https://fuzz:Vq7userpw@keys.example/api/WrapKey?code=Vq7query"

/// The WrapKey and ProvisionKey answers as `cpk-keyfetch` reads them. Input: a status byte
/// (below 128 means 200), a padding byte (odd: OAEP), then the body.
func fuzzKeyService(_ bytes: [UInt8]) {
    guard bytes.count >= 2 else { return }
    let status = bytes[0] < 128 ? 200 : statuses[Int(bytes[0] - 128) % statuses.count]
    let padding: KeyWrapPadding = bytes[1] & 1 == 0 ? .pkcs1v15 : .oaepSHA256
    let body = Array(bytes.dropFirst(2))
    let transport = CannedTransport(response: HTTPResponse(status: status, body: body))
    // A secret the server itself sends back may appear; the URL's own may not.
    let secrets = urlSecrets.filter { !String(decoding: body, as: UTF8.self).contains($0) }
    do {
        let client = try WrapKeyClient(endpoint: serviceURL, timeout: 5, transport: transport)
        let key = refusing("WrapKey", secrets: secrets) {
            try client.wrappedKey(named: "test", to: fuzzKeys.publicKey, padding: padding)
        }
        if let key {
            expect(key.wrapped.count == fuzzKeys.publicKey.modulusBytes, "a wrapped key of the wrong size was accepted")
            expect(key.wrappingKeySHA256 == fuzzKeys.fingerprint, "a wrapped key recorded for another public key")
        }
        let provisioning = try ProvisionKeyClient(base: serviceURL, timeout: 5, transport: transport)
        _ = refusing("ProvisionKey", secrets: secrets) { try provisioning.provision(named: "default/key/k1") }
    } catch {
        fatalError("cpk-fuzz: the service URL is refused: \(error)")
    }
}

/// A device twin as `cpk-keyfetch --twin` reads it: every name found in the document is
/// asked for, so the fuzzer reaches the keys it holds.
func fuzzTwin(_ bytes: [UInt8]) {
    let source = DeviceTwinKeySource(document: bytes, from: "the device twin")
    var names = ["test"]
    if let json = try? JSONValue(parsing: bytes) { collectKeys(of: json, into: &names, limit: 8) }
    for name in names {
        let key = refusing("a key from the twin") {
            try source.wrappedKey(named: name, to: fuzzKeys.publicKey, padding: .pkcs1v15)
        }
        if let key {
            expect(key.wrapped.count == fuzzKeys.publicKey.modulusBytes, "a wrapped key of the wrong size was accepted")
            expect(key.keyName == name, "the wrapped key is recorded under another name")
        }
    }
}

private func collectKeys(of json: JSONValue, into names: inout [String], limit: Int) {
    switch json {
    case .object(let members):
        for (key, value) in members where names.count < limit {
            names.append(key)
            collectKeys(of: value, into: &names, limit: limit)
        }
    case .array(let items):
        for item in items where names.count < limit { collectKeys(of: item, into: &names, limit: limit) }
    default: break
    }
}

/// Public keys in every form (`--to`, `cpk-wrap public`), and private keys (`--unwrap-key`):
/// whatever form a key was read from, its fingerprint is the same.
func fuzzPublicKey(_ bytes: [UInt8]) {
    if let key = refusing("reading a public key", { try PublicKey(loadingPublicOrPrivate: bytes) }) {
        expect(key.bits >= minimumRSABits, "a \(key.bits)-bit key was accepted")
        do {
            let fingerprint = try key.fingerprint
            let forms = [("SPKI", key.subjectPublicKeyInfoDER), ("PKCS#1", try key.pkcs1DER()), ("PEM", Array(try key.pem().utf8))]
            for (form, encoded) in forms {
                let again = try PublicKey(loading: encoded).fingerprint
                expect(again == fingerprint, "the key changes when written as \(form)")
            }
        } catch {
            fatalError("an accepted public key does not survive re-encoding: \(error)")
        }
    }
    _ = refusing("reading a private key") { try RSAPrivateKey(loading: bytes) }
}
