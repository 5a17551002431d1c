import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat
import CPKTestSupport
import XCTest

@testable import CPKPackage

/// Signer's rules: where the new streams go, what package.map covers, what each signature is
/// over, and what it refuses before anything is written.
final class SignerTests: XCTestCase {
    var scratch: Scratch!

    override func setUpWithError() throws { scratch = try Scratch() }
    override func tearDown() { scratch = nil }

    // MARK: - layout

    /// A payload signature and its certificate go just before the manifest; a map that covered
    /// every stream covers the new ones too; the signature is over the payload's SHA-256.
    func testPayloadSignatureAndCertificateGoJustBeforeTheManifest() throws {
        let payload = testPayload(5000)
        let key = TestKeys.ed25519
        let embedding = CertificateEmbedding.publicKey(try key.verifyingKey, form: .pem)
        let signed = try scratch.sign(try scratch.pack(payload), try signingRequest([.payload], key, certificate: embedding))
        XCTAssertNil(signed.emitted, "an online signer emits no digest")
        let package = try scratch.readAll(signed.path)
        XCTAssertEqual(package.roles, ["payload", "payload-digest", "payload-signature", "payload-certificate", "manifest"])
        XCTAssertEqual(package.head.manifestIndex, 4)
        XCTAssertEqual(package.manifest.payload.signature, .ed25519(data: 2))
        XCTAssertEqual(package.manifest.payload.certificate, .publicKeyPEM(data: 3))
        XCTAssertEqual(package.manifest.package.map, [0, 1, 2, 3, 4])
        XCTAssertEqual(package.manifest.package.digest, .none)
        XCTAssertEqual(package.manifest.package.signature, .none)
        XCTAssertEqual(package.streams[0], payload)
        XCTAssertEqual(package.streams[1], try sha256(payload))
        XCTAssertEqual(package.streams[3], Array(try key.verifyingKey.pem().utf8))
        let verifier = try key.verifyingKey
        XCTAssertTrue(try verifier.verify(signature: package.streams[2], digest: try sha256(payload), scheme: .ed25519))
        XCTAssertFalse(try verifier.verify(signature: package.streams[2], digest: try sha256(payload + [0]), scheme: .ed25519))
    }

    /// cpk-pack, cpk-seal, then a payload signature with an X.509 certificate: the reference
    /// 7-stream layout, then the key check stream (docs/format.md §4.1).
    func testSealedAndSignedPackageHasTheReferenceLayout() throws {
        let certificates = try TestCertificates()
        let (key, certificate) = try certificates.make("Release Signer", key: "rsa")
        let payload = testPayload(3000)
        let classKey = try SecureRandom.bytes(32)
        let sealed = try scratch.seal(try scratch.pack(payload), key: classKey)
        let embedding = CertificateEmbedding.x509(chain: [certificate], form: .pem)
        let package = try scratch.readAll(try scratch.sign(sealed, try signingRequest([.payload], key, certificate: embedding)).path)
        XCTAssertEqual(
            package.roles,
            ["payload", "nonce", "tag", "payload-digest", "payload-signature", "payload-certificate", "manifest", "unreferenced"])
        XCTAssertEqual(KeyCheckStream.value(in: package.streams[7]), try KeyCheckValue.of(classKey))
        XCTAssertEqual(package.manifest.payload.signature, .rsaPKCS1v15(keyStrength: 2048, data: 4))
        XCTAssertEqual(package.manifest.payload.certificate, .x509PEM(data: 5))
        XCTAssertEqual(package.streams[5], Array(try certificate.pem().utf8))
        XCTAssertEqual(package.streams[4].count, 256)
        XCTAssertNotEqual(package.streams[0], payload, "the payload is encrypted")
        XCTAssertTrue(try key.verifyingKey.verify(signature: package.streams[4], digest: try sha256(payload), scheme: .rsaPKCS1v15))
    }

