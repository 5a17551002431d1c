#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKFormat

/// One deployment in progress inside the simulator: ciphertext in, AES-256-GCM decryption with
/// the class key, SHA-256 of the plaintext, re-encryption under the storage key with a fresh
/// nonce, into a staging file. Memory stays bounded whatever the payload's size: each chunk
/// is transformed in one reusable buffer and written out.
final class Deployment {
    enum Phase: Equatable {
        case begun, decrypting, verified, failed
    }

    let id: String
    let totalSize: UInt64
    private(set) var phase = Phase.begun
    private(set) var received: UInt64 = 0
    var description: ApplicationDescription?
    var allowDowngrade = false

    private let staging: StagingFile
    /// The staging file's payload goes out behind the cipher, past the page cache (`WriteBehind`).
    private let output: WriteBehind
    private var decryptor: AESGCM?
    private var tag: [UInt8] = []
    private let hasher: SHA256Hasher
    private let storageNonce: [UInt8]
    private let encryptor: AESGCM
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    private(set) var plaintextDigest: [UInt8]?
    private(set) var storageTag: [UInt8]?

    init(id: String, totalSize: UInt64, staging: StagingFile, storageKey: [UInt8]) throws {
        guard totalSize <= AESGCM.maximumMessageSize else {
            throw CPKError.invalid(
                "\"\(id)\" announces \(totalSize) bytes, beyond AES-GCM's single-message limit of \(AESGCM.maximumMessageSize)")
        }
        self.id = id
        self.totalSize = totalSize
        self.staging = staging
        hasher = try SHA256Hasher()
        storageNonce = try SecureRandom.bytes(AESGCM.nonceSize)
        encryptor = try AESGCM(.encrypt, key: storageKey, nonce: storageNonce)
        output = WriteBehind(staging.descriptor, directAfter: 0)  // synced before commit anyway
        try output.write(ApplicationFile.magic)
    }

    deinit {
        wipe(buffer)  // it held the last piece of plaintext
        buffer.deallocate()
    }

    func initializeDecryption(classKey: [UInt8], keyBits: Int, iv: [UInt8], tag: [UInt8]) throws {
        guard phase == .begun else { throw outOfOrder("initialize_decryption_aes_gcm") }
        guard keyBits == 256 else { throw CPKError.invalid("\"\(id)\": AES-GCM with \(keyBits)-bit keys is not supported; class keys are AES-256") }
        guard iv.count == AESGCM.nonceSize else { throw CPKError.invalid("\"\(id)\": the AES-GCM nonce is \(iv.count) bytes; it must be 12") }
        guard tag.count == AESGCM.tagSize else { throw CPKError.invalid("\"\(id)\": the AES-GCM tag is \(tag.count) bytes; it must be 16") }
        decryptor = try AESGCM(.decrypt, key: classKey, nonce: iv)
        self.tag = tag
        phase = .decrypting
    }

