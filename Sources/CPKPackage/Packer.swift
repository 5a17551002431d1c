import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat

/// What `cpk-pack` records about the application besides its bytes.
public struct PackageIdentity: Sendable {
    public var id: String
    public var name: String
    public var vendor: String
    public var target: Target
    public var version: Version

    public init(id: String, name: String, vendor: String, target: Target, version: Version) {
        self.id = id
        self.name = name
        self.vendor = vendor
        self.target = target
        self.version = version
    }
}

/// Turns a payload into a package: plaintext payload, its SHA-256, and the manifest.
public enum Packer {
    /// The streams of a freshly packed package: payload, digest, manifest. Sealing and signing
    /// insert theirs before the manifest, giving the reference order.
    public static func head(for identity: PackageIdentity, payloadSize: UInt64?) -> PackageHead {
        let manifest = Manifest(
            id: identity.id, name: identity.name, vendor: identity.vendor,
            payload: PayloadSection(
                data: 0, target: identity.target, version: identity.version, digest: .sha256(data: 1)),
            package: PackageSection(map: [0, 1, 2]))
        return PackageHead(
            manifest: manifest, manifestIndex: 2,
            streams: [.payload, .deferred(size: Digest.sha256Size), .manifest], payloadSize: payloadSize)
    }

    /// Streams `payload` into `output`, hashing it on the way; `progress` is told each chunk's size.
    public static func pack(
        payload: FileDescriptor, identity: PackageIdentity, log: [LogEntry], to output: PackageOutput,
        progress: ((Int) -> Void)? = nil
    ) throws {
        let status = try payload.status()
        let head = head(for: identity, payloadSize: status.isRegularFile ? status.size : nil)
        try output.begin(head: head, log: log)
        let hasher = try SHA256Hasher()
        // From a file into a pipe, each chunk is read (to hash it) and the same range of the
        // file is then spliced into the pipe: the kernel passes the page-cache pages on instead
        // of copying the buffer into the pipe (what a `vmsplice` of the buffer would save, without
        // its hazard: a buffer must never be reused while a reader may still hold its pages). A
        // file changed while it is packed then gives a package whose digest does not match its
        // payload, which every check downstream refuses; it was never a consistent package.
        var position = status.isRegularFile && output.movesPassedBytesInKernel ? payload.position : nil
        try Chunks.forEach(in: payload) { chunk in
            hasher.update(chunk)
            if let offset = position {
                try output.writePayload(passing: PassedBytes(
                    buffered: UnsafeRawBufferPointer(start: nil, count: 0), source: payload, offset: offset, count: chunk.count,
                    truncation: CPKError.invalid("\(payload.name) became shorter while it was packed")))
                position = offset + UInt64(chunk.count)
            } else {
                try output.writePayload(chunk)
            }
            progress?(chunk.count)
        }
        try output.finish(deferredStreams: [1: try hasher.finalize()])
    }
}