    /// Every scheme, from an envelope (digest deferred) and from a .cpk (digest known): payload
    /// and package signature; package.map is every stream but the package digest and
    /// signature, the manifest included; the package digest is SHA-256 of the mapped streams in
    /// map order; both signatures verify over the right digest.
    func testEverySchemeSignsPayloadAndPackageFromEitherInputForm() throws {
        let payload = testPayload(10_000)
        for format in OutputFormat.allCases {
            let packed = try scratch.pack(payload, as: format, name: "packed-\(format.rawValue)")
            for scheme in SignatureScheme.allCases {
                let what = "\(scheme.rawValue) from \(format.rawValue)"
                let key = TestKeys.key(for: scheme)
                let verifier = try key.verifyingKey
                let request = try signingRequest(
                    [.payload, .package], key, scheme: scheme, certificate: .publicKey(verifier, form: .der))
                let signed = try scratch.sign(packed, request, name: "signed-\(scheme.rawValue)-\(format.rawValue)")
                let package = try scratch.readAll(signed.path)
                XCTAssertEqual(
                    package.roles,
                    ["payload", "payload-digest", "payload-signature", "payload-certificate", "package-digest",
                     "package-signature", "package-certificate", "manifest"], what)
                XCTAssertEqual(package.manifest.payload.signature, Signature(scheme: scheme, keyBits: verifier.type.bits, data: 2), what)
                XCTAssertEqual(package.manifest.payload.certificate, .publicKeyDER(data: 3), what)
                XCTAssertEqual(package.manifest.package.digest, .sha256(data: 4), what)
                XCTAssertEqual(package.manifest.package.signature, Signature(scheme: scheme, keyBits: verifier.type.bits, data: 5), what)
                XCTAssertEqual(package.manifest.package.certificate, .publicKeyDER(data: 6), what)
                XCTAssertEqual(package.manifest.package.map, [0, 1, 2, 3, 6, 7], what)
                XCTAssertEqual(package.streams[3], verifier.subjectPublicKeyInfoDER, what)
                XCTAssertEqual(package.streams[6], verifier.subjectPublicKeyInfoDER, what)
                XCTAssertEqual(package.streams[2].count, scheme.signatureSize(keyBits: verifier.type.bits), what)
                XCTAssertEqual(package.streams[5].count, scheme.signatureSize(keyBits: verifier.type.bits), what)
                let payloadDigest = try sha256(payload)
                XCTAssertEqual(package.streams[1], payloadDigest, what)
                let packageDigest = try sha256(
                    package.streams[0] + package.streams[1] + package.streams[2] + package.streams[3] + package.streams[6]
                        + package.streams[7])
                XCTAssertEqual(package.streams[4], packageDigest, what)
                XCTAssertEqual(try package.mapDigest(), packageDigest, what)
                XCTAssertTrue(try verifier.verify(signature: package.streams[2], digest: payloadDigest, scheme: scheme), what)
                XCTAssertTrue(try verifier.verify(signature: package.streams[5], digest: packageDigest, scheme: scheme), what)
                XCTAssertFalse(try verifier.verify(signature: package.streams[5], digest: payloadDigest, scheme: scheme), what)
            }
        }
    }

    /// A package signature alone: digest and signature before the manifest, no certificate
    /// stream for a URL reference, the map every other stream.
    func testAPackageSignatureAloneMapsEveryOtherStream() throws {
        let payload = testPayload(100)
        let key = TestKeys.p256
        let signed = try scratch.sign(
            try scratch.pack(payload, as: .envelope),
            try signingRequest([.package], key, certificate: .url("https://acme.example/signer.pem")), as: .envelope)
        let package = try scratch.readAll(signed.path)
        XCTAssertEqual(package.roles, ["payload", "payload-digest", "package-digest", "package-signature", "manifest"])
        XCTAssertEqual(package.manifest.package.map, [0, 1, 4])
        XCTAssertEqual(package.manifest.package.certificate, .url("https://acme.example/signer.pem"))
        XCTAssertEqual(package.manifest.payload.signature, .none)
        XCTAssertEqual(package.streams[2], try sha256(payload + (try sha256(payload)) + package.streams[4]))
        XCTAssertTrue(try key.verifyingKey.verify(signature: package.streams[3], digest: package.streams[2], scheme: .ecdsaP256))
    }

