import CPKCore

/// TPMA_OBJECT (Part 2, §8.3): what the TPM promises about an object.
public struct TPMObjectAttributes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The object cannot be duplicated: its private part never leaves this TPM.
    public static let fixedTPM = TPMObjectAttributes(rawValue: 1 << 1)
    public static let stClear = TPMObjectAttributes(rawValue: 1 << 2)
    /// The object cannot be moved to another parent.
    public static let fixedParent = TPMObjectAttributes(rawValue: 1 << 4)
    /// The TPM made the private part itself (it was never imported).
    public static let sensitiveDataOrigin = TPMObjectAttributes(rawValue: 1 << 5)
    public static let userWithAuth = TPMObjectAttributes(rawValue: 1 << 6)
    public static let adminWithPolicy = TPMObjectAttributes(rawValue: 1 << 7)
    public static let noDA = TPMObjectAttributes(rawValue: 1 << 10)
    public static let encryptedDuplication = TPMObjectAttributes(rawValue: 1 << 11)
    /// A restricted signing key signs only digests the TPM made (no forged TPMS_ATTEST).
    public static let restricted = TPMObjectAttributes(rawValue: 1 << 16)
    public static let decrypt = TPMObjectAttributes(rawValue: 1 << 17)
    public static let sign = TPMObjectAttributes(rawValue: 1 << 18)

    /// What a hardware-bound key needs: made in this TPM, never to leave it.
    public static let hardwareBound: TPMObjectAttributes = [.fixedTPM, .fixedParent, .sensitiveDataOrigin]

    /// The bits Part 2 leaves reserved: a TPM never sets them.
    static let reserved: UInt32 = 0x0000_0001 | 0x0000_0008 | 0x0000_0300 | 0x0000_F000 | 0xFFF8_0000
}

/// The public key inside a TPMT_PUBLIC.
public enum TPMPublicKey: Sendable, Equatable {
    /// RSA: the modulus (big-endian, as long as the key) and the public exponent.
    case rsa(modulus: [UInt8], exponent: UInt32, bits: Int)
    /// ECC on a NIST curve: the point's coordinates, each as long as the curve's field.
    case ecc(curve: TPMCurve, x: [UInt8], y: [UInt8])
}

/// The elliptic curves accepted (TPM_ECC_CURVE, Part 2 table 10).
public enum TPMCurve: UInt16, Sendable, Equatable {
    case p256 = 0x0003
    case p384 = 0x0004
    case p521 = 0x0005

    /// The size of a coordinate in bytes.
    public var coordinateSize: Int {
        switch self {
        case .p256: return 32
        case .p384: return 48
        case .p521: return 66
        }
    }

    /// The curve's DER object identifier (content octets), for a SubjectPublicKeyInfo.
    var oid: [UInt8] {
        switch self {
        case .p256: return [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
        case .p384: return [0x2B, 0x81, 0x04, 0x00, 0x22]
        case .p521: return [0x2B, 0x81, 0x04, 0x00, 0x23]
        }
    }
}

/// A signing scheme a key declares (or a signature carries): the algorithm and its hash.
public struct TPMSigningScheme: Sendable, Equatable {
    /// TPMAlgorithmID.rsassa, .rsapss or .ecdsa.
    public let algorithm: UInt16
    public let hash: TPMHash

    public init(algorithm: UInt16, hash: TPMHash) {
        self.algorithm = algorithm
        self.hash = hash
    }
}

/// A TPMT_PUBLIC (Part 2, §12.2.4): an RSA or ECC object's public area, read strictly, with its
/// Name.
public struct TPMPublic: Sendable, Equatable {
    /// The marshalled bytes exactly as read: the Name is the hash of these.
    public let encoded: [UInt8]
    public let nameAlgorithm: TPMHash
    public let attributes: TPMObjectAttributes
    public let authPolicy: [UInt8]
    public let key: TPMPublicKey
    /// The symmetric algorithm of a storage key (TPMAlgorithmID.null for other keys).
    public let symmetricAlgorithm: UInt16
    /// The symmetric key size in bits and the mode (0 and TPMAlgorithmID.null when no symmetric):
    /// a credential made to a storage key (MakeCredential) uses exactly this cipher.
    public let symmetricKeyBits: UInt16
    public let symmetricMode: UInt16
    /// The key's own scheme, when it has one (nil: TPM_ALG_NULL, any scheme the caller names).
    /// A decryption scheme (RSAES, OAEP, ECDH...) is kept as its algorithm in `schemeAlgorithm`.
    public let signingScheme: TPMSigningScheme?
    /// The scheme's algorithm ID as read (TPMAlgorithmID.null when none).
    public let schemeAlgorithm: UInt16

