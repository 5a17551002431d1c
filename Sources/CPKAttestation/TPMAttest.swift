import CPKCore

/// One PCR bank's selection in a quote (TPMS_PCR_SELECTION).
public struct TPMPCRSelection: Sendable, Equatable {
    public let hash: UInt16
    /// The selection bitmap: bit i of byte n selects PCR 8n+i.
    public let bitmap: [UInt8]

    /// The selected PCR indices, lowest first.
    public var indices: [Int] {
        bitmap.enumerated().flatMap { byte, bits in (0..<8).filter { bits & (1 << $0) != 0 }.map { byte * 8 + $0 } }
    }
}

/// A TPMS_ATTEST (Part 2, §10.12.12): what a TPM signs with an attestation key. Only the two
/// kinds the key release needs are read: certify (this TPM holds an object of this Name) and
/// quote (these PCR values, over a verifier's nonce).
public struct TPMAttest: Sendable, Equatable {
    /// TPM_GENERATED_VALUE: a restricted key signs nothing that starts so unless the TPM made it.
    public static let generatedMagic: UInt32 = 0xFF54_4347
    public static let certifyTag: UInt16 = 0x8017
    public static let quoteTag: UInt16 = 0x8018

    public enum Attested: Sendable, Equatable {
        /// TPMS_CERTIFY_INFO: the certified object's Name and qualified Name.
        case certify(name: [UInt8], qualifiedName: [UInt8])
        /// TPMS_QUOTE_INFO: the PCRs selected and the digest of their values.
        case quote(selections: [TPMPCRSelection], pcrDigest: [UInt8])
    }

    /// The marshalled bytes exactly as read: what the signature covers.
    public let encoded: [UInt8]
    /// The signing key's qualified Name.
    public let qualifiedSigner: [UInt8]
    /// The caller's qualifying data (a nonce), as the TPM echoed it.
    public let extraData: [UInt8]
    public let clock: UInt64
    public let resetCount: UInt32
    public let restartCount: UInt32
    public let safe: Bool
    public let firmwareVersion: UInt64
    public let attested: Attested

    /// A PCR bank has at most 24 PCRs here, so a selection is at most 3 bytes; Part 2 allows 4.
    static let maximumSelectBytes = 4
    /// Part 2's bound on the number of banks in a TPML_PCR_SELECTION (HASH_COUNT on a TPM with
    /// every bank): more is no TPM's answer.
    static let maximumBanks = 16

    /// Reads a TPMS_ATTEST that is the whole of `bytes` (tpm2_quote's and tpm2_certify's
    /// attestation output).
    public init(parsing bytes: [UInt8]) throws {
        var reader = try TPMReader(bytes, what: "the attestation")
        let magic = try reader.u32("the magic")
        guard magic == Self.generatedMagic else {
            throw reader.bad("the magic is 0x\(String(magic, radix: 16)), not TPM_GENERATED (0xff544347)")
        }
        let tag = try reader.u16("the attestation type")
        qualifiedSigner = try reader.sized("the qualified signer", maximum: maximumName)
        extraData = try reader.sized("the extra data", maximum: maximumName)
        clock = try reader.u64("the clock")
        resetCount = try reader.u32("the reset count")
        restartCount = try reader.u32("the restart count")
        let safeByte = try reader.u8("the safe flag")
        guard safeByte <= 1 else { throw reader.bad("the safe flag is \(safeByte), not 0 or 1") }
        safe = safeByte == 1
        firmwareVersion = try reader.u64("the firmware version")
        switch tag {
        case Self.certifyTag:
            let name = try reader.sized("the certified Name", maximum: maximumName)
            let qualified = try reader.sized("the certified qualified Name", maximum: maximumName)
            try Self.checkName(name, "the certified Name", reader)
            try Self.checkName(qualified, "the certified qualified Name", reader)
            attested = .certify(name: name, qualifiedName: qualified)
        case Self.quoteTag:
            let count = Int(try reader.u32("the number of PCR banks"))
            guard count <= Self.maximumBanks else { throw reader.bad("\(count) PCR banks; at most \(Self.maximumBanks)") }
            var selections: [TPMPCRSelection] = []
            for _ in 0..<count {
                let hash = try reader.u16("a PCR bank's hash")
                let size = Int(try reader.u8("a PCR selection's size"))
                guard size <= Self.maximumSelectBytes else { throw reader.bad("a PCR selection of \(size) bytes; at most \(Self.maximumSelectBytes)") }
                selections.append(TPMPCRSelection(hash: hash, bitmap: try reader.take(size, "a PCR selection")))
            }
            let digest = try reader.sized("the PCR digest", maximum: maximumDigest)
            attested = .quote(selections: selections, pcrDigest: digest)
        default:
            throw CPKError(
                .invalidInput, "the attestation is of type 0x\(String(tag, radix: 16)); only certify (0x8017) and quote (0x8018) are read",
                reason: .tpmAlgorithm)
        }
        try reader.finish()
        encoded = bytes
    }

