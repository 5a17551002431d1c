#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKFormat
import CPKPackage
import CPKTestSupport
import Foundation
import XCTest

/// The OCI image layout writer and reader: tags kept and replaced, and every way a layout pulled
/// from an untrusted registry can be wrong refused with one line before the package is used.
final class OCILayoutTests: XCTestCase {
    var directory: String!
    var layout: String { directory + "/layout" }

    override func setUp() {
        directory = NSTemporaryDirectory() + "cpk-oci-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func identity(_ id: String, _ version: String) -> PackageIdentity {
        PackageIdentity(
            id: id, name: "Demo", vendor: "Acme", target: Target(arch: "aarch64", os: "OP-TEE"),
            version: Version(dotted: version, date: "2026-11-26T00:00:00Z")!)
    }

    @discardableResult
    func pack(_ payload: [UInt8], id: String = "test", version: String = "1.2.0", tag: String?) throws -> OCILayoutWriter.Written {
        let source = directory + "/payload-\(UUID().uuidString)"
        try Data(payload).write(to: URL(fileURLWithPath: source))
        return try OCILayoutWriter.write(to: OCILocation(directory: layout, tag: tag), created: "2026-11-26T08:00:00Z") {
            try Packer.pack(payload: try FileDescriptor.open(forReading: source), identity: identity(id, version), log: [], to: $0)
        }
    }