    /// The RSA modulus sizes accepted: below 2048 is weak, above 4096 no TPM makes.
    public static let rsaSizes: Set<Int> = [2048, 3072, 4096]

    /// Reads a TPMT_PUBLIC that is the whole of `bytes`.
    public init(parsing bytes: [UInt8]) throws {
        var reader = try TPMReader(bytes, what: "the TPM public area")
        try self.init(reading: &reader)
        try reader.finish()
    }

    /// Reads a TPM2B_PUBLIC (a 16-bit size, then a TPMT_PUBLIC of exactly that size), the form
    /// tpm2_create's and tpm2_readpublic's outputs and tpm2-pkcs11's store keep.
    public init(parsingSized bytes: [UInt8]) throws {
        var outer = try TPMReader(bytes, what: "the TPM2B_PUBLIC")
        let inner = try outer.sized("the public area", maximum: TPMReader.inputLimit)
        try outer.finish()
        try self.init(parsing: inner)
    }

    init(reading reader: inout TPMReader) throws {
        let start = reader.offset
        let type = try reader.u16("the object type")
        guard type == TPMAlgorithmID.rsa || type == TPMAlgorithmID.ecc else {
            throw CPKError(
                .invalidInput, "\(reader.what): a \(TPMAlgorithmID.name(type)) object; only RSA and ECC keys are read",
                reason: type == TPMAlgorithmID.keyedHash || type == TPMAlgorithmID.symCipher ? .tpmAlgorithm : .tpmStructure)
        }
        nameAlgorithm = try TPMHash.named(try reader.u16("the name algorithm"), in: "\(reader.what)'s Name")
        let rawAttributes = try reader.u32("the object attributes")
        guard rawAttributes & TPMObjectAttributes.reserved == 0 else {
            throw reader.bad("reserved object attribute bits are set (0x\(String(rawAttributes, radix: 16)))")
        }
        attributes = TPMObjectAttributes(rawValue: rawAttributes)
        authPolicy = try reader.sized("the auth policy", maximum: maximumDigest)
        guard authPolicy.isEmpty || authPolicy.count == nameAlgorithm.digestSize else {
            throw reader.bad("the auth policy is \(authPolicy.count) bytes; a \(nameAlgorithm.name) digest is \(nameAlgorithm.digestSize)")
        }
        (symmetricAlgorithm, symmetricKeyBits, symmetricMode) = try Self.readSymmetric(&reader)
        if type == TPMAlgorithmID.rsa {
            (schemeAlgorithm, signingScheme) = try Self.readScheme(&reader, curve: false)
            let bits = Int(try reader.u16("the RSA key size"))
            guard Self.rsaSizes.contains(bits) else {
                throw CPKError(.invalidInput, "\(reader.what): a \(bits)-bit RSA key; 2048, 3072 or 4096 bits are accepted", reason: .tpmAlgorithm)
            }
            let exponent = try reader.u32("the RSA exponent")
            let modulus = try reader.sized("the RSA modulus", maximum: 512)
            guard modulus.count == bits / 8, let first = modulus.first, first & 0x80 != 0 else {
                throw reader.bad("the RSA modulus is not a \(bits)-bit number (\(modulus.count) bytes)")
            }
            // 0 stands for the default, 65537 (Part 2, §12.2.3.5); an even or tiny exponent is no RSA key.
            let effective = exponent == 0 ? 65537 : exponent
            guard effective >= 3, effective & 1 == 1 else { throw reader.bad("the RSA exponent \(exponent) is not usable") }
            key = .rsa(modulus: modulus, exponent: effective, bits: bits)
        } else {
            (schemeAlgorithm, signingScheme) = try Self.readScheme(&reader, curve: true)
            let curveID = try reader.u16("the curve")
            guard let curve = TPMCurve(rawValue: curveID) else {
                throw CPKError(.invalidInput, "\(reader.what): the curve 0x\(String(curveID, radix: 16)); P-256, P-384 or P-521 is accepted",
                               reason: .tpmAlgorithm)
            }
            let kdf = try reader.u16("the KDF scheme")
            if kdf != TPMAlgorithmID.null {
                guard [TPMAlgorithmID.kdf1sp80056a, TPMAlgorithmID.kdf2, TPMAlgorithmID.kdf1sp800108].contains(kdf) else {
                    throw reader.bad("unknown KDF scheme \(TPMAlgorithmID.name(kdf))")
                }
                _ = try reader.u16("the KDF hash")
            }
            let x = try reader.sized("the point's x", maximum: 66)
            let y = try reader.sized("the point's y", maximum: 66)
            guard x.count == curve.coordinateSize, y.count == curve.coordinateSize else {
                throw reader.bad("the point's coordinates are \(x.count) and \(y.count) bytes; the curve's are \(curve.coordinateSize)")
            }
            key = .ecc(curve: curve, x: x, y: y)
        }
        encoded = reader.consumed(from: start)
    }

