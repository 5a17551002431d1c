import CPKCore
import CPKCrypto
import CPKFormat

#if canImport(Glibc)
import Glibc
#endif

/// Reads a `.cpk` shipped as an OCI artifact from an OCI image layout directory.
///
/// A layout pulled from a registry is as trustworthy as the registry: every blob read here is
/// checked against the digest and size its descriptor gives before it is used, the manifest
/// before it is parsed and the layer before any of it is handed out as a package, so a
/// tampered blob is refused before anything is installed or released.
public enum OCILayoutReader {
    /// The artifact a location names: its manifest's descriptor and its one layer's.
    public struct Artifact: Sendable {
        public let manifest: OCIDescriptor
        public let layer: OCIDescriptor
        public let tag: String?
    }

    /// Opens the package at `location`, after checking the layer blob's digest and size.
    public static func openPackage(_ location: OCILocation) throws -> PackageInput {
        let file: FileDescriptor
        do {
            let artifact = try resolve(location)
            file = try openVerifiedBlob(artifact.layer, in: location, what: "layer")
        } catch {
            throw error.located(in: location.description)
        }
        // The descriptor checked is the one read from now on: the bytes verified are the
        // package's bytes as long as nobody rewrites the layout while the tool runs.
        return try PackageFileInput(PackageFile(file: file), name: location.description)
    }

    /// Finds the manifest the tag names, checks it is one of ours, and returns its layer.
    public static func resolve(_ location: OCILocation) throws -> Artifact {
        try checkLayoutFile(location)
        let index = try readIndex(location)
        guard case .array(let entries)? = index["manifests"] else {
            throw CPKError.invalid("index.json has no manifests list")
        }
        func refName(_ entry: JSONValue) -> String? {
            if case .string(let name)? = entry["annotations"]?[OCIArtifact.refNameAnnotation] { return name }
            return nil
        }
        let chosen: JSONValue
        if let tag = location.tag {
            let matches = entries.filter { refName($0) == tag }
            guard matches.count == 1, let match = matches.first else {
                throw CPKError.invalid(
                    matches.isEmpty ? "no manifest is tagged \"\(tag)\" in index.json\(tagList(entries.compactMap(refName)))"
                        : "\(matches.count) manifests are tagged \"\(tag)\" in index.json; a tag must name one")
            }
            chosen = match
        } else if let latest = entries.first(where: { refName($0) == OCIArtifact.defaultTag }) {
            chosen = latest
        } else if entries.count == 1, let only = entries.first {
            chosen = only
        } else {
            throw CPKError.usage(
                "index.json lists \(entries.count) manifests and none is tagged latest; name one as oci:DIR:TAG\(tagList(entries.compactMap(refName)))")
        }
        let descriptor = try OCIDescriptor(chosen, what: "the index.json entry")
        guard descriptor.mediaType == OCIArtifact.manifestMediaType else {
            throw CPKError.invalid(
                "the index.json entry is a \(descriptor.mediaType), not an image manifest (\(OCIArtifact.manifestMediaType))")
        }
        guard descriptor.size <= OCIArtifact.documentLimit else {
            throw CPKError.invalid("the manifest is \(descriptor.size) bytes; the limit is \(OCIArtifact.documentLimit)")
        }
        let manifestFile = try openVerifiedBlob(descriptor, in: location, what: "manifest")
        var bytes = [UInt8](repeating: 0, count: Int(descriptor.size))
        try bytes.withUnsafeMutableBytes { try manifestFile.read(into: $0, at: 0, what: "the manifest") }
        let manifest: JSONValue
        do { manifest = try JSONValue(parsing: bytes) } catch {
            throw CPKError.invalid("the manifest \(descriptor.digest) is not JSON (\(error))")
        }
        guard manifest["schemaVersion"] == .integer(2) else {
            throw CPKError.invalid("the manifest \(descriptor.digest) is not schemaVersion 2")
        }
        if let type = manifest["mediaType"], type != .string(OCIArtifact.manifestMediaType) {
            throw CPKError.invalid("the manifest \(descriptor.digest) has mediaType \(type.compactText), not \(OCIArtifact.manifestMediaType)")
        }
        guard manifest["artifactType"] == .string(OCIArtifact.artifactType) else {
            let found = manifest["artifactType"].map { $0.compactText } ?? "none"
            throw CPKError.invalid(
                "the manifest \(descriptor.digest) has artifactType \(found), not \(OCIArtifact.artifactType): it is not a .cpk package")
        }
        guard case .array(let layers)? = manifest["layers"], layers.count == 1, let only = layers.first else {
            throw CPKError.invalid("the manifest \(descriptor.digest) must have exactly one layer, the .cpk")
        }
        let layer = try OCIDescriptor(only, what: "the manifest's layer")
        guard layer.mediaType == OCIArtifact.layerMediaType else {
            throw CPKError.invalid("the layer has media type \(layer.mediaType), not \(OCIArtifact.layerMediaType)")
        }
        return Artifact(manifest: descriptor, layer: layer, tag: location.tag)
    }