    func payload(of input: PackageInput) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let chunk = try input.nextPayloadChunk() { bytes += chunk }
        return bytes
    }

    func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    func blob(_ digest: OCIDigest) -> String { layout + "/blobs/sha256/" + digest.hex }

    func testManifestConfigAndLayerAreAsDocumented() throws {
        let written = try pack(Array(repeating: 7, count: 300_000), id: "org.example/app", tag: "1.2.0")
        XCTAssertEqual(try json(layout + "/oci-layout")["imageLayoutVersion"] as? String, "1.0.0")
        let manifest = try json(blob(written.manifestDigest))
        XCTAssertEqual(manifest["schemaVersion"] as? Int, 2)
        XCTAssertEqual(manifest["mediaType"] as? String, "application/vnd.oci.image.manifest.v1+json")
        XCTAssertEqual(manifest["artifactType"] as? String, "application/vnd.cpk.package.v1")
        let config = manifest["config"] as! [String: Any]
        XCTAssertEqual(config["mediaType"] as? String, "application/vnd.oci.empty.v1+json")
        XCTAssertEqual(config["size"] as? Int, 2)
        XCTAssertEqual(config["digest"] as? String, "sha256:" + hex(try SHA256Hasher.digest(Array("{}".utf8))))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: blob(try OCIDigest(parsing: OCIArtifact.emptyDigest)))), Data("{}".utf8))
        let layers = manifest["layers"] as! [[String: Any]]
        XCTAssertEqual(layers.count, 1)
        XCTAssertEqual(layers[0]["mediaType"] as? String, "application/vnd.cpk.package.v1+cpk")
        XCTAssertEqual(layers[0]["size"] as? Int, Int(written.layerSize))
        // The digest computed while writing is the digest of what is on disk.
        let layerBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: blob(written.layerDigest))))
        XCTAssertEqual(hex(try SHA256Hasher.digest(layerBytes)), written.layerDigest.hex)
        XCTAssertEqual(Array(layerBytes.prefix(4)), Frame.magicBytes)
        let annotations = manifest["annotations"] as! [String: String]
        XCTAssertEqual(annotations["org.opencontainers.image.title"], "org.example_app-1.2.0.cpk")
        XCTAssertEqual(annotations["org.opencontainers.image.version"], "1.2.0")
        XCTAssertEqual(annotations["org.opencontainers.image.created"], "2026-11-26T08:00:00Z")
        XCTAssertEqual(annotations["dev.cpk.id"], "org.example/app")
        // No temporary file is left in blobs/sha256.
        let names = try FileManager.default.contentsOfDirectory(atPath: layout + "/blobs/sha256")
        XCTAssertEqual(names.filter { $0.hasPrefix(".") }, [])
        XCTAssertEqual(names.count, 3)
    }

    func testSeveralTagsAreKeptAndATagIsReplaced() throws {
        try pack([1, 2, 3], version: "1.0.0", tag: "1.0.0")
        try pack([4, 5, 6], version: "2.0.0", tag: "2.0.0")
        try pack([7, 8, 9], version: "2.0.1", tag: "2.0.0")  // moves the tag
        let index = try json(layout + "/index.json")
        XCTAssertEqual(index["mediaType"] as? String, "application/vnd.oci.image.index.v1+json")
        let tags = (index["manifests"] as! [[String: Any]]).map { ($0["annotations"] as! [String: String])["org.opencontainers.image.ref.name"] }
        XCTAssertEqual(tags, ["1.0.0", "2.0.0"])
        XCTAssertEqual(try payload(of: openPackage("oci:\(layout):1.0.0")), [1, 2, 3])
        let moved = try openPackage("oci:\(layout):2.0.0")
        XCTAssertEqual(moved.head.manifest.payload.version.dotted, "2.0.1")
        XCTAssertEqual(try payload(of: moved), [7, 8, 9])
        XCTAssertEqual(moved.name, "oci:\(layout):2.0.0")
        // Two manifests and no latest: the tag must be named.
        XCTAssertCPKError(.usage, containing: "name one as oci:DIR:TAG", try openPackage("oci:\(layout)"))
        XCTAssertCPKError(.invalidInput, containing: "no manifest is tagged \"3.0\"", try openPackage("oci:\(layout):3.0"))
    }

    func testWithoutATagLatestOrTheOnlyManifestIsRead() throws {
        try pack([1], tag: nil)  // written as latest
        try pack([2], tag: "other")
        XCTAssertEqual(try payload(of: openPackage("oci:\(layout)")), [1])
        try FileManager.default.removeItem(atPath: layout)
        try pack([3], tag: "only")
        XCTAssertEqual(try payload(of: openPackage("oci:\(layout)")), [3])
    }

    func testATamperedLayerIsRefusedByItsDigest() throws {
        let written = try pack(Array(repeating: 9, count: 5000), tag: "1")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: blob(written.layerDigest))))
        bytes[bytes.count - 1] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: blob(written.layerDigest)))
        XCTAssertCPKError(.checkFailed, containing: "does not match its digest \(written.layerDigest)", try openPackage("oci:\(layout):1"))
        // A blob cut short is refused by its size, before hashing.
        try Data(bytes.dropLast()).write(to: URL(fileURLWithPath: blob(written.layerDigest)))
        XCTAssertCPKError(.checkFailed, containing: "not the \(written.layerSize) its descriptor gives", try openPackage("oci:\(layout):1"))
    }

    func testATamperedManifestIsRefusedByItsDigest() throws {
        let written = try pack([1, 2], tag: "1")
        let path = blob(written.manifestDigest)
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "1.2.0", with: "9.2.0")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertCPKError(.checkFailed, containing: "the manifest blob does not match", try openPackage("oci:\(layout):1"))
    }

    func testAMissingBlobIsNamed() throws {
        let written = try pack([1, 2], tag: "1")
        try FileManager.default.removeItem(atPath: blob(written.layerDigest))
        XCTAssertCPKError(.invalidInput, containing: "layer blob \(written.layerDigest) is missing", try openPackage("oci:\(layout):1"))
    }

    /// Writes a manifest of the reader's choosing into the layout and tags it `bad`.
    func tagManifest(_ manifest: String) throws {
        let bytes = Array(manifest.utf8)
        let digest = OCIDigest(bytes: try SHA256Hasher.digest(bytes))
        try Data(bytes).write(to: URL(fileURLWithPath: blob(digest)))
        let index = """
            {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "digest":"\(digest)","size":\(bytes.count),"annotations":{"org.opencontainers.image.ref.name":"bad"}}]}
            """
        try index.write(toFile: layout + "/index.json", atomically: true, encoding: .utf8)
    }

    func testOtherArtifactsAndMediaTypesAreRefused() throws {
        let written = try pack([1, 2], tag: "1")
        let layer = "{\"mediaType\":\"%@\",\"digest\":\"\(written.layerDigest)\",\"size\":\(written.layerSize)}"
        let config = "{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"\(OCIArtifact.emptyDigest)\",\"size\":2}"
        try tagManifest("""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cpk.package.v1",\
            "config":\(config),"layers":[\(layer.replacingOccurrences(of: "%@", with: "application/vnd.oci.image.layer.v1.tar"))]}
            """)
        XCTAssertCPKError(.invalidInput, containing: "not application/vnd.cpk.package.v1+cpk", try openPackage("oci:\(layout):bad"))
        try tagManifest("""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "config":\(config),"layers":[\(layer.replacingOccurrences(of: "%@", with: OCIArtifact.layerMediaType))]}
            """)
        XCTAssertCPKError(.invalidInput, containing: "it is not a .cpk package", try openPackage("oci:\(layout):bad"))
        try tagManifest("""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cpk.package.v1",\
            "config":\(config),"layers":[]}
            """)
        XCTAssertCPKError(.invalidInput, containing: "exactly one layer", try openPackage("oci:\(layout):bad"))
    }

    func testHostileDigestsAndLayoutsAreRefused() throws {
        try pack([1], tag: "1")
        let index = """
            {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "digest":"sha256:../../../etc/passwd","size":10,"annotations":{"org.opencontainers.image.ref.name":"x"}}]}
            """
        try index.write(toFile: layout + "/index.json", atomically: true, encoding: .utf8)
        XCTAssertCPKError(.invalidInput, containing: "64 lowercase hex digits", try openPackage("oci:\(layout):x"))
        try FileManager.default.removeItem(atPath: layout + "/oci-layout")
        XCTAssertCPKError(.invalidInput, containing: "no oci-layout file", try openPackage("oci:\(layout):x"))
        XCTAssertCPKError(.usage, containing: "is not a tag", try openPackage("oci:\(layout):bad/tag"))
    }

    /// A FIFO planted in place of a blob or of index.json is refused at once, not waited on
    /// (nobody ever writes to it, so a blocking open would hang the tool).
    func testAFIFOInPlaceOfABlobOrTheIndexIsRefusedWithoutWaiting() throws {
        let written = try pack([1, 2, 3], tag: "1")
        let layer = blob(written.layerDigest)
        try FileManager.default.removeItem(atPath: layer)
        XCTAssertEqual(mkfifo(layer, 0o644), 0)
        XCTAssertCPKError(.invalidInput, containing: "blob \(written.layerDigest) is not a regular file", try openPackage("oci:\(layout):1"))
        try FileManager.default.removeItem(atPath: layout + "/index.json")
        XCTAssertEqual(mkfifo(layout + "/index.json", 0o644), 0)
        XCTAssertCPKError(.invalidInput, containing: "index.json of the image layout is not a regular file", try openPackage("oci:\(layout):1"))
        XCTAssertCPKError(.invalidInput, containing: "is not a regular file", try pack([4], tag: "2"))
    }

    func testAFailedWriteLeavesTheLayoutAsItWas() throws {
        try pack([1, 2], tag: "1")
        let before = try Data(contentsOf: URL(fileURLWithPath: layout + "/index.json"))
        XCTAssertThrowsError(try OCILayoutWriter.write(to: OCILocation(directory: layout, tag: "2"), created: "2026-11-26T08:00:00Z") { _ in
            throw CPKError.invalid("the pipeline failed")
        })
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: layout + "/index.json")), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: layout + "/blobs/sha256").filter { $0.hasPrefix(".") }, [])
    }
}
