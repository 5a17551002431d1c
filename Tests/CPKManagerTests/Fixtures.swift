import COpenSSL
import CPKCore
import CPKCrypto
import CPKFormat
import Glibc
import XCTest

@testable import CPKManager

/// What a build agent makes: an application sealed under a class key and signed.
struct SealedApplication {
    let plaintext: [UInt8]
    let classKey: [UInt8]
    let nonce: [UInt8]
    let ciphertext: [UInt8]
    let tag: [UInt8]
    let digest: [UInt8]
    let signature: [UInt8]
    let signerKeyDER: [UInt8]

    init(
        plaintext: [UInt8], classKey: [UInt8], nonce: [UInt8], ciphertext: [UInt8], tag: [UInt8], digest: [UInt8],
        signature: [UInt8], signerKeyDER: [UInt8]
    ) {
        (self.plaintext, self.classKey, self.nonce, self.ciphertext) = (plaintext, classKey, nonce, ciphertext)
        (self.tag, self.digest, self.signature, self.signerKeyDER) = (tag, digest, signature, signerKeyDER)
    }

    init(plaintext: [UInt8], classKey: [UInt8]? = nil, signer: RSAPrivateKey) throws {
        self.plaintext = plaintext
        self.classKey = try classKey ?? SecureRandom.bytes(32)
        nonce = try SecureRandom.bytes(12)
        let cipher = try AESGCM(.encrypt, key: self.classKey, nonce: nonce)
        var out = [UInt8](repeating: 0, count: plaintext.count)
        try plaintext.withUnsafeBytes { input in try out.withUnsafeMutableBytes { try cipher.update(input, into: $0) } }
        ciphertext = out
        tag = try cipher.finishEncryption()
        digest = try SHA256Hasher.digest(plaintext)
        signature = try signDigest(digest, with: signer)
        signerKeyDER = try signer.publicKey.subjectPublicKeyInfoDER
    }
}

/// RSA PKCS#1 v1.5 with SHA-256 over a digest, as `openssl pkeyutl -sign -pkeyopt digest:sha256` makes it.
func signDigest(_ digest: [UInt8], with key: RSAPrivateKey) throws -> [UInt8] {
    let pem = try key.pem()
    let pointer: OpaquePointer? = pem.withUnsafeBytes { raw in
        let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count))
        defer { BIO_free(bio) }
        return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
    }
    let evp = try XCTUnwrap(pointer)
    defer { EVP_PKEY_free(evp) }
    let context = try XCTUnwrap(EVP_PKEY_CTX_new_from_pkey(nil, evp, nil))
    defer { EVP_PKEY_CTX_free(context) }
    XCTAssertEqual(EVP_PKEY_sign_init(context), 1)
    XCTAssertEqual(EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING), 1)
    XCTAssertEqual(EVP_PKEY_CTX_set_signature_md(context, EVP_sha256()), 1)
    var size = 512
    var signature = [UInt8](repeating: 0, count: size)
    XCTAssertEqual(EVP_PKEY_sign(context, &signature, &size, digest, digest.count), 1)
    return Array(signature[..<size])
}

/// All the bytes under a directory, file by file.
func filesUnder(_ directory: String) throws -> [String: [UInt8]] {
    var found: [String: [UInt8]] = [:]
    for name in try StateDirectory.entries(in: directory) {
        let path = directory + "/" + name
        var info = stat()
        stat(path, &info)
        if info.st_mode & S_IFMT == S_IFDIR {
            for (sub, bytes) in try filesUnder(path) { found[name + "/" + sub] = bytes }
        } else {
            let file = try FileDescriptor.open(forReading: path)
            var bytes = [UInt8](repeating: 0, count: Int(try file.status().size))
            try bytes.withUnsafeMutableBytes { try file.read(into: $0, at: 0, what: name) }
            found[name] = bytes
        }
    }
    return found
}

extension Array where Element == UInt8 {
    /// True when `needle` occurs in these bytes.
    func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        return (0...(count - needle.count)).contains { self[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}

let someDescription = ApplicationDescription(
    name: "Demo", vendor: "Acme", target: Target(arch: "aarch64", os: "OP-TEE"),
    version: Version(major: 1, minor: 3, revision: 0, date: "2026-11-26T08:23:15Z"))

extension PackageManagerSimulator {
    /// Installs the class key of `id` the way a key store would send it: wrapped to the device.
    func installClassKey(_ key: [UInt8], for id: String) throws {
        let device = try PublicKey(loading: try exportDevicePublicKey())
        try installApplicationKey(applicationID: id, wrappedKey: try device.wrap(key, padding: .pkcs1v15))
    }

    /// The whole contract sequence for one application, data in pieces of `pieces` bytes.
    @discardableResult
    func deploy(
        _ app: SealedApplication, id: String, description: ApplicationDescription = someDescription,
        pieces: [Int] = [1 << 20], allowDowngrade: Bool = false, end: Bool = true
    ) throws -> VerificationResult {
        try beginApplicationDeployment(applicationID: id, totalSize: UInt64(app.ciphertext.count))
        try describeDeployment(applicationID: id, description, allowDowngrade: allowDowngrade)
        try initializeDecryptionAESGCM(applicationID: id, keyBits: 256, iv: app.nonce, tag: app.tag)
        var offset = 0
        var turn = 0
        while offset < app.ciphertext.count {
            let size = Swift.min(pieces[turn % pieces.count], app.ciphertext.count - offset)
            try app.ciphertext[offset..<offset + size].withUnsafeBytes { try addApplicationData(applicationID: id, chunk: $0) }
            offset += size
            turn += 1
        }
        let verdict = try verifyApplicationSHA256RSAPKCS1v15(
            applicationID: id, keyBits: 2048, digest: app.digest, signature: app.signature, publicKey: app.signerKeyDER)
        if end { try endApplicationDeployment(applicationID: id) }
        return verdict
    }
}