    /// Opens a blob and checks its size and SHA-256 against `descriptor`, reading it once in
    /// pieces (memory stays bounded whatever its size).
    public static func openVerifiedBlob(_ descriptor: OCIDescriptor, in location: OCILocation, what: String) throws -> FileDescriptor {
        let path = location.blobPath(descriptor.digest)
        let file = try openRegularFile(
            path, missing: "the \(what) blob \(descriptor.digest) is missing from blobs/sha256",
            special: "the \(what) blob \(descriptor.digest) is not a regular file")
        let status = try file.status()
        guard status.size == descriptor.size else {
            throw CPKError.check(
                "the \(what) blob \(descriptor.digest) is \(status.size) bytes, not the \(descriptor.size) its descriptor gives; refusing it")
        }
        let hasher = try SHA256Hasher()
        try file.forEachPiece(at: 0, count: status.size, pieceSize: Chunks.size, what: "the \(what) blob") { hasher.update($0) }
        let actual = OCIDigest(bytes: try hasher.finalize())
        guard actual == descriptor.digest else {
            throw CPKError.check(
                "the \(what) blob does not match its digest \(descriptor.digest) (its content hashes to \(actual)); refusing it")
        }
        return file
    }

    /// index.json, parsed (bounded in size).
    static func readIndex(_ location: OCILocation) throws -> JSONValue {
        let bytes = try readDocument(location.indexPath, what: "index.json")
        do { return try JSONValue(parsing: bytes) } catch {
            throw CPKError.invalid("index.json is not JSON (\(error))")
        }
    }

    /// The `oci-layout` file marks the directory as a layout of a version this tool reads.
    static func checkLayoutFile(_ location: OCILocation) throws {
        guard access(location.layoutFilePath, F_OK) == 0 else {
            throw CPKError.invalid("not an OCI image layout: \(location.directory) has no oci-layout file")
        }
        let bytes = try readDocument(location.layoutFilePath, what: "oci-layout")
        guard let json = try? JSONValue(parsing: bytes), json["imageLayoutVersion"] == .string(OCIArtifact.layoutVersion) else {
            throw CPKError.invalid("oci-layout does not declare imageLayoutVersion \(OCIArtifact.layoutVersion)")
        }
    }

    /// A small document of the layout; like the blobs, it must be a regular file (a FIFO put
    /// in its place is refused, not waited on).
    private static func readDocument(_ path: String, what: String) throws -> [UInt8] {
        let file = try openRegularFile(
            path, missing: "the image layout has no \(what) (\(path))",
            special: "\(what) of the image layout is not a regular file (\(path))")
        let size = try file.status().size
        guard size <= OCIArtifact.documentLimit else {
            throw CPKError.invalid("\(what) is \(size) bytes; the limit is \(OCIArtifact.documentLimit)")
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        try bytes.withUnsafeMutableBytes { try file.read(into: $0, at: 0, what: what) }
        return bytes
    }

    /// Every file of a layout must be a regular file: one that is missing, a symlink or a FIFO
    /// is refused with the caller's message (an invalid layout), never followed or waited on.
    private static func openRegularFile(_ path: String, missing: String, special: String) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(regularFile: path)
        } catch FileDescriptor.NotRegularFile.missing {
            throw CPKError.invalid(missing)
        } catch is FileDescriptor.NotRegularFile {
            throw CPKError.invalid(special)
        }
    }

    private static func tagList(_ tags: [String]) -> String {
        tags.isEmpty ? "" : " (tags: \(tags.prefix(10).joined(separator: ", "))\(tags.count > 10 ? ", …" : ""))"
    }
}