    /// A package from another writer, manifest first and the payload digest before the
    /// payload: the new streams still go before the manifest, every reference and the
    /// deferred streams are renumbered, and the package digest (whose map puts a stream known
    /// only after the payload before it) is computed over the kept payload, across chunks.
    func testAManifestFirstPackageIsRenumberedAndItsMapDigestIsRight() throws {
        let payload = testPayload(Chunks.size * 2 + 12_345)
        let manifest = Manifest(
            id: "test", name: "Demo", vendor: "Acme",
            payload: PayloadSection(data: 2, target: testIdentity.target, version: testIdentity.version, digest: .sha256(data: 1)),
            package: PackageSection(map: [0, 1, 2]))
        let head = PackageHead(
            manifest: manifest, manifestIndex: 0, streams: [.manifest, .deferred(size: 32), .payload],
            payloadSize: UInt64(payload.count))
        let input = try scratch.package(head: head, payload: payload, deferred: [1: try sha256(payload)])
        let key = TestKeys.ed25519
        let embedding = CertificateEmbedding.publicKey(try key.verifyingKey, form: .pem)
        for format in OutputFormat.allCases {
            let signed = try scratch.sign(
                input, try signingRequest([.payload, .package], key, certificate: embedding), as: format, name: "signed-\(format)")
            let package = try scratch.readAll(signed.path)
            XCTAssertEqual(
                package.roles,
                ["payload-signature", "payload-certificate", "package-digest", "package-signature", "package-certificate",
                 "manifest", "payload-digest", "payload"])
            XCTAssertEqual(package.head.manifestIndex, 5)
            XCTAssertEqual(package.manifest.payload.data, 7)
            XCTAssertEqual(package.manifest.payload.digest, .sha256(data: 6))
            XCTAssertEqual(package.manifest.package.map, [0, 1, 4, 5, 6, 7])
            XCTAssertEqual(package.streams[7], payload)
            XCTAssertEqual(package.streams[6], try sha256(payload), "the deferred digest moved with its stream")
            let expected = try sha256(
                package.streams[0] + package.streams[1] + package.streams[4] + package.streams[5] + package.streams[6] + payload)
            XCTAssertEqual(package.streams[2], expected)
            let verifier = try key.verifyingKey
            XCTAssertTrue(try verifier.verify(signature: package.streams[0], digest: try sha256(payload), scheme: .ed25519))
            XCTAssertTrue(try verifier.verify(signature: package.streams[3], digest: expected, scheme: .ed25519))
        }
    }

    /// Signing rewrites package.map to every covered stream in stream order, whatever order
    /// the input's map had.
    func testSigningRewritesThePackageMapInStreamOrder() throws {
        let payload = testPayload(64)
        let packed = try scratch.readAll(try scratch.pack(payload))
        var head = Packer.head(for: testIdentity, payloadSize: UInt64(payload.count))
        head.manifest.package.map = [2, 0, 1]
        let input = try scratch.package(head: head, payload: payload, deferred: [1: packed.streams[1]])
        let signed = try scratch.readAll(try scratch.sign(input, try signingRequest([.package], TestKeys.ed25519)).path)
        XCTAssertEqual(signed.manifest.package.map, [0, 1, 4])
        XCTAssertEqual(signed.streams[2], try sha256(payload + packed.streams[1] + signed.streams[4]))
    }

    /// PackageMapDigest hashes in package.map's order, not stream order, whether the streams
    /// before the payload in the map are known (hashed at once) or deferred (payload kept).
    func testThePackageMapDigestFollowsMapOrder() throws {
        let payload = testPayload(Chunks.size + 999)
        let signed = try scratch.readAll(try scratch.sign(
            try scratch.pack(payload), try signingRequest([.payload, .package], TestKeys.ed25519,
                certificate: .publicKey(try TestKeys.ed25519.verifyingKey, form: .pem))).path)
        var head = try openPackage(try scratch.sign(
            try scratch.pack(payload, name: "again"), try signingRequest([.payload, .package], TestKeys.ed25519,
                certificate: .publicKey(try TestKeys.ed25519.verifyingKey, form: .pem)), name: "again").path).head
        for map in [[7, 3, 0, 1, 2, 6], [0, 1, 2, 3, 6, 7], [1, 0, 7]] {
            head.manifest.package.map = map
            // the manifest's bytes change with its map: hash what the head now says
            var streams = signed.streams
            streams[7] = head.manifestBytes
            let digest = try PackageMapDigest(head: head)
            try payload.withUnsafeBytes { try digest.addPayload($0) }
            XCTAssertEqual(try digest.finish(deferred: [:]), try sha256(map.flatMap { streams[$0] }), "\(map)")
            // the payload digest stream deferred, before the payload in the map: kept and hashed at the end
            var deferredHead = head
            deferredHead.streams[1] = .deferred(size: 32)
            let kept = try PackageMapDigest(head: deferredHead)
            try payload[..<1000].withUnsafeBytes { try kept.addPayload($0) }
            try payload[1000...].withUnsafeBytes { try kept.addPayload($0) }
            XCTAssertEqual(try kept.finish(deferred: [1: streams[1]]), try sha256(map.flatMap { streams[$0] }), "\(map), kept")
            XCTAssertCPKError(.invalidInput, containing: "package.map names stream 1, whose bytes are missing", try {
                let missing = try PackageMapDigest(head: deferredHead)
                return try missing.finish(deferred: [:])
            }())
        }
    }

