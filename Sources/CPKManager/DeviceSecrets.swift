#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CPKCrypto
import CPKKeys
import CPKTPM

/// The simulator's two device secrets, made on first need and kept in the state directory with
/// mode 0600: the device RSA key pair (whose public half wraps class keys for this device) and
/// the device-unique storage key (AES-256) under which everything installed is kept. Neither
/// ever leaves the simulator: there is no call that returns them.
final class DeviceSecrets {
    private let state: StateDirectory
    private let lock: StateLock
    private var cachedDeviceKey: DeviceKeyPair?
    private var cachedStorageKey: [UInt8]?

    private let token: TokenAccess

    static let deviceKeyBits = 2048

    init(state: StateDirectory, lock: StateLock, token: TokenAccess = TokenAccess()) {
        self.state = state
        self.lock = lock
        self.token = token
    }

    deinit {
        if cachedStorageKey != nil { wipe(&cachedStorageKey!) }
    }

    var deviceKey: DeviceKeyPair {
        get throws {
            if let cachedDeviceKey { return cachedDeviceKey }
            if let reference = try deviceKeyReference() {
                // The device key pair lives in a token or a TPM: the private key is never in a file.
                let key: DeviceKeyPair
                switch reference {
                case .pkcs11(let uri): key = .evp(try TokenKeys.rsaPrivateKey(uri, access: token))
                case .tpm(let uri): key = try .inTPM(TPMDeviceKey(uri), create: false)
                }
                cachedDeviceKey = key
                return key
            }
            var pem = try readOrCreate(state.deviceKeyPath, what: "the device key") {
                try RSAPrivateKey.generate(bits: Self.deviceKeyBits).pem()
            }
            defer { wipe(&pem) }
            let key: RSAPrivateKey
            do {
                key = try RSAPrivateKey(loading: pem)
            } catch let error as CPKError {
                throw CPKError.io("the device key \(state.deviceKeyPath) is damaged (\(error.message)); the state is unusable")
            }
            cachedDeviceKey = .evp(key)
            return .evp(key)
        }
    }

    var storageKey: [UInt8] {
        get throws {
            if let cachedStorageKey { return cachedStorageKey }
            let key = try readOrCreate(state.storageKeyPath, what: "the storage key") {
                try SecureRandom.bytes(AESGCM.keySize)
            }
            guard key.count == AESGCM.keySize else {
                throw CPKError.io("the storage key \(state.storageKeyPath) is damaged (\(key.count) bytes); the state is unusable")
            }
            cachedStorageKey = key
            return key
        }
    }

    /// Where the device key lives (a PKCS#11 URI or a TPM key), when the state's configuration names it.
    func deviceKeyReference() throws -> DeviceKeyReference? {
        guard var bytes = try Self.readIfPresent(state.deviceTokenPath, what: "the device key's token configuration") else {
            return nil
        }
        while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 { bytes.removeLast() }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CPKError.io("\(state.deviceTokenPath) is damaged (not UTF-8 text); the state is unusable")
        }
        do {
            return try DeviceKeyReference(parsing: text)
        } catch let error as CPKError {
            throw CPKError.io("\(state.deviceTokenPath) is damaged (\(error.message)); the state is unusable")
        }
    }

    /// Names, in the state's configuration, the token or TPM key the device uses as its key
    /// pair. Refused when the state already has a device key (in a file, or another key): the
    /// class keys installed so far are wrapped to that one. A TPM key is made in the TPM when
    /// its handle is empty.
    func useDeviceKey(_ uri: DeviceKeyReference) throws {
        try lock.withLock(exclusive: true) {
            if let existing = try deviceKeyReference() {
                guard existing == uri else {
                    throw CPKError.usage("this state's device key is already \(existing), not \(uri)")
                }
                return
            }
            guard try Self.readIfPresent(state.deviceKeyPath, what: "the device key") == nil else {
                throw CPKError.usage(
                    "this state already has a device key in \(state.deviceKeyPath): a token key can be named only in a new state")
            }
            // The key must be there and usable before the state starts to depend on it.
            switch uri {
            case .pkcs11(let token): _ = try TokenKeys.rsaPrivateKey(token, access: self.token)
            case .tpm(let key): cachedDeviceKey = try .inTPM(TPMDeviceKey(key), create: true)
            }
            let staging = try StagingFile(in: state, purpose: "the device key's token configuration")
            try staging.descriptor.write(Array((uri.recorded + "\n").utf8))
            try staging.commit(as: state.deviceTokenPath)
        }
    }

    /// Reads a secret file, or makes it under the exclusive lock if no process has yet. The
    /// file appears whole or not at all.
    private func readOrCreate(_ path: String, what: String, make: () throws -> [UInt8]) throws -> [UInt8] {
        if let bytes = try Self.readIfPresent(path, what: what) { return bytes }
        return try lock.withLock(exclusive: true) {
            if let bytes = try Self.readIfPresent(path, what: what) { return bytes }  // another process won
            var secret = try make()
            defer { wipe(&secret) }
            let staging = try StagingFile(in: state, purpose: what)
            try staging.descriptor.write(secret)
            try staging.commit(as: path)
            return secret
        }
    }

    static func readIfPresent(_ path: String, what: String) throws -> [UInt8]? {
        guard let file = try StateDirectory.openPrivateFile(path) else { return nil }
        let size = try file.status().size
        guard size <= UInt64(SmallInput.keyLimit) else { throw CPKError.io("\(what) \(path) is damaged (\(size) bytes)") }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        try bytes.withUnsafeMutableBytes { try file.read(into: $0, at: 0, what: what) }
        return bytes
    }
}

/// Small secrets sealed with AES-256-GCM under the storage key: `nonce ‖ ciphertext ‖ tag`.
enum SealedBox {
    static func seal(_ plaintext: [UInt8], key: [UInt8]) throws -> [UInt8] {
        let nonce = try SecureRandom.bytes(AESGCM.nonceSize)
        let cipher = try AESGCM(.encrypt, key: key, nonce: nonce)
        var box = nonce + [UInt8](repeating: 0, count: plaintext.count)
        try plaintext.withUnsafeBytes { input in
            try box.withUnsafeMutableBytes { output in
                try cipher.update(input, into: UnsafeMutableRawBufferPointer(rebasing: output[AESGCM.nonceSize...]))
            }
        }
        return box + (try cipher.finishEncryption())
    }

    /// The plaintext, or nil when the box was not sealed under `key` or was altered.
    static func open(_ box: [UInt8], key: [UInt8]) throws -> [UInt8]? {
        guard box.count >= AESGCM.nonceSize + AESGCM.tagSize else { return nil }
        let nonce = Array(box[..<AESGCM.nonceSize])
        let tag = Array(box[(box.count - AESGCM.tagSize)...])
        let cipher = try AESGCM(.decrypt, key: key, nonce: nonce)
        var plaintext = [UInt8](repeating: 0, count: box.count - AESGCM.nonceSize - AESGCM.tagSize)
        try box.withUnsafeBytes { input in
            try plaintext.withUnsafeMutableBytes { output in
                try cipher.update(UnsafeRawBufferPointer(rebasing: input[AESGCM.nonceSize..<(box.count - AESGCM.tagSize)]), into: output)
            }
        }
        guard try cipher.finishDecryption(tag: tag) else {
            wipe(&plaintext)
            return nil
        }
        return plaintext
    }
}

extension StateDirectory {
    /// `<state>/device-key.uri`: the PKCS#11 URI of a device key pair held in a token, or the
    /// `tpm:` reference of one held in a TPM (then there is no device-key.pem).
    var deviceTokenPath: String { path + "/device-key.uri" }
}