    func add(_ chunk: UnsafeRawBufferPointer) throws {
        guard phase == .decrypting, let decryptor else { throw outOfOrder("add_application_data") }
        guard UInt64(chunk.count) <= totalSize - received else {
            phase = .failed
            throw CPKError.invalid("\"\(id)\": more data than the \(totalSize) bytes announced")
        }
        var offset = 0
        while offset < chunk.count {  // chunks of any size, through a bounded buffer
            let piece = UnsafeRawBufferPointer(rebasing: chunk[offset..<min(chunk.count, offset + buffer.count)])
            let out = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<piece.count])
            try decryptor.update(piece, into: out)
            hasher.update(UnsafeRawBufferPointer(out))
            // Re-encrypted straight into the write-behind buffer: no further copy of the bytes.
            // (Hashing on a second thread here gained nothing measurable: the installer already
            // digests the package on the other core.)
            var done = 0
            while done < out.count {
                done += try output.fill(upTo: out.count - done) { space in
                    try encryptor.update(UnsafeRawBufferPointer(rebasing: out[done..<done + space.count]), into: space)
                }
            }
            offset += piece.count
        }
        received += UInt64(chunk.count)
    }

    /// Ends decryption, checks the tag, and returns the plaintext's SHA-256.
    func finishDecryption(call: String) throws -> [UInt8] {
        guard phase == .decrypting, let decryptor else { throw outOfOrder(call) }
        guard received == totalSize else {
            phase = .failed
            throw CPKError.invalid("\"\(id)\": \(received) bytes of data arrived, \(totalSize) were announced")
        }
        guard try decryptor.finishDecryption(tag: tag) else {
            phase = .failed
            throw CPKError(
                .checkFailed,
                "Tag check FAILED: AES-256-GCM does not authenticate the payload of \"\(id)\" (the ciphertext, nonce or tag "
                    + "was altered, or the class key is not the one it was sealed with)", reason: .tagMismatch, subject: id)
        }
        let digest = try hasher.finalize()
        plaintextDigest = digest
        storageTag = try encryptor.finishEncryption()
        return digest
    }

    func record(verified: Bool) {
        phase = verified ? .verified : .failed
    }

    /// Writes the sealed record after the payload and installs the file under the exclusive
    /// lock, checking the version against the rollback floor installed then.
    /// - Parameter installedRecord: the installed version (or what a removal kept of it), if any.
    func commit(
        storageKey: [UInt8], installedAt: String, destination: String, lock: StateLock,
        installedRecord: () throws -> InstalledApplication?, supersedes history: String? = nil
    ) throws -> InstalledApplication {
        guard phase == .verified, let plaintextDigest, let storageTag else {
            throw CPKError.check("\"\(id)\" was not verified (tag, digest and signature)")
        }
        guard let description else {
            throw CPKError.usage("\"\(id)\": the deployment was not described (name, version)")
        }
        let provenance = description.provenance
        let previous = try installedRecord()
        // An unauthenticated version keeps the floors it found; they must still be those at commit.
        let floor = provenance.setsRollbackFloor ? description.version : previous?.rollbackFloor ?? RollbackPolicy.noFloor
        // Only an authenticated manifest moves the authenticated floor; a development-mode
        // install carries it over untouched.
        let authenticatedFloor = provenance.manifestAuthenticated ? description.version : previous?.authenticatedFloor
        let application = InstalledApplication(
            id: id, description: description, size: totalSize, installedAt: installedAt, sha256: plaintextDigest,
            rollbackFloor: floor, authenticatedFloor: authenticatedFloor)
        let record = ApplicationFile.Record(application: application, nonce: storageNonce, tag: storageTag)
        try output.finish()
        try ApplicationFile.writeTrailer(record: record, payloadSize: totalSize, storageKey: storageKey, to: staging.descriptor)
        try staging.flush()  // seconds for a large payload: not while holding the lock
        try lock.withLock(exclusive: true) {
            let installed = try installedRecord()
            try RollbackPolicy.check(
                id: id, new: description.version, installed: installed?.bindingFloor(underTrustPolicy: provenance.underTrustPolicy),
                allowDowngrade: allowDowngrade)
            let keptFloorMoved = !provenance.setsRollbackFloor && installed?.rollbackFloor != previous?.rollbackFloor
            let keptAuthenticatedFloorMoved =
                !provenance.manifestAuthenticated && installed?.authenticatedFloor != previous?.authenticatedFloor
            if keptFloorMoved || keptAuthenticatedFloorMoved {
                throw CPKError.io("another version of \"\(id)\" was installed meanwhile; try again")
            }
            try staging.commit(as: destination)
            // The new record carries what a removal kept (the authenticated floor); the history goes.
            if let history { _ = unlink(history) }
        }
        return application
    }

    private func outOfOrder(_ call: String) -> CPKError {
        CPKError.usage("\(call) for \"\(id)\" out of order (the deployment is \(phase))")
    }
}

/// Anti-rollback, like OP-TEE's check of a trusted application's version: an application is
/// not replaced by an older version of itself unless explicitly allowed.
/// The floor is the last version whose provenance could set it (see `Provenance`), so an
/// unauthenticated manifest can neither raise it (and lock out the genuine next version) nor
/// lower it; under a trust policy only the floor an authenticated manifest set binds
/// (`InstalledApplication.bindingFloor`).
public enum RollbackPolicy {
    public static let noFloor = Version(major: 0, minor: 0, revision: 0, date: "")

    /// - Parameter installed: the installed version's rollback floor.
    static func check(id: String, new: Version, installed: Version?, allowDowngrade: Bool) throws {
        guard let installed, new < installed, !allowDowngrade else { return }
        throw CPKError(
            .checkFailed,
            "Version check FAILED: \"\(id)\" \(new.dotted) is older than the installed \(installed.dotted) (anti-rollback)",
            reason: .downgrade)
    }
}
