import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat

#if canImport(Glibc)
import Glibc
#endif

/// Writes a `.cpk` as an OCI artifact into an OCI image layout directory, in one pass.
///
/// The `.cpk` goes straight into a temporary file in blobs/sha256 while its SHA-256 is computed
/// from the same bytes, and is renamed to its digest when complete; then the config, the
/// manifest and index.json are written, index.json last and by an atomic rename. A failure at any
/// point leaves the layout as it was (an interrupted run may leave an unreferenced blob, which
/// no reader looks at), and the other tags of an existing layout are kept.
public enum OCILayoutWriter {
    /// What was written, for messages and tests.
    public struct Written: Sendable {
        public let manifestDigest: OCIDigest
        public let layerDigest: OCIDigest
        public let layerSize: UInt64
        public let tag: String
    }

    /// Lets `body` write one package, then tags it in the layout.
    /// - Parameters:
    ///   - created: the `org.opencontainers.image.created` value (RFC 3339).
    public static func write(
        to location: OCILocation, created: String, _ body: (PackageOutput) throws -> Void
    ) throws -> Written {
        let tag = location.tag ?? OCIArtifact.defaultTag
        do {
            try makeDirectory(location.directory)
            try makeDirectory(location.directory + "/blobs")
            try makeDirectory(location.blobDirectory)
            // An existing index is read first: a layout this tool cannot update must fail
            // before the package, maybe gigabytes, is written.
            let existing = try existingManifests(location)
            try checkOrWriteLayoutFile(location)

            let tally = try Tally()
            let blob = try TemporaryBlob(in: location.blobDirectory)
            let output = OCIPackageOutput(
                CPKOutput(file: blob.descriptor, tap: { tally.add($0) }))
            try body(output)
            guard let manifest = output.manifest, output.finished else {
                throw CPKError.invalid("no package was written")
            }
            let layerDigest = OCIDigest(bytes: try tally.hasher.finalize())
            try blob.commit(as: location.blobPath(layerDigest))

            try writeBlob(OCIArtifact.emptyBlob, in: location)
            let title = fileName(id: manifest.id, version: manifest.payload.version.dotted)
            let manifestJSON = JSONValue.object([
                ("schemaVersion", .integer(2)),
                ("mediaType", .string(OCIArtifact.manifestMediaType)),
                ("artifactType", .string(OCIArtifact.artifactType)),
                ("config", .object([
                    ("mediaType", .string(OCIArtifact.emptyMediaType)),
                    ("digest", .string(OCIArtifact.emptyDigest)),
                    ("size", .integer(OCIArtifact.emptyBlob.count)),
                ])),
                ("layers", .array([.object([
                    ("mediaType", .string(OCIArtifact.layerMediaType)),
                    ("digest", .string(layerDigest.description)),
                    ("size", .integer(tally.size)),
                    ("annotations", .object([(OCIArtifact.titleAnnotation, .string(title))])),
                ])])),
                ("annotations", .object([
                    (OCIArtifact.titleAnnotation, .string(title)),
                    (OCIArtifact.versionAnnotation, .string(manifest.payload.version.dotted)),
                    (OCIArtifact.createdAnnotation, .string(created)),
                    (OCIArtifact.idAnnotation, .string(manifest.id)),
                ])),
            ])
            let manifestBytes = Array(manifestJSON.compactText.utf8)
            let manifestDigest = try writeBlob(manifestBytes, in: location)

            let entry = JSONValue.object([
                ("mediaType", .string(OCIArtifact.manifestMediaType)),
                ("digest", .string(manifestDigest.description)),
                ("size", .integer(manifestBytes.count)),
                ("artifactType", .string(OCIArtifact.artifactType)),
                ("annotations", .object([(OCIArtifact.refNameAnnotation, .string(tag))])),
            ])
            // A tag names one manifest: the entry it named before is replaced, the others kept.
            let kept = existing.manifests.filter {
                guard case .string(let name)? = $0["annotations"]?[OCIArtifact.refNameAnnotation] else { return true }
                return name != tag
            }
            var members = existing.otherMembers.filter { !["schemaVersion", "mediaType", "manifests"].contains($0.0) }
            members.insert(contentsOf: [
                ("schemaVersion", .integer(2)),
                ("mediaType", .string(OCIArtifact.indexMediaType)),
                ("manifests", .array(kept + [entry])),
            ], at: 0)
            let index = try OutputFile(path: location.indexPath, binary: true)
            try index.descriptor.write(Array(JSONValue.object(members).compactText.utf8))
            try index.commit()
            return Written(manifestDigest: manifestDigest, layerDigest: layerDigest, layerSize: tally.size, tag: tag)
        } catch {
            throw error.located(in: location.description)
        }
    }

