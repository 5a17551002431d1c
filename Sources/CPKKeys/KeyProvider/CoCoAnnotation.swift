import CPKCore
import CPKCrypto

/// CoCo's `wrap_type` values. Annotations are only ever written with A256GCM. A256CTR (CoCo's
/// other value) is read, because CoCo's guest unwraps it and images encrypted with it exist,
/// but never written: it is unauthenticated, so a wrong key or a changed annotation yields
/// wrong optsdata instead of an error (the provider warns on every such unwrap).
public enum CoCoWrapType: String, Sendable, Equatable {
    case a256gcm = "A256GCM"
    case a256ctr = "A256CTR"
}

/// The annotation Confidential Containers' coco_keyprovider writes on each encrypted layer and
/// its key broker clients (offline_fs_kbc, the KBS ones) read:
/// `{"kid":"<KBS resource URI>","wrapped_data":"<b64>","iv":"<b64>","wrap_type":"A256GCM"}`,
/// where wrapped_data is AES-256-GCM(KEK, iv, optsdata) with the 16-byte tag appended and no
/// AAD, and the KEK is the 32-byte key `kid` names. Written with these members in this order
/// (serde's), compact, so our annotations are byte-for-byte of CoCo's shape.
public struct CoCoAnnotation: Equatable, Sendable {
    public var kid: String
    public var wrappedData: [UInt8]
    public var iv: [UInt8]
    public var wrapType: String

    /// Annotations are well under a kilobyte; anything near this is not one.
    public static let sizeLimit = 1 << 18

    public init(kid: String, wrappedData: [UInt8], iv: [UInt8], wrapType: String) {
        self.kid = kid
        self.wrappedData = wrappedData
        self.iv = iv
        self.wrapType = wrapType
    }

    /// Wraps `optsData` under `kek` with a fresh random 12-byte IV.
    public static func wrap(_ optsData: [UInt8], kid: String, kek: [UInt8], algorithm: CoCoWrapType = .a256gcm) throws -> CoCoAnnotation {
        try requireWritable(algorithm.rawValue)
        try requireKEK(kek)
        let iv = try SecureRandom.bytes(AESGCM.nonceSize)
        return CoCoAnnotation(kid: kid, wrappedData: try seal(optsData, key: kek, iv: iv), iv: iv, wrapType: algorithm.rawValue)
    }

    /// Recovers the optsdata; with A256GCM a wrong KEK or a changed annotation fails the GCM tag
    /// check. With A256CTR nothing can be checked but the result's shape: ocicrypt's optsdata is
    /// a JSON object, and anything else is refused as a wrong key or a changed annotation.
    public func unwrap(kek: [UInt8]) throws -> [UInt8] {
        switch CoCoWrapType(rawValue: wrapType) {
        case .a256gcm?: break
        case .a256ctr?: return try unwrapCTR(kek: kek)
        case nil: throw CPKError.invalid("unknown wrap type \"\(wrapType)\"; expected A256GCM or A256CTR")
        }
        try Self.requireKEK(kek)
        guard iv.count == AESGCM.nonceSize else {
            throw CPKError.invalid("the annotation's iv is \(iv.count) bytes; A256GCM uses \(AESGCM.nonceSize)")
        }
        guard wrappedData.count >= AESGCM.tagSize else {
            throw CPKError.invalid("the annotation's wrapped_data is shorter than the \(AESGCM.tagSize)-byte GCM tag")
        }
        let body = Array(wrappedData[..<(wrappedData.count - AESGCM.tagSize)])
        let tag = Array(wrappedData[(wrappedData.count - AESGCM.tagSize)...])
        let cipher = try AESGCM(.decrypt, key: kek, nonce: iv)
        var plain = [UInt8](repeating: 0, count: body.count)
        try body.withUnsafeBytes { input in try plain.withUnsafeMutableBytes { try cipher.update(input, into: $0) } }
        guard try cipher.finishDecryption(tag: tag) else {
            wipe(&plain)
            throw CPKError.check("the layer key does not unwrap with the key \"\(kid)\": wrong key, or a changed annotation (GCM tag mismatch)")
        }
        return plain
    }

    private func unwrapCTR(kek: [UInt8]) throws -> [UInt8] {
        try Self.requireKEK(kek)
        guard iv.count == AESCTR.counterSize else {
            throw CPKError.invalid("the annotation's iv is \(iv.count) bytes; A256CTR uses \(AESCTR.counterSize)")
        }
        var plain = try AESCTR.apply(wrappedData, key: kek, counter: iv)
        guard case .object? = try? JSONValue(parsing: plain) else {
            wipe(&plain)
            throw CPKError.check(
                "the layer key does not unwrap with the key \"\(kid)\": wrong key, or a changed annotation "
                    + "(A256CTR has no tag; the result is not ocicrypt's key bundle)")
        }
        return plain
    }

    private static func seal(_ plain: [UInt8], key: [UInt8], iv: [UInt8]) throws -> [UInt8] {
        let cipher = try AESGCM(.encrypt, key: key, nonce: iv)
        var out = [UInt8](repeating: 0, count: plain.count)
        try plain.withUnsafeBytes { input in try out.withUnsafeMutableBytes { try cipher.update(input, into: $0) } }
        return out + (try cipher.finishEncryption())
    }

    /// Only A256GCM is written; checked before any key is looked up.
    static func requireWritable(_ wrapType: String) throws {
        switch CoCoWrapType(rawValue: wrapType) {
        case .a256gcm?: return
        case .a256ctr?:
            throw CPKError.invalid(
                "algorithm A256CTR (unauthenticated AES-CTR) is not written here, only read; use A256GCM (the default)")
        case nil:
            throw CPKError.invalid("unknown wrap type \"\(wrapType)\"; expected A256GCM")
        }
    }

    private static func requireKEK(_ kek: [UInt8]) throws {
        guard kek.count == AESGCM.keySize else {
            throw CPKError.invalid("the key-encryption key is \(kek.count) bytes; A256GCM needs \(AESGCM.keySize)")
        }
    }

    /// The annotation's bytes: compact JSON, members in CoCo's order.
    public var bytes: [UInt8] {
        Array(JSONValue.object([
            ("kid", .string(kid)),
            ("wrapped_data", .string(Base64.encode(wrappedData))),
            ("iv", .string(Base64.encode(iv))),
            ("wrap_type", .string(wrapType)),
        ]).compactText.utf8)
    }

    /// Reads an annotation. Members CoCo's later annotation versions add are ignored, as CoCo's
    /// own reader ignores them; the four above are required.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.sizeLimit else {
            throw CPKError.invalid("the annotation is larger than \(Self.sizeLimit) bytes")
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: bytes)
        } catch let error as JSONSyntaxError {
            throw CPKError.invalid("the annotation is not CoCo's JSON (\(error))")
        }
        guard case .object = json else { throw CPKError.invalid("the annotation is not a JSON object") }
        func text(_ name: String) throws -> String {
            guard case .string(let value)? = json[name] else {
                throw CPKError.invalid("the annotation has no string \"\(name)\"")
            }
            return value
        }
        func binary(_ name: String) throws -> [UInt8] {
            guard let value = Base64.decode(try text(name)) else {
                throw CPKError.invalid("the annotation's \(name) is not valid base64")
            }
            return value
        }
        kid = try text("kid")
        if let problem = KeyName.problem(with: kid) { throw CPKError.invalid("the annotation's kid: \(problem)") }
        wrappedData = try binary("wrapped_data")
        iv = try binary("iv")
        wrapType = try text("wrap_type")
    }
}
