import CPKCore

/// What a stream of a package under construction holds, before the payload has flowed.
public enum StreamContent: Sendable, Equatable {
    /// Bytes known now: a nonce, a certificate, a stream read from a finished package.
    case bytes([UInt8])
    /// The payload, which follows as a sequence of chunks.
    case payload
    /// The manifest, serialized when the package is finished.
    case manifest
    /// Bytes of a known size that exist only once the payload has been read (digest, tag,
    /// signature); they arrive after the payload.
    case deferred(size: Int)
}

/// Everything known about a package before its payload: the manifest and every stream but the
/// payload's bytes. Envelopes carry it first, and a `.cpk` can be written from it in one pass.
public struct PackageHead: Sendable, Equatable {
    public var manifest: Manifest
    public var manifestIndex: Int
    public var streams: [StreamContent]
    /// The payload's size, when known before it flows (not for a payload read from a pipe).
    public var payloadSize: UInt64?
    /// The manifest exactly as a `.cpk` stored it. Its bytes are kept while the manifest is
    /// unchanged, so that listing, extracting and re-writing show what a package signature
    /// covers, even when another writer formatted the JSON differently.
    public var storedManifest: StoredManifest?
    /// Signature streams that hold a placeholder while an offline signature is awaited
    /// (`cpk-sign prepare`); `cpk-sign stitch` fills them. A `.cpk` is never written with one.
    public var pendingSignatures: [Int] = []

    public struct StoredManifest: Sendable, Equatable {
        public var bytes: [UInt8]
        public var manifest: Manifest

        public init(bytes: [UInt8], manifest: Manifest) {
            self.bytes = bytes
            self.manifest = manifest
        }
    }

    public init(
        manifest: Manifest, manifestIndex: Int, streams: [StreamContent], payloadSize: UInt64?,
        storedManifest: StoredManifest? = nil
    ) {
        self.manifest = manifest
        self.manifestIndex = manifestIndex
        self.streams = streams
        self.payloadSize = payloadSize
        self.storedManifest = storedManifest
    }

    /// The bytes of the manifest stream: as stored while unchanged, else compact JSON.
    public var manifestBytes: [UInt8] {
        if let storedManifest, storedManifest.manifest == manifest { return storedManifest.bytes }
        return manifest.encoded
    }

    /// Each stream's size, nil for the payload when its size is not yet known.
    public var streamSizes: [UInt64?] {
        streams.map { content in
            switch content {
            case .bytes(let bytes): return UInt64(bytes.count)
            case .payload: return payloadSize
            case .manifest: return UInt64(manifestBytes.count)
            case .deferred(let size): return UInt64(size)
            }
        }
    }

    /// Indexes of the streams whose bytes come after the payload.
    public var deferredStreams: [Int] {
        streams.indices.filter { if case .deferred = streams[$0] { return true } else { return false } }
    }

    /// Checks that the streams and the manifest agree: the payload and manifest where the
    /// manifest says, sizes the schemes fix, and every index in range.
    public func validate() throws {
        guard streams.count >= 2, streams.count <= Int(UInt16.max) else {
            throw CPKError.invalid("a package needs 2 to 65535 streams, not \(streams.count)")
        }
        for (index, content) in streams.enumerated() {
            if content == .payload && index != manifest.payload.data {
                throw CPKError.invalid("stream \(index) is marked as payload, but the manifest puts the payload at \(manifest.payload.data)")
            }
            if content == .manifest && index != manifestIndex {
                throw CPKError.invalid("stream \(index) is marked as manifest, but the manifest is stream \(manifestIndex)")
            }
        }
        guard manifestIndex < streams.count, streams[manifestIndex] == .manifest else {
            throw CPKError.invalid("manifest stream \(manifestIndex) is missing")
        }
        guard manifest.payload.data < streams.count, streams[manifest.payload.data] == .payload else {
            throw CPKError.invalid("payload stream \(manifest.payload.data) is missing")
        }
        try manifest.checkConsistency(streamSizes: streamSizes, manifestIndex: manifestIndex)
        let signatureStreams = [manifest.payload.signature.stream, manifest.package.signature.stream]
        for index in pendingSignatures where !signatureStreams.contains(index) {
            throw CPKError.invalid("stream \(index) is marked as a pending signature, but it is not a signature stream")
        }
    }

    /// Removes the stream at `index` (re-signing drops an old signature, its digest and its
    /// certificate), renumbering every reference to the streams after it. The manifest must no
    /// longer name it, except in `package.map`, which loses it.
    public mutating func removeStream(at index: Int) {
        manifest.package.map.removeAll { $0 == index }
        pendingSignatures.removeAll { $0 == index }
        manifest.renumberStreams { $0 > index ? $0 - 1 : $0 }
        pendingSignatures = pendingSignatures.map { $0 > index ? $0 - 1 : $0 }
        if manifestIndex > index { manifestIndex -= 1 }
        streams.remove(at: index)
    }

    /// Inserts a stream at `index`, renumbering every reference to the streams after it. When
    /// the package map covered every stream, it covers the new one too.
    public mutating func insertStream(_ content: StreamContent, at index: Int) {
        let mapCoveredAll = Set(manifest.package.map) == Set(streams.indices)
        manifest.renumberStreams { $0 >= index ? $0 + 1 : $0 }
        pendingSignatures = pendingSignatures.map { $0 >= index ? $0 + 1 : $0 }
        if manifestIndex >= index { manifestIndex += 1 }
        streams.insert(content, at: index)
        if mapCoveredAll { manifest.package.map = Array(streams.indices) }
    }
}