    func testHeadEditorRenumbersTheDeferredStreamsOfTheInput() {
        var head = Packer.head(for: testIdentity, payloadSize: 1)
        head.streams.append(.deferred(size: 4))  // a stream after the manifest: moves with it
        head.manifest.package.map = [0, 1, 2, 3]
        var editor = HeadEditor(head)
        XCTAssertEqual(editor.insertBeforeManifest(.bytes([1])), 2)
        XCTAssertEqual(editor.insertBeforeManifest(.deferred(size: 2)), 3)
        XCTAssertEqual(editor.head.manifestIndex, 4)
        XCTAssertEqual(editor.head.manifest.package.map, [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(editor.renumbered([1: [0xAA], 3: [0xBB]]), [1: [0xAA], 5: [0xBB]])
    }

    // MARK: - refusals, before anything is written

    func testASignedPayloadIsNotSignedAgain() throws {
        let signed = try scratch.sign(try scratch.pack([1, 2, 3]), try signingRequest([.payload], TestKeys.ed25519)).path
        assertRefused(signed, try signingRequest([.payload], TestKeys.p256), .invalidInput, "already has a payload signature (ed25519)")
        // a package signature may still be added over it
        XCTAssertNoThrow(try scratch.sign(signed, try signingRequest([.package], TestKeys.p256), name: "twice"))
    }

    func testAPackageSignatureCoversEverythingSoNothingIsSignedAfterIt() throws {
        let signed = try scratch.sign(try scratch.pack([1, 2, 3]), try signingRequest([.package], TestKeys.ed25519)).path
        for targets in [[SignatureTarget.payload], [.package], [.payload, .package]] {
            assertRefused(signed, try signingRequest(targets, TestKeys.ed25519), .invalidInput, "already has a package signature")
        }
    }

    func testAPendingOfflineSignatureMustBeStitchedFirst() throws {
        let prepared = try scratch.sign(
            try scratch.pack([1, 2, 3]), try signingRequest([.payload], TestKeys.ed25519, offline: true), as: .envelope).path
        assertRefused(prepared, try signingRequest([.package], TestKeys.ed25519), .invalidInput, "stream 2 awaits an offline signature")
    }

    func testOfflineSigningPreparesOneSignatureAtATime() throws {
        assertRefused(
            try scratch.pack([1]), try signingRequest([.payload, .package], TestKeys.ed25519, offline: true), .usage,
            "offline signing prepares one signature at a time")
    }

    func testAPackageWithoutAPayloadDigestHasNothingToSign() throws {
        var head = Packer.head(for: testIdentity, payloadSize: 1)
        head.manifest.payload.digest = .none
        XCTAssertCPKError(
            .invalidInput, containing: "x.cpk has no payload digest to sign",
            try Signer.checkRequest(try signingRequest([.payload], TestKeys.ed25519), head: head, name: "x.cpk"))
        // a package signature needs no payload digest
        XCTAssertNoThrow(try Signer.checkRequest(try signingRequest([.package], TestKeys.ed25519), head: head, name: "x.cpk"))
        head = Packer.head(for: testIdentity, payloadSize: 1)
        head.manifest.package.digest = .sha256(data: 1)
        XCTAssertCPKError(
            .invalidInput, containing: "already has a package digest",
            try Signer.checkRequest(try signingRequest([.package], TestKeys.ed25519), head: head, name: "x.cpk"))
    }

    func testAnEmbeddedKeyOrCertificateMustBeTheSigners() throws {
        let packed = try scratch.pack([1, 2, 3])
        let (_, certificate) = try TestCertificates().make("Someone Else")
        assertRefused(
            packed, try signingRequest([.payload], TestKeys.p256, certificate: .x509(chain: [certificate], form: .pem)), .invalidInput,
            "the certificate (CN=Someone Else) is for another key than the signing key")
        assertRefused(
            packed, try signingRequest([.payload], TestKeys.ed25519, certificate: .publicKey(try TestKeys.other.verifyingKey, form: .der)),
            .invalidInput, "the public key to embed is not the signing key's")
    }

    /// The verifier's certificate rules hold at signing time too (CertificateEmbedding.requireKey).
    func testACertificateThatDoesNotAllowCodeSigningIsRefused() throws {
        let certificates = try TestCertificates()
        let packed = try scratch.pack([1, 2, 3])
        let noSign = try certificates.make("No Signing", extensions: "nosign")
        assertRefused(
            packed, try signingRequest([.payload], noSign.key, certificate: .x509(chain: [noSign.certificate], form: .der)),
            .invalidInput, "key usage does not allow digital signatures")
        let tls = try certificates.make("TLS Server", extensions: "tls")
        assertRefused(
            packed, try signingRequest([.package], tls.key, certificate: .x509(chain: [tls.certificate], form: .pem)),
            .invalidInput, "extended key usage does not allow code signing (CN=TLS Server)")
        let code = try certificates.make("Code Signer")
        XCTAssertNoThrow(
            try scratch.sign(packed, try signingRequest([.payload], code.key, certificate: .x509(chain: [code.certificate], form: .der))))
    }

    func testTheSigningKeyMustBelongToTheGivenPublicKeyAndFitTheScheme() throws {
        let packed = try scratch.pack([1, 2, 3])
        var request = try signingRequest([.payload], TestKeys.ed25519)
        request.signerKey = try TestKeys.other.verifyingKey
        assertRefused(packed, request, .usage, "the signing key does not belong to the given public key")
        XCTAssertThrowsError(try Signer.checkRequest(
            try signingRequest([.payload], TestKeys.ed25519, scheme: .ecdsaP256), head: try openPackage(packed).head, name: "x"))
        XCTAssertThrowsError(try Signer.checkRequest(
            try signingRequest([.payload], TestKeys.p256, scheme: .rsaPSS), head: try openPackage(packed).head, name: "x"))
    }

    // MARK: - offline preparation

    /// Offline: a zero placeholder of the signature's size, marked pending, and the digest to
    /// sign handed out: the payload digest, or the package digest (which then covers the
    /// placeholder-free streams and is itself stored).
    func testOfflinePreparationLeavesAPlaceholderAndEmitsTheDigest() throws {
        let payload = testPayload(2000)
        let packed = try scratch.pack(payload, as: .envelope)
        let key = TestKeys.p384
        let payloadSide = try scratch.sign(packed, try signingRequest([.payload], key, offline: true), as: .envelope, name: "p")
        XCTAssertEqual(payloadSide.emitted, try sha256(payload))
        let prepared = try scratch.readAll(payloadSide.path)
        XCTAssertEqual(prepared.head.pendingSignatures, [2])
        XCTAssertEqual(prepared.streams[2], [UInt8](repeating: 0, count: 96))
        let packageSide = try scratch.sign(packed, try signingRequest([.package], key, offline: true), as: .envelope, name: "q")
        let pending = try scratch.readAll(packageSide.path)
        XCTAssertEqual(pending.head.pendingSignatures, [3])
        XCTAssertEqual(pending.streams[2], try pending.mapDigest())
        XCTAssertEqual(packageSide.emitted, pending.streams[2])
        // a pending signature never reaches a .cpk
        XCTAssertThrowsError(try scratch.sign(packed, try signingRequest([.payload], key, offline: true), as: .cpk, name: "r"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path("r.cpk")))
    }

    // MARK: - helpers

    /// Signing `path` with `request` fails with `kind` and `text`, and nothing is begun.
    private func assertRefused(
        _ path: String, _ request: Signer.Request, _ kind: CPKError.Kind, _ text: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let output = RecordingOutput()
        XCTAssertCPKError(
            kind, containing: text, try Signer.sign(try openPackage(path), request, log: testEntry, to: output), file: file, line: line)
        XCTAssertNil(output.head, "nothing was written", file: file, line: line)
    }
}
