import CPKCore

// TPM 2.0 structures as the TPM marshals them (TPM 2.0 Library, Part 2: Structures): big-endian
// integers, sized buffers (TPM2B_*) as a 16-bit length and the bytes, unions selected by an
// algorithm or structure tag read just before. Everything here reads bytes a device sent, so
// every length is checked against what remains and against the structure's own maximum.

extension CPKError.Reason {
    /// The bytes are not the TPM structure expected: truncated, trailing bytes, a size over the
    /// structure's maximum, an unknown tag.
    public static let tpmStructure = CPKError.Reason(rawValue: "tpm-structure")
    /// A well-formed structure that names an algorithm, curve or attestation type this code does
    /// not accept (e.g. SHA-1, an ECDAA signature, a keyed-hash object).
    public static let tpmAlgorithm = CPKError.Reason(rawValue: "tpm-algorithm")
    /// An attestation that does not check: a bad signature, a signer that is not a restricted
    /// signing key, a signature scheme other than the signer's.
    public static let tpmAttestation = CPKError.Reason(rawValue: "tpm-attestation")
}

/// The TPM_ALG_ID values this code meets (Part 2, table 9).
public enum TPMAlgorithmID {
    public static let rsa: UInt16 = 0x0001
    public static let sha1: UInt16 = 0x0004
    public static let hmac: UInt16 = 0x0005
    public static let aes: UInt16 = 0x0006
    public static let keyedHash: UInt16 = 0x0008
    public static let xor: UInt16 = 0x000A
    public static let sha256: UInt16 = 0x000B
    public static let sha384: UInt16 = 0x000C
    public static let sha512: UInt16 = 0x000D
    public static let null: UInt16 = 0x0010
    public static let rsassa: UInt16 = 0x0014
    public static let rsaes: UInt16 = 0x0015
    public static let rsapss: UInt16 = 0x0016
    public static let oaep: UInt16 = 0x0017
    public static let ecdsa: UInt16 = 0x0018
    public static let ecdh: UInt16 = 0x0019
    public static let ecdaa: UInt16 = 0x001A
    public static let sm2: UInt16 = 0x001B
    public static let ecschnorr: UInt16 = 0x001C
    public static let ecmqv: UInt16 = 0x001D
    public static let kdf1sp80056a: UInt16 = 0x0020
    public static let kdf2: UInt16 = 0x0021
    public static let kdf1sp800108: UInt16 = 0x0022
    public static let ecc: UInt16 = 0x0023
    public static let symCipher: UInt16 = 0x0025
    public static let camellia: UInt16 = 0x0026
    public static let sm4: UInt16 = 0x0013
    public static let cfb: UInt16 = 0x0043

    /// A name for messages: the TPM's own spelling where this code knows it.
    static func name(_ id: UInt16) -> String {
        let names: [UInt16: String] = [
            rsa: "RSA", sha1: "SHA1", hmac: "HMAC", aes: "AES", keyedHash: "KEYEDHASH", xor: "XOR", sha256: "SHA256",
            sha384: "SHA384", sha512: "SHA512", null: "NULL", rsassa: "RSASSA", rsaes: "RSAES", rsapss: "RSAPSS",
            oaep: "OAEP", ecdsa: "ECDSA", ecdh: "ECDH", ecdaa: "ECDAA", sm2: "SM2", ecschnorr: "ECSCHNORR", ecmqv: "ECMQV",
            ecc: "ECC", symCipher: "SYMCIPHER", camellia: "CAMELLIA", sm4: "SM4", cfb: "CFB",
        ]
        return names[id] ?? "0x" + String(id, radix: 16, uppercase: false)
    }
}

/// The hash algorithms accepted for names, digests and signatures. SHA-1 is refused: a
/// collision in a Name or an attestation digest is a forged identity.
public enum TPMHash: UInt16, Sendable, Equatable, CaseIterable {
    case sha256 = 0x000B
    case sha384 = 0x000C
    case sha512 = 0x000D

    public var digestSize: Int {
        switch self {
        case .sha256: return 32
        case .sha384: return 48
        case .sha512: return 64
        }
    }

    public var name: String { TPMAlgorithmID.name(rawValue) }

    /// The hash an algorithm ID names, or a typed refusal saying which ID and where.
    static func named(_ id: UInt16, in what: String) throws -> TPMHash {
        guard let hash = TPMHash(rawValue: id) else {
            throw CPKError(.invalidInput, "\(what) uses the hash \(TPMAlgorithmID.name(id)); SHA256, SHA384 or SHA512 is needed",
                           reason: .tpmAlgorithm)
        }
        return hash
    }
}

/// A cursor over one marshalled structure: every read is bounded by what remains, and the whole
/// input must be consumed (`finish`), so that two different byte strings never read as the
/// same structure.
struct TPMReader {
    private let bytes: [UInt8]
    private(set) var offset = 0
    /// What is being read, for messages ("the attestation").
    let what: String

    /// The largest input any structure here may come in: well above the largest real one
    /// (a TPM2B_PUBLIC of an RSA-4096 key is under 700 bytes).
    static let inputLimit = 4096

    init(_ bytes: [UInt8], what: String) throws {
        guard bytes.count <= Self.inputLimit else {
            throw Self.bad("\(what) is \(bytes.count) bytes; no TPM structure read here is over \(Self.inputLimit)")
        }
        self.bytes = bytes
        self.what = what
    }

    static func bad(_ message: String) -> CPKError { CPKError(.invalidInput, message, reason: .tpmStructure) }

    func bad(_ message: String) -> CPKError { Self.bad("\(what): \(message)") }

    var remaining: Int { bytes.count - offset }

    mutating func take(_ count: Int, _ field: String) throws -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw bad("\(field) needs \(count) bytes at offset \(offset), \(remaining) remain")
        }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func u8(_ field: String) throws -> UInt8 { try take(1, field)[0] }

    mutating func u16(_ field: String) throws -> UInt16 {
        let b = try take(2, field)
        return UInt16(b[0]) << 8 | UInt16(b[1])
    }

    mutating func u32(_ field: String) throws -> UInt32 {
        try take(4, field).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func u64(_ field: String) throws -> UInt64 {
        try take(8, field).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A TPM2B: a 16-bit size then that many bytes, the size at most `maximum` (the structure's
    /// own bound in Part 2, which a TPM never exceeds).
    mutating func sized(_ field: String, maximum: Int) throws -> [UInt8] {
        let size = Int(try u16("the size of \(field)"))
        guard size <= maximum else { throw bad("\(field) is \(size) bytes; at most \(maximum)") }
        return try take(size, field)
    }

    /// The bytes read from `start` to here.
    func consumed(from start: Int) -> [UInt8] { Array(bytes[start..<offset]) }

    /// Refuses trailing bytes.
    func finish() throws {
        guard remaining == 0 else { throw bad("\(remaining) bytes follow the structure") }
    }
}

/// The largest digest (SHA-512): bounds TPM2B_DIGEST, TPM2B_DATA and authPolicy.
let maximumDigest = 64
/// A Name: an algorithm ID and a digest, or a 4-byte handle.
let maximumName = 2 + maximumDigest
