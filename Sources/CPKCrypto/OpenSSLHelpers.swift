import COpenSSL
import CPKCore

/// One OpenSSL `EVP_PKEY`, freed when the last reference goes.
///
/// `@unchecked Sendable`: the key is never mutated after it is made, and OpenSSL 3 allows
/// concurrent read-only use of a key (each operation gets its own `EVP_PKEY_CTX`).
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }
}

/// A memory BIO, freed on release.
final class MemoryBIO {
    let pointer: OpaquePointer

    /// An empty BIO to write into; `secure` for secrets (OpenSSL wipes that memory when freed).
    init(secure: Bool = false) throws {
        guard let bio = BIO_new(secure ? BIO_s_secmem() : BIO_s_mem()) else { throw OpenSSLError.failure("cannot allocate a memory buffer") }
        pointer = bio
    }

    /// A read-only BIO over `bytes`, which must outlive it: the BIO keeps no copy.
    init(readingFrom bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count <= Int(Int32.max), let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else {
            throw OpenSSLError.failure("cannot allocate a memory buffer")
        }
        pointer = bio
    }

    deinit { BIO_free(pointer) }

    /// Everything written so far.
    func contents() throws -> [UInt8] {
        let pending = BIO_ctrl_pending(pointer)
        guard pending > 0, pending <= Int(Int32.max) else { return [] }
        var out = [UInt8](repeating: 0, count: pending)
        let read = out.withUnsafeMutableBytes { BIO_read(pointer, $0.baseAddress, Int32(pending)) }
        guard read == Int32(pending) else { throw OpenSSLError.failure("cannot read a memory buffer") }
        return out
    }
}

/// Runs an OpenSSL `i2d_*` encoder twice: once for the size, once into a buffer.
func derEncode(_ what: String, _ encoder: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) throws
    -> [UInt8]
{
    let size = encoder(nil)
    guard size > 0 else { throw OpenSSLError.failure("cannot encode \(what)") }
    var out = [UInt8](repeating: 0, count: Int(size))
    let written = out.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var cursor = buffer.baseAddress
        return encoder(&cursor)
    }
    guard written == size else { throw OpenSSLError.failure("cannot encode \(what)") }
    return out
}

/// Runs an OpenSSL `d2i_*` decoder and insists it used every byte: trailing data after a key
/// means the input is not what it claims to be.
func derDecode(_ bytes: [UInt8], _ decoder: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> OpaquePointer?)
    -> (OpaquePointer, consumedAll: Bool)?
{
    bytes.withUnsafeBufferPointer { buffer -> (OpaquePointer, consumedAll: Bool)? in
        guard let start = buffer.baseAddress else { return nil }
        var cursor: UnsafePointer<UInt8>? = start
        guard let object = decoder(&cursor, buffer.count) else {
            ERR_clear_error()  // a failed guess must not colour a later error message
            return nil
        }
        let consumed = cursor.map { $0 - start } ?? 0
        return (object, consumed == buffer.count)
    }
}

/// A PEM block: its label (`PUBLIC KEY`, `CERTIFICATE`, ...) and the DER bytes inside.
struct PEMBlock {
    let label: String
    let der: [UInt8]
    let isEncrypted: Bool

    /// The first PEM block in `bytes`, or nil when there is none.
    static func first(in bytes: [UInt8]) throws -> PEMBlock? {
        try bytes.withUnsafeBytes { raw -> PEMBlock? in
            let bio = try MemoryBIO(readingFrom: raw)
            var name: UnsafeMutablePointer<CChar>? = nil
            var header: UnsafeMutablePointer<CChar>? = nil
            var data: UnsafeMutablePointer<UInt8>? = nil
            var length = 0
            defer {
                CRYPTO_free(name, nil, 0)
                CRYPTO_free(header, nil, 0)
                CRYPTO_free(data, nil, 0)
            }
            guard PEM_read_bio(bio.pointer, &name, &header, &data, &length) == 1, let name else {
                ERR_clear_error()
                return nil
            }
            let der = data.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
            // A traditional encrypted key says so in a "Proc-Type: 4,ENCRYPTED" header.
            let headerText = header.map { String(cString: $0) } ?? ""
            let label = String(cString: name)
            return PEMBlock(
                label: label, der: der, isEncrypted: headerText.contains("ENCRYPTED") || label.hasPrefix("ENCRYPTED"))
        }
    }

    /// PEM text for DER bytes under `label`.
    static func encode(label: String, der: [UInt8]) throws -> String {
        let bio = try MemoryBIO()
        let written = der.withUnsafeBufferPointer { buffer in
            PEM_write_bio(bio.pointer, label, "", buffer.baseAddress, buffer.count)
        }
        guard written > 0 else { throw OpenSSLError.failure("cannot write PEM") }
        return String(decoding: try bio.contents(), as: UTF8.self)
    }
}

/// True when the input holds a PEM block. Tools often put comments ("Bag Attributes",
/// "Certificate:") before the block, so it need not start the text.
func looksLikePEM(_ bytes: [UInt8]) -> Bool {
    let marker = Array("-----BEGIN ".utf8)
    guard bytes.count >= marker.count else { return false }
    for start in 0...(bytes.count - marker.count) where bytes[start] == marker[0] {
        if bytes[start..<start + marker.count].elementsEqual(marker) { return true }
    }
    return false
}

/// The OpenSSL library the tools run with, e.g. "OpenSSL 3.0.17 1 Jul 2025".
public enum OpenSSLLibrary {
    public static var version: String { OpenSSL_version(Int32(OPENSSL_VERSION)).map { String(cString: $0) } ?? "OpenSSL (unknown)" }
}
