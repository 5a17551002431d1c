import ArgumentParser
import CPKCore
import CPKCrypto
import CPKFormat
import CPKKeys
import CPKTestSupport
import XCTest

@testable import CPKCLI
@testable import CPKPackage

/// Packages made in-process through `PackFrontend`, for the frontends that read them.
enum PackageFixtures {
    static let target = Target(arch: "x86_64", os: "linux")

    static func creation(payload: String, output: String, version: String = "1.2.0") throws -> PackFrontend.Creation {
        PackFrontend.Creation(
            payload: payload, id: "demo", displayName: "Demo", vendor: "Acme", target: target, appVersion: version,
            date: "2026-01-02T03:04:05Z", output: try PackageOutputOptions.parse(["-o", output]),
            messages: try MessageOptions.parse(["-q"]))
    }

    /// `unsigned`, signed by a new RSA key (its public key embedded, for both targets); the
    /// key's public half in `directory`/signer.pem.
    static func signedEnvelope(in directory: String, payload: [UInt8]) throws -> String {
        let unsigned = try envelope(in: directory, payload: payload, name: "unsigned.envelope")
        let key = try RSAPrivateKey.generate(bits: 2048)
        try Data(try key.pem()).write(to: URL(fileURLWithPath: directory + "/signer.key"))
        try Data(try key.publicKey.pem().utf8).write(to: URL(fileURLWithPath: directory + "/signer.pem"))
        var options = SignFrontend.Online(
            key: directory + "/signer.key", passphraseFile: nil, passphraseEnvironment: nil, targets: [.payload, .package],
            scheme: nil, naming: .init(certificate: nil, embedPublicKey: true, url: nil, domain: nil, form: .pem),
            input: unsigned, output: try PackageOutputOptions.parse(["-o", directory + "/signed.envelope"]))
        options.messages = try MessageOptions.parse(["-q"])
        try SignFrontend.sign(options)
        return directory + "/signed.envelope"
    }

    /// An unencrypted, unsigned envelope of `payload`, written in `directory`; returns its path.
    static func envelope(in directory: String, payload: [UInt8], name: String = "demo.envelope") throws -> String {
        let payloadPath = directory + "/payload-of-" + name
        try Data(payload).write(to: URL(fileURLWithPath: payloadPath))
        let path = directory + "/" + name
        try PackFrontend.create(try creation(payload: payloadPath, output: path))
        return path
    }
}

final class PackFrontendTests: XCTestCase {
    func testAPayloadBecomesAnEnvelopeWithItsIdentity() throws {
        let directory = makeTemporaryDirectory(self)
        let path = try PackageFixtures.envelope(in: directory, payload: Array("hello".utf8))
        let package = try openPackage(path)
        XCTAssertEqual(package.head.manifest.id, "demo")
        XCTAssertEqual(package.head.manifest.payload.version, Version(major: 1, minor: 2, revision: 0, date: "2026-01-02T03:04:05Z"))
        XCTAssertEqual(package.head.payloadSize, 5)
    }

    func testABadVersionIsRefusedAndNothingIsWritten() throws {
        let directory = makeTemporaryDirectory(self)
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/payload"))
        for version in ["1.2", "1.2.x", "v1.2.3"] {
            XCTAssertCPKError(
                .usage, containing: "three numbers",
                try PackFrontend.create(try PackageFixtures.creation(payload: directory + "/payload", output: directory + "/out", version: version)))
            XCTAssertEqual(access(directory + "/out", F_OK), -1, version)
        }
    }

    func testTheIdVersionAndDateRules() throws {
        XCTAssertNoThrow(try PackFrontend.validate(id: "org.example/app:1_x-y", appVersion: "10.0.3", date: "2026-11-26T08:00:00Z"))
        XCTAssertNoThrow(try PackFrontend.validate(id: String(repeating: "a", count: 128), appVersion: "1.0.0", date: nil))
        for id in ["", String(repeating: "a", count: 129), "has space", "é", "a\u{1b}b", "semi;colon"] {
            XCTAssertThrowsError(try PackFrontend.validate(id: id, appVersion: "1.0.0", date: nil), id) { error in
                XCTAssertEqual((error as? ValidationError)?.message, "--id must be 1 to 128 characters of letters, digits and . _ - / :")
            }
        }
        XCTAssertThrowsError(try PackFrontend.validate(id: "a", appVersion: "1.0", date: nil))
        XCTAssertThrowsError(try PackFrontend.validate(id: "a", appVersion: "1.0.0", date: "yesterday")) { error in
            XCTAssertTrue((error as? ValidationError)?.message.hasPrefix("--date must be an RFC 3339 timestamp") ?? false, "\(error)")
        }
    }