    /// `<id>-<version>.cpk` with every character a file name should not hold replaced by `_`
    /// (an id may contain `/` and `:`): what a puller saving the layer as a file should call it.
    static func fileName(id: String, version: String) -> String {
        let safe = String(String.UnicodeScalarView(id.unicodeScalars.map { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "._-".unicodeScalars.contains(scalar))
                ? scalar : "_"
        }))
        return "\(safe)-\(version).cpk"
    }

    private static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) == 0 { return }
        guard errno == EEXIST else { throw FileDescriptor.systemError("cannot create \(path)") }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw CPKError.io("\(path) exists and is not a directory")
        }
    }

    private struct ExistingIndex {
        var manifests: [JSONValue] = []
        var otherMembers: [(String, JSONValue)] = []
    }

    private static func existingManifests(_ location: OCILocation) throws -> ExistingIndex {
        guard access(location.indexPath, F_OK) == 0 else { return ExistingIndex() }
        let index = try OCILayoutReader.readIndex(location)
        guard case .object(let members) = index else { throw CPKError.invalid("index.json is not a JSON object") }
        var existing = ExistingIndex(otherMembers: members)
        if case .array(let manifests)? = index["manifests"] { existing.manifests = manifests }
        return existing
    }

    private static func checkOrWriteLayoutFile(_ location: OCILocation) throws {
        if access(location.layoutFilePath, F_OK) == 0 {
            try OCILayoutReader.checkLayoutFile(location)
            return
        }
        let file = try OutputFile(path: location.layoutFilePath, binary: true)
        try file.descriptor.write(Array(JSONValue.object([("imageLayoutVersion", .string(OCIArtifact.layoutVersion))]).compactText.utf8))
        try file.commit()
    }

    /// Writes a small blob under its digest (a blob already there has that content by its name).
    @discardableResult
    private static func writeBlob(_ bytes: [UInt8], in location: OCILocation) throws -> OCIDigest {
        let digest = OCIDigest(bytes: try SHA256Hasher.digest(bytes))
        let blob = try TemporaryBlob(in: location.blobDirectory)
        try blob.descriptor.write(bytes)
        try blob.commit(as: location.blobPath(digest))
        return digest
    }
}

/// The layer's running digest and size, fed by the `.cpk` writer's tap.
private final class Tally {
    let hasher: SHA256Hasher
    var size: UInt64 = 0
    init() throws { hasher = try SHA256Hasher() }
    func add(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bytes)
        size += UInt64(bytes.count)
    }
}

/// A `.cpk` output that also remembers the manifest, for the artifact's annotations.
private final class OCIPackageOutput: PackageOutput {
    private let inner: PackageOutput
    private(set) var manifest: Manifest?
    private(set) var finished = false

    init(_ inner: PackageOutput) { self.inner = inner }

    func begin(head: PackageHead, log: [LogEntry]) throws {
        try inner.begin(head: head, log: log)
        manifest = head.manifest
    }

    func writePayload(_ chunk: UnsafeRawBufferPointer) throws { try inner.writePayload(chunk) }

    func writePayload(passing bytes: PassedBytes) throws { try inner.writePayload(passing: bytes) }

    func finish(deferredStreams: [Int: [UInt8]]) throws {
        try inner.finish(deferredStreams: deferredStreams)
        finished = true
    }
}

/// A file being written in blobs/sha256 under a temporary name (the digest is known only at the
/// end); removed unless committed, so a failed run leaves no blob named by a wrong digest.
private final class TemporaryBlob {
    let descriptor: FileDescriptor
    private let path: String
    private var committed = false

    init(in directory: String) throws {
        let unique = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        path = "\(directory)/.cpk-upload-\(getpid())-\(unique).tmp"
        let fd = open(path, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode_t(0o644))
        guard fd >= 0 else { throw FileDescriptor.systemError("cannot create a blob in \(directory)") }
        descriptor = FileDescriptor(fd: fd, name: path, owned: true)
    }

    deinit {
        if !committed { unlink(path) }
    }

    /// Makes the blob durable, then visible under its digest.
    func commit(as destination: String) throws {
        guard fsync(descriptor.fd) == 0 else { throw FileDescriptor.systemError("cannot write \(path)") }
        guard rename(path, destination) == 0 else { throw FileDescriptor.systemError("cannot create \(destination)") }
        committed = true
    }
}