    /// A Name is a 4-byte handle, or an accepted hash's ID and a digest of its size.
    private static func checkName(_ name: [UInt8], _ field: String, _ reader: TPMReader) throws {
        if name.isEmpty || name.count == 4 { return }
        guard name.count >= 2, let hash = TPMHash(rawValue: UInt16(name[0]) << 8 | UInt16(name[1])),
            name.count == 2 + hash.digestSize
        else { throw reader.bad("\(field) is not a Name (\(name.count) bytes)") }
    }

    /// The certified object's Name, for a certify attestation.
    public var certifiedName: [UInt8]? {
        if case .certify(let name, _) = attested { return name }
        return nil
    }
}

/// A TPMT_SIGNATURE (Part 2, §11.3.4) of the kinds an attestation key makes.
public struct TPMSignature: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        /// RSASSA-PKCS1-v1_5 or RSASSA-PSS: the signature, as long as the modulus.
        case rsa([UInt8])
        /// ECDSA: r and s, each at most a coordinate long.
        case ecdsa(r: [UInt8], s: [UInt8])
    }

    public let scheme: TPMSigningScheme
    public let value: Value
    public let encoded: [UInt8]

    /// Reads a TPMT_SIGNATURE that is the whole of `bytes` (tpm2_quote's and tpm2_certify's
    /// signature output in the tss format).
    public init(parsing bytes: [UInt8]) throws {
        var reader = try TPMReader(bytes, what: "the TPM signature")
        let algorithm = try reader.u16("the signature algorithm")
        switch algorithm {
        case TPMAlgorithmID.rsassa, TPMAlgorithmID.rsapss:
            let hash = try TPMHash.named(try reader.u16("the signature's hash"), in: "the signature")
            scheme = TPMSigningScheme(algorithm: algorithm, hash: hash)
            let signature = try reader.sized("the RSA signature", maximum: 512)
            guard signature.count >= 256 else { throw reader.bad("an RSA signature of \(signature.count) bytes") }
            value = .rsa(signature)
        case TPMAlgorithmID.ecdsa:
            let hash = try TPMHash.named(try reader.u16("the signature's hash"), in: "the signature")
            scheme = TPMSigningScheme(algorithm: algorithm, hash: hash)
            let r = try reader.sized("the signature's r", maximum: 66)
            let s = try reader.sized("the signature's s", maximum: 66)
            guard !r.isEmpty, !s.isEmpty else { throw reader.bad("an ECDSA signature with an empty r or s") }
            value = .ecdsa(r: r, s: s)
        case TPMAlgorithmID.null:
            throw reader.bad("the signature is TPM_ALG_NULL: the TPM signed nothing")
        default:
            throw CPKError(
                .invalidInput, "the TPM signature is \(TPMAlgorithmID.name(algorithm)); RSASSA, RSAPSS or ECDSA is accepted",
                reason: .tpmAlgorithm)
        }
        try reader.finish()
        encoded = bytes
    }
}
