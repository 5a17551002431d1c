import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat
import CPKTestSupport
import Foundation
import XCTest

@testable import CPKPackage

// Packages built, sealed, signed and read back through the library, for the Signer, Stitcher
// and Verifier tests.

/// One signing key per key type, generated once for the whole run.
enum TestKeys {
    static let rsa = try! SigningKey.generate(.rsa(bits: 2048))
    static let p256 = try! SigningKey.generate(.ecP256)
    static let p384 = try! SigningKey.generate(.ecP384)
    static let ed25519 = try! SigningKey.generate(.ed25519)
    static let other = try! SigningKey.generate(.ed25519)

    static func key(for scheme: SignatureScheme) -> SigningKey {
        switch scheme {
        case .rsaPKCS1v15, .rsaPSS: return rsa
        case .ecdsaP256: return p256
        case .ecdsaP384: return p384
        case .ed25519: return ed25519
        }
    }
}

let testIdentity = PackageIdentity(
    id: "test", name: "Demo", vendor: "Acme", target: Target(arch: "aarch64", os: "OP-TEE"),
    version: Version(major: 1, minor: 2, revision: 3, date: "2026-11-26T00:00:00Z"))

let testEntry = LogEntry(tool: "cpk-test", action: "sign", time: "2026-11-26T00:00:00Z")

/// A payload of `count` bytes that is not all one value.
func testPayload(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 9) } }

func sha256(_ bytes: [UInt8]) throws -> [UInt8] { try SHA256Hasher.digest(bytes) }

/// A package read back: its head and every stream's bytes, the payload included.
struct ReadPackage {
    let head: PackageHead
    let streams: [[UInt8]]
    var manifest: Manifest { head.manifest }
    var roles: [String] { manifest.roles(streamCount: streams.count, manifestIndex: head.manifestIndex).map(\.rawValue) }

    /// SHA-256 over the streams of package.map, concatenated in map order: what the package
    /// digest must be, computed here without the library's PackageMapDigest.
    func mapDigest() throws -> [UInt8] { try sha256(manifest.package.map.flatMap { streams[$0] }) }
}

/// Records what a tool writes, without writing anything.
final class RecordingOutput: PackageOutput {
    var head: PackageHead?
    var payload: [UInt8] = []
    var deferred: [Int: [UInt8]]?

    func begin(head: PackageHead, log: [LogEntry]) throws { self.head = head }
    func writePayload(_ chunk: UnsafeRawBufferPointer) throws { payload += chunk }
    func finish(deferredStreams: [Int: [UInt8]]) throws { deferred = deferredStreams }
}

/// A scratch directory, removed when the test ends.
final class Scratch {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "cpk-signing-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { directory + "/" + name }

    @discardableResult
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Writes a package of `format` through `body`; the file appears only when `body` succeeds.
    func output(_ name: String, _ format: OutputFormat, _ body: (PackageOutput) throws -> Void) throws -> String {
        let path = path("\(name).\(format.rawValue)")
        let file = try OutputFile(path: path, binary: true)
        try body(makePackageOutput(format, to: file.descriptor))
        try file.commit()
        return path
    }

    /// `cpk-pack`: payload, digest, manifest.
    func pack(_ payload: [UInt8], as format: OutputFormat = .cpk, name: String = "packed") throws -> String {
        let source = try write(payload, to: "\(name).payload")
        return try output(name, format) {
            try Packer.pack(payload: try FileDescriptor.open(forReading: source), identity: testIdentity, log: [], to: $0)
        }
    }

    /// A package with any head: the payload and the deferred streams written as given.
    func package(
        head: PackageHead, payload: [UInt8], deferred: [Int: [UInt8]], as format: OutputFormat = .envelope,
        name: String = "custom"
    ) throws -> String {
        try output(name, format) { output in
            try output.begin(head: head, log: [])
            try payload.withUnsafeBytes { try output.writePayload($0) }
            try output.finish(deferredStreams: deferred)
        }
    }

    /// `cpk-seal`.
    func seal(_ path: String, key: [UInt8], as format: OutputFormat = .cpk, name: String = "sealed") throws -> String {
        try output(name, format) { try Sealer.seal(try openPackage(path), key: key, keyName: "test", log: testEntry, to: $0) }
    }

    /// `cpk-sign`; the digest an offline signer gets is returned too.
    func sign(
        _ path: String, _ request: Signer.Request, as format: OutputFormat = .cpk, name: String = "signed"
    ) throws -> (path: String, emitted: [UInt8]?) {
        var emitted: [UInt8]?
        let out = try output(name, format) {
            try Signer.sign(try openPackage(path), request, log: testEntry, to: $0, emitDigest: { emitted = $0 })
        }
        return (out, emitted)
    }

    /// Every stream of the package at `path`, the payload read to its end.
    func readAll(_ path: String) throws -> ReadPackage {
        let input = try openPackage(path)
        var payload: [UInt8] = []
        while let chunk = try input.nextPayloadChunk() { payload += chunk }
        let deferred = try input.deferredStreams()
        let head = input.head
        let streams: [[UInt8]] = head.streams.indices.map { index in
            switch head.streams[index] {
            case .bytes(let bytes): return bytes
            case .manifest: return head.manifestBytes
            case .payload: return payload
            case .deferred: return deferred[index] ?? []
            }
        }
        return ReadPackage(head: head, streams: streams)
    }
}

/// A signing request for `key` (nil scheme: the key's default).
func signingRequest(
    _ targets: [SignatureTarget], _ key: SigningKey, scheme: SignatureScheme? = nil, certificate: CertificateEmbedding = .none,
    offline: Bool = false
) throws -> Signer.Request {
    Signer.Request(
        targets: targets, scheme: scheme ?? key.type.defaultScheme!, signerKey: try key.verifyingKey,
        key: offline ? nil : key, certificate: certificate)
}

/// Keys and certificates made by the openssl command line.
final class TestCertificates {
    let command: OpenSSLCommand

    init() throws {
        command = try OpenSSLCommand()
        try command.write("code.ext", Array("keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n".utf8))
        try command.write("tls.ext", Array("keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n".utf8))
        try command.write("nosign.ext", Array("keyUsage=critical,keyEncipherment\nextendedKeyUsage=codeSigning\n".utf8))
    }

    /// A self-signed certificate `name` with the extensions of `extensions`, valid for `days`.
    func make(_ name: String, extensions: String = "code", key: String = "ec", days: Int = 30) throws
        -> (key: SigningKey, certificate: X509Certificate)
    {
        let algorithm = key == "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        try command.runChecked(
            ["req", "-x509"] + algorithm
                + ["-nodes", "-keyout", "\(name).key", "-out", "\(name).crt", "-subj", "/CN=\(name)", "-days", "\(days)"]
                + (try extensionArguments(extensions)))
        let signing = try SigningKey(loading: try command.read("\(name).key"), passphrase: nil)
        guard let certificate = try X509Certificate.chain(loading: try command.read("\(name).crt")).first else {
            throw CPKError.invalid("no certificate")
        }
        return (signing, certificate)
    }

    private func extensionArguments(_ name: String) throws -> [String] {
        let text = String(decoding: try command.read("\(name).ext"), as: UTF8.self)
        return text.split(separator: "\n").flatMap { ["-addext", String($0)] }
    }
}