    /// TPMT_SYM_DEF_OBJECT: NULL, or an algorithm with its key size and mode.
    private static func readSymmetric(_ reader: inout TPMReader) throws -> (UInt16, UInt16, UInt16) {
        let algorithm = try reader.u16("the symmetric algorithm")
        switch algorithm {
        case TPMAlgorithmID.null:
            return (algorithm, 0, TPMAlgorithmID.null)
        case TPMAlgorithmID.aes, TPMAlgorithmID.sm4, TPMAlgorithmID.camellia:
            let bits = try reader.u16("the symmetric key size")
            let mode = try reader.u16("the symmetric mode")
            return (algorithm, bits, mode)
        default:
            throw reader.bad("unknown symmetric algorithm \(TPMAlgorithmID.name(algorithm))")
        }
    }

    /// TPMT_RSA_SCHEME or TPMT_ECC_SCHEME: NULL, RSAES (no details), or a scheme with a hash
    /// (ECDAA also with a count). The signing schemes this code verifies are returned as such.
    private static func readScheme(_ reader: inout TPMReader, curve: Bool) throws -> (UInt16, TPMSigningScheme?) {
        let algorithm = try reader.u16("the key's scheme")
        let rsaSchemes = [TPMAlgorithmID.rsassa, TPMAlgorithmID.rsapss, TPMAlgorithmID.oaep]
        let eccSchemes = [TPMAlgorithmID.ecdsa, TPMAlgorithmID.ecdh, TPMAlgorithmID.ecdaa, TPMAlgorithmID.sm2,
                          TPMAlgorithmID.ecschnorr, TPMAlgorithmID.ecmqv]
        if algorithm == TPMAlgorithmID.null { return (algorithm, nil) }
        if !curve && algorithm == TPMAlgorithmID.rsaes { return (algorithm, nil) }
        guard (curve ? eccSchemes : rsaSchemes).contains(algorithm) else {
            throw reader.bad("unknown \(curve ? "ECC" : "RSA") scheme \(TPMAlgorithmID.name(algorithm))")
        }
        let hashID = try reader.u16("the scheme's hash")
        if algorithm == TPMAlgorithmID.ecdaa { _ = try reader.u16("the ECDAA count") }
        guard [TPMAlgorithmID.rsassa, TPMAlgorithmID.rsapss, TPMAlgorithmID.ecdsa].contains(algorithm) else {
            return (algorithm, nil)
        }
        // A signing key bound to SHA-1 could only make signatures this code refuses: said now.
        guard let hash = TPMHash(rawValue: hashID) else {
            throw CPKError(.invalidInput, "\(reader.what): the key signs with \(TPMAlgorithmID.name(hashID)); SHA256, SHA384 or SHA512 is needed",
                           reason: .tpmAlgorithm)
        }
        return (algorithm, TPMSigningScheme(algorithm: algorithm, hash: hash))
    }

    /// The object's Name: nameAlg (2 bytes, big-endian) ‖ H_nameAlg(TPMT_PUBLIC) (Part 1, §16).
    public var name: [UInt8] {
        get throws {
            [UInt8(nameAlgorithm.rawValue >> 8), UInt8(nameAlgorithm.rawValue & 0xFF)] + (try TPMDigest.hash(encoded, nameAlgorithm))
        }
    }

    /// True when the TPM says the private part was made in it and can never leave it.
    public var isHardwareBound: Bool { attributes.isSuperset(of: .hardwareBound) }
}
