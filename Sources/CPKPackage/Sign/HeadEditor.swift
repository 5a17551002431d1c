import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKFormat

/// A package head being changed by inserting streams, remembering where each original stream
/// went so that the input's deferred streams can be renumbered to match.
struct HeadEditor {
    private(set) var head: PackageHead
    /// For each stream of `head`, its index in the input, or nil for an inserted one.
    private var origins: [Int?]

    init(_ head: PackageHead) {
        self.head = head
        origins = head.streams.indices.map { $0 }
    }

    /// Inserts a stream just before the manifest, the way sealing and signing keep the
    /// reference order, and returns its index.
    mutating func insertBeforeManifest(_ content: StreamContent) -> Int {
        let index = head.manifestIndex
        head.insertStream(content, at: index)
        origins.insert(nil, at: index)
        return index
    }

    mutating func edit(_ change: (inout PackageHead) throws -> Void) rethrows { try change(&head) }

    /// Removes streams (of an old signature), the highest index first so the others stay put.
    mutating func remove(_ indexes: [Int]) {
        for index in Set(indexes).sorted(by: >) {
            head.removeStream(at: index)
            origins.remove(at: index)
        }
    }

    /// The input's deferred streams under their new indexes.
    func renumbered(_ deferred: [Int: [UInt8]]) -> [Int: [UInt8]] {
        var result: [Int: [UInt8]] = [:]
        for (index, origin) in origins.enumerated() {
            if let origin, let bytes = deferred[origin] { result[index] = bytes }
        }
        return result
    }
}

/// The bytes of stream `index` once the payload has flowed: known in the head, or deferred.
func streamBytes(_ head: PackageHead, _ index: Int, deferred: [Int: [UInt8]]) -> [UInt8]? {
    switch head.streams[index] {
    case .bytes(let bytes): return bytes
    case .manifest: return head.manifestBytes
    case .deferred: return deferred[index]
    case .payload: return nil
    }
}

/// SHA-256 over the streams of `package.map`, concatenated in map order, computed while the
/// payload flows. When a stream before the payload in the map is only known after it (a
/// deferred stream), the payload is kept in an anonymous temporary file and hashed at the end,
/// so memory stays bounded either way.
final class PackageMapDigest {
    private let head: PackageHead
    private let map: [Int]
    private let payloadPosition: Int?
    private let hasher: SHA256Hasher
    private var spool: FileDescriptor?
    private var spooled: UInt64 = 0

    init(head: PackageHead) throws {
        self.head = head
        map = head.manifest.package.map
        payloadPosition = map.firstIndex(of: head.manifest.payload.data)
        hasher = try SHA256Hasher()
        let before = map[..<(payloadPosition ?? 0)]
        if before.allSatisfy({ streamBytes(head, $0, deferred: [:]) != nil }) {
            for index in before { hasher.update(streamBytes(head, index, deferred: [:]) ?? []) }
        } else {
            spool = try TemporaryFile.anonymous(purpose: "payload kept for the package digest")
        }
    }

    func addPayload(_ chunk: UnsafeRawBufferPointer) throws {
        guard payloadPosition != nil else { return }
        if let spool {
            try spool.write(chunk)
            spooled += UInt64(chunk.count)
        } else {
            hasher.update(chunk)
        }
    }

    func finish(deferred: [Int: [UInt8]]) throws -> [UInt8] {
        let after = map[(payloadPosition.map { $0 + 1 } ?? 0)...]
        if let spool, let payloadPosition {
            for index in map[..<payloadPosition] { hasher.update(try bytes(index, deferred)) }
            try spool.forEachPiece(at: 0, count: spooled, pieceSize: Chunks.size, what: "the kept payload") {
                hasher.update($0)
            }
        }
        for index in after { hasher.update(try bytes(index, deferred)) }
        return try hasher.finalize()
    }

    private func bytes(_ index: Int, _ deferred: [Int: [UInt8]]) throws -> [UInt8] {
        guard let bytes = streamBytes(head, index, deferred: deferred) else {
            throw CPKError.invalid("package.map names stream \(index), whose bytes are missing")
        }
        return bytes
    }
}