    func testTwoDestinationsAreRefused() {
        XCTAssertThrowsError(try PackageOutputOptions.parse(["--oci", "layout:v1", "-o", "x.cpk"])) { error in
            XCTAssertTrue(PackageOutputOptions.message(for: error).contains("--oci and --output"), "\(error)")
        }
        XCTAssertEqual(try PackageOutputOptions.parse(["--oci", "layout:v1"]).format, .cpk)
        XCTAssertEqual(try PackageOutputOptions.parse([]).format, .envelope)
    }
}

final class VerifyFrontendTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = makeTemporaryDirectory(self) }

    private func verify(_ input: String, integrityOnly: Bool, trust: [String] = []) throws -> (document: JSONValue, failed: Bool) {
        let request = VerifyFrontend.Request(
            input: input, trust: try TrustOptions.parse(trust), certificate: nil, integrityOnly: integrityOnly, required: [],
            json: true, keySource: try ClassKeyOptions.parse([]), messages: try MessageOptions.parse(["-q"]))
        var printed: [String] = []
        var failed = false
        do {
            try VerifyFrontend.verify(request) { printed.append($0) }
        } catch let code as ExitCode {
            XCTAssertEqual(code, ExitCode(1))
            failed = true
        }
        XCTAssertEqual(printed.count, 1)
        return (try JSONValue(parsing: Array(try XCTUnwrap(printed.first).utf8)), failed)
    }

    func testTheReportSchemaKeepsItsMembersInOrder() throws {
        let path = try PackageFixtures.envelope(in: directory, payload: Array("hello".utf8))
        let (document, failed) = try verify(path, integrityOnly: true)
        XCTAssertTrue(failed, "an unsigned package is intact but not verified: " + document.compactText)
        guard case .object(let members) = document else { return XCTFail(document.compactText) }
        XCTAssertEqual(
            Array(members.map(\.0).prefix(10)),
            ["cpk-verify", "input", "format", "id", "checked-at", "verified", "signatures-checked", "checks", "certificates", "problems"])
        XCTAssertEqual(document["cpk-verify"], .integer(1))
        XCTAssertEqual(document["id"], .string("demo"))
        XCTAssertEqual(document["verified"], .bool(false))
        XCTAssertEqual(document["verdict"], .string("not-verified"))
        XCTAssertEqual(document["problems"], .array([.string("no signature was checked")]))
        guard case .array(let checks)? = document["checks"], case .object(let first)? = checks.first else {
            return XCTFail(document.compactText)
        }
        XCTAssertEqual(Array(first.map(\.0).prefix(3)), ["check", "result", "detail"])
    }

    func testASignedPackageIsIntactWithoutTrustAndVerifiedWithItsSignerPinned() throws {
        let path = try PackageFixtures.signedEnvelope(in: directory, payload: Array("hello".utf8))
        let intact = try verify(path, integrityOnly: true)
        XCTAssertFalse(intact.failed, intact.document.compactText)
        XCTAssertEqual(intact.document["problems"], .array([]))
        XCTAssertEqual(intact.document["signatures-checked"], .integer(2))

        let untrusted = try verify(path, integrityOnly: false)
        XCTAssertTrue(untrusted.failed)
        XCTAssertEqual(untrusted.document["problems"], .array([.string(VerificationReport.Problem.noTrustInput.description)]))

        let pinned = try verify(path, integrityOnly: false, trust: ["--public-key", directory + "/signer.pem"])
        XCTAssertFalse(pinned.failed, pinned.document.compactText)
        XCTAssertEqual(pinned.document["verified"], .bool(true))
        XCTAssertEqual(pinned.document["manifest-authenticated"], .bool(true))

        let other = try RSAPrivateKey.generate(bits: 2048)
        try Data(try other.publicKey.pem().utf8).write(to: URL(fileURLWithPath: directory + "/other.pem"))
        let wrongSigner = try verify(path, integrityOnly: false, trust: ["--public-key", directory + "/other.pem"])
        XCTAssertTrue(wrongSigner.failed, wrongSigner.document.compactText)
    }

    func testAnInputThatIsNotAPackageIsAFailedStructureCheck() throws {
        try Data("not a package at all".utf8).write(to: URL(fileURLWithPath: directory + "/junk"))
        let (document, failed) = try verify(directory + "/junk", integrityOnly: true)
        XCTAssertTrue(failed)
        XCTAssertEqual(document["format"], .null)
        guard case .array(let checks)? = document["checks"], let first = checks.first else { return XCTFail(document.compactText) }
        XCTAssertEqual(first["check"], .string("structure"))
        XCTAssertEqual(first["result"], .string("failed"))
    }

    func testRequiredChecksAreCommaSeparatedRepeatableAndKnown() throws {
        XCTAssertEqual(
            try VerifyFrontend.requiredChecks(["payload-signature, manifest", " structure ", ",,"]),
            [.payloadSignature, .manifest, .structure])
        XCTAssertEqual(try VerifyFrontend.requiredChecks([]), [])
        XCTAssertThrowsError(try VerifyFrontend.requiredChecks(["manifest,payload-sig"])) { error in
            let message = (error as? ValidationError)?.message ?? "\(error)"
            XCTAssertTrue(message.hasPrefix("--require: unknown check \"payload-sig\" (known: structure, payload-tag, "), message)
        }
    }

    func testEachTrustReasonGetsTheFlagThatHelps() {
        func hint(_ reason: TrustFailure.Reason?) -> String? {
            VerifyFrontend.hint(CheckResult(check: .payloadTrust, status: .failed, detail: "d", reason: reason))
        }
        XCTAssertEqual(hint(.expired), "check at its time with --at, or accept it with --allow-expired")
        XCTAssertEqual(hint(.identityMismatch), "see --certificate-identity")
        XCTAssertEqual(hint(.notPinned), "pin the signer's key with --public-key, or give its CA with --ca")
        XCTAssertEqual(hint(.noCertificate), hint(.notPinned))
        XCTAssertEqual(hint(.untrustedChain), "give the CA with --ca, and intermediates with --untrusted")
        XCTAssertNil(hint(.keyUsage))
        XCTAssertNil(hint(nil))
    }
}

