import CPKCore
import CPKCrypto

#if canImport(Glibc)
import Glibc
#endif

/// A `.cpk` shipped as an OCI artifact (image-spec 1.1) in an OCI image layout directory, which
/// skopeo moves to and from any registry: the media types and annotation keys, normative in
/// docs/format.md ("OCI artifacts").
public enum OCIArtifact {
    /// The manifest's `artifactType`: what the artifact is, for registries and tools that list it.
    public static let artifactType = "application/vnd.cpk.package.v1"
    /// The one layer: the `.cpk` bytes exactly as a file would hold them.
    public static let layerMediaType = "application/vnd.cpk.package.v1+cpk"
    public static let manifestMediaType = "application/vnd.oci.image.manifest.v1+json"
    public static let indexMediaType = "application/vnd.oci.image.index.v1+json"
    /// The config of an artifact that has none (image-spec 1.1 "empty descriptor").
    public static let emptyMediaType = "application/vnd.oci.empty.v1+json"
    public static let emptyBlob: [UInt8] = Array("{}".utf8)
    public static let emptyDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

    public static let titleAnnotation = "org.opencontainers.image.title"
    public static let versionAnnotation = "org.opencontainers.image.version"
    public static let createdAnnotation = "org.opencontainers.image.created"
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"
    /// Our own key, under the reverse-DNS prefix `dev.cpk.` that this project reserves.
    public static let idAnnotation = "dev.cpk.id"

    public static let layoutVersion = "1.0.0"
    public static let defaultTag = "latest"
    /// How a package input names a layout: `oci:DIR[:TAG]`, as skopeo's oci: transport does.
    public static let scheme = "oci:"

    /// The largest index.json or manifest read into memory: both are small documents, and a
    /// hostile layout must not make a tool read a huge one.
    static let documentLimit: UInt64 = 4 << 20
}

/// `DIR[:TAG]`: an OCI image layout directory and, optionally, a tag in its index.json.
public struct OCILocation: Sendable, Equatable, CustomStringConvertible {
    public let directory: String
    public let tag: String?

    public init(directory: String, tag: String?) {
        self.directory = directory
        self.tag = tag
    }

    /// Parses `DIR[:TAG]`, splitting at the first colon as skopeo's oci: transport does, so one
    /// name means the same layout and tag to both.
    public init(parsing text: String, what: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let directory = parts.first, !directory.isEmpty else {
            throw CPKError.usage("\(what) must be DIR[:TAG] naming an OCI image layout directory, not \"\(text)\"")
        }
        var tag: String? = nil
        if parts.count == 2 {
            guard Self.isValidTag(parts[1]) else {
                throw CPKError.usage(
                    "\(what): \"\(parts[1])\" is not a tag (1 to 128 of letters, digits, _ . -, not starting with . or -)")
            }
            tag = parts[1]
        }
        self.init(directory: directory, tag: tag)
    }

    /// The tag grammar of the distribution spec, which registries enforce: a tag written here
    /// can be pushed as it is.
    public static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, bytes.count <= 128 else { return false }
        func allowed(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
        }
        return allowed(first) && bytes.dropFirst().allSatisfy { allowed($0) || $0 == 0x2E || $0 == 0x2D }
    }

    public var description: String { "oci:\(directory)" + (tag.map { ":\($0)" } ?? "") }

    var indexPath: String { directory + "/index.json" }
    var layoutFilePath: String { directory + "/oci-layout" }
    var blobDirectory: String { directory + "/blobs/sha256" }
    func blobPath(_ digest: OCIDigest) -> String { blobDirectory + "/" + digest.hex }
}

/// A `sha256:` digest of 64 lowercase hex digits: the only algorithm accepted, and the strict
/// form keeps a hostile descriptor from naming a path outside blobs/sha256.
public struct OCIDigest: Sendable, Equatable, CustomStringConvertible {
    public let hex: String

    public init(bytes: [UInt8]) { hex = CPKPackage.hex(bytes) }

    public init(parsing text: String) throws {
        let prefix = "sha256:"
        guard text.hasPrefix(prefix) else {
            throw CPKError.invalid("digest \"\(text)\" is not a sha256: digest, the only algorithm this tool reads")
        }
        let digits = text.dropFirst(prefix.count)
        guard digits.utf8.count == 64, digits.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { throw CPKError.invalid("digest \"\(text)\" is not sha256: and 64 lowercase hex digits") }
        hex = String(digits)
    }

    public var description: String { "sha256:" + hex }
}

/// A content descriptor (mediaType, digest, size) as read from index.json or a manifest.
public struct OCIDescriptor: Sendable, Equatable {
    public let mediaType: String
    public let digest: OCIDigest
    public let size: UInt64
    public let artifactType: String?
    public let annotations: [String: String]

    init(_ json: JSONValue, what: String) throws {
        guard case .object = json, case .string(let mediaType)? = json["mediaType"],
              case .string(let digest)? = json["digest"], case .number(let sizeText)? = json["size"]
        else { throw CPKError.invalid("\(what) is not a descriptor with mediaType, digest and size") }
        guard let size = UInt64(sizeText) else {
            throw CPKError.invalid("\(what) has size \(sizeText), not a byte count")
        }
        self.mediaType = mediaType
        self.digest = try OCIDigest(parsing: digest)
        self.size = size
        if case .string(let type)? = json["artifactType"] { artifactType = type } else { artifactType = nil }
        var annotations: [String: String] = [:]
        if case .object(let members)? = json["annotations"] {
            for case (let key, .string(let value)) in members { annotations[key] = value }
        }
        self.annotations = annotations
    }
}