final class UnpackFrontendTests: XCTestCase {
    private func release(_ input: String, to output: String, trust: [String] = []) throws {
        try UnpackFrontend.payload(
            input: input, keySource: try ClassKeyOptions.parse([]), trust: try TrustOptions.parse(trust), skipSignatures: false,
            output: output, messages: try MessageOptions.parse(["-q"]))
    }

    func testAnIntactPayloadIsReleased() throws {
        let directory = makeTemporaryDirectory(self)
        let payload = Array(repeating: Array("payload-marker-".utf8), count: 100).flatMap { $0 }
        let path = try PackageFixtures.envelope(in: directory, payload: payload)
        try release(path, to: directory + "/out")
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/out"))), payload)
    }

    func testATamperedPayloadIsNeverReleased() throws {
        let directory = makeTemporaryDirectory(self)
        let payload = Array(repeating: Array("payload-marker-".utf8), count: 100).flatMap { $0 }
        let path = try PackageFixtures.envelope(in: directory, payload: payload)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let marker = Array("payload-marker-payload".utf8)
        let at = try XCTUnwrap((0..<(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker })
        bytes[at + 700] ^= 0x01  // inside the payload, past the first chunk head
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertCPKError(.checkFailed, containing: "nothing was written", try release(path, to: directory + "/out"))
        XCTAssertEqual(access(directory + "/out", F_OK), -1, "unauthenticated plaintext reached the destination")
    }

    func testAPayloadFromAnUntrustedSignerIsNeverReleased() throws {
        let directory = makeTemporaryDirectory(self)
        let path = try PackageFixtures.signedEnvelope(in: directory, payload: Array("secret-ish".utf8))
        let other = try RSAPrivateKey.generate(bits: 2048)
        try Data(try other.publicKey.pem().utf8).write(to: URL(fileURLWithPath: directory + "/other.pem"))
        XCTAssertThrowsError(try release(path, to: directory + "/out", trust: ["--public-key", directory + "/other.pem"]))
        XCTAssertEqual(access(directory + "/out", F_OK), -1, "a payload whose signer is not trusted reached the destination")
        try release(path, to: directory + "/out", trust: ["--public-key", directory + "/signer.pem"])
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/out"))), Array("secret-ish".utf8))
    }

    func testTheManifestOfATruncatedPackageIsRefused() throws {
        let directory = makeTemporaryDirectory(self)
        let path = try PackageFixtures.envelope(in: directory, payload: Array(repeating: 7, count: 4096))
        var printed: [String] = []
        try UnpackFrontend.manifest(input: path, pretty: false) { printed.append($0) }
        XCTAssertEqual(try JSONValue(parsing: Array(printed[0].utf8))["cp-id"], .string("demo"), printed[0])
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        try Data(bytes.dropLast(10)).write(to: URL(fileURLWithPath: directory + "/cut"))
        XCTAssertThrowsError(try UnpackFrontend.manifest(input: directory + "/cut", pretty: false) { printed.append($0) })
        XCTAssertEqual(printed.count, 1, "a truncated package printed a manifest")
    }

    func testTheStreamListAsJSONAndAsATable() throws {
        let directory = makeTemporaryDirectory(self)
        let path = try PackageFixtures.envelope(in: directory, payload: Array("hello".utf8))
        var printed: [String] = []
        try UnpackFrontend.streams(input: path, json: true) { printed.append($0) }
        try UnpackFrontend.streams(input: path, json: false) { printed.append($0) }
        guard case .array(let streams) = try JSONValue(parsing: Array(printed[0].utf8)) else { return XCTFail(printed[0]) }
        XCTAssertEqual(streams.count, 3, printed[0])
        XCTAssertEqual(printed[1].split(separator: "\n").count, 4, printed[1])  // a header and a row per stream
    }
}

/// `cpk-seal` then `cpk-unpack payload`, with a class key from a file store.
final class SealFrontendTests: XCTestCase {
    func testASealedPayloadOpensOnlyWithItsClassKey() throws {
        let directory = makeTemporaryDirectory(self)
        let store = directory + "/keys.json"
        _ = try FileKeyStore.provision(try SecureRandom.bytes(32), named: "demo", path: store, force: false)
        let plain = try PackageFixtures.envelope(in: directory, payload: Array("PLAINTEXT-SECRET-0123".utf8))
        let quiet = try MessageOptions.parse(["-q"])
        let keySource = try ClassKeyOptions.parse(["--file-store", store])
        try SealFrontend.seal(
            input: plain, keySource: keySource, output: try PackageOutputOptions.parse(["-o", directory + "/sealed"]), messages: quiet)
        let sealed = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/sealed")))
        XCTAssertNil(sealed.indices.first { Array(sealed[$0...].prefix(21)) == Array("PLAINTEXT-SECRET-0123".utf8) }, "plaintext in the sealed package")

        // sealing twice is refused before any key is fetched: no key store is even named
        XCTAssertThrowsError(
            try SealFrontend.seal(
                input: directory + "/sealed", keySource: try ClassKeyOptions.parse([]),
                output: try PackageOutputOptions.parse(["-o", directory + "/twice"]), messages: quiet)
        ) { error in XCTAssertEqual((error as? CPKError)?.kind, .invalidInput, "\(error)") }
        XCTAssertEqual(access(directory + "/twice", F_OK), -1)

        let release = { (source: ClassKeyOptions, output: String) in
            try UnpackFrontend.payload(
                input: directory + "/sealed", keySource: source, trust: try TrustOptions.parse([]), skipSignatures: false,
                output: output, messages: quiet)
        }
        let otherStore = directory + "/other.json"
        _ = try FileKeyStore.provision(try SecureRandom.bytes(32), named: "demo", path: otherStore, force: false)
        XCTAssertThrowsError(try release(try ClassKeyOptions.parse(["--file-store", otherStore]), directory + "/wrong"))
        XCTAssertEqual(access(directory + "/wrong", F_OK), -1, "a payload that failed its tag reached the destination")
        try release(keySource, directory + "/out")
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/out"))), Array("PLAINTEXT-SECRET-0123".utf8))
    }
}
