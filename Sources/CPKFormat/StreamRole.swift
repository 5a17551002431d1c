/// What a stream holds, as the manifest says (a stream has no header of its own).
public enum StreamRole: String, Sendable, CaseIterable {
    case payload
    case nonce
    case tag
    case payloadDigest = "payload-digest"
    case payloadSignature = "payload-signature"
    case payloadCertificate = "payload-certificate"
    case packageDigest = "package-digest"
    case packageSignature = "package-signature"
    case packageCertificate = "package-certificate"
    case manifest
    /// An unreferenced stream that records the class key's check value (docs/format.md §4.1),
    /// known by its content; `Manifest.roles` never gives it, `PackageHead.keyCheckIndex` does.
    case keyCheck = "key-check"
    /// A stream the manifest does not name (allowed, e.g. from another writer).
    case unreferenced = "unreferenced"
}

extension Manifest {
    /// Every stream index the manifest names, with the role it gives it (the map not included).
    public var references: [(role: StreamRole, index: Int)] {
        var result: [(StreamRole, Int)] = [(.payload, payload.data)]
        if case .aesGCM(_, _, let nonce, let tag) = payload.encryption {
            result += [(.nonce, nonce), (.tag, tag)]
        }
        let optional: [(StreamRole, Int?)] = [
            (.payloadDigest, payload.digest.stream),
            (.payloadSignature, payload.signature.stream),
            (.payloadCertificate, payload.certificate.stream),
            (.packageDigest, package.digest.stream),
            (.packageSignature, package.signature.stream),
            (.packageCertificate, package.certificate.stream),
        ]
        for case let (role, index?) in optional { result.append((role, index)) }
        return result
    }

    /// The role of each of `count` streams, given where the manifest itself is.
    public func roles(streamCount count: Int, manifestIndex: Int) -> [StreamRole] {
        var roles = [StreamRole](repeating: .unreferenced, count: count)
        for (role, index) in references where index < count { roles[index] = role }
        if manifestIndex < count { roles[manifestIndex] = .manifest }
        return roles
    }

    /// Rewrites every stream index through `renumber`, e.g. when a stream is inserted.
    public mutating func renumberStreams(_ renumber: (Int) -> Int) {
        payload.data = renumber(payload.data)
        if case .aesGCM(let name, let bits, let nonce, let tag) = payload.encryption {
            payload.encryption = .aesGCM(keyName: name, keyStrength: bits, nonce: renumber(nonce), tag: renumber(tag))
        }
        payload.digest = payload.digest.renumbered(renumber)
        payload.signature = payload.signature.renumbered(renumber)
        payload.certificate = payload.certificate.renumbered(renumber)
        package.map = package.map.map(renumber)
        package.digest = package.digest.renumbered(renumber)
        package.signature = package.signature.renumbered(renumber)
        package.certificate = package.certificate.renumbered(renumber)
    }
}

extension Digest {
    func renumbered(_ renumber: (Int) -> Int) -> Digest {
        switch self {
        case .none: return .none
        case .sha256(let data): return .sha256(data: renumber(data))
        }
    }
}

extension Signature {
    func renumbered(_ renumber: (Int) -> Int) -> Signature {
        switch self {
        case .none: return .none
        case .rsaPKCS1v15(let bits, let data): return .rsaPKCS1v15(keyStrength: bits, data: renumber(data))
        case .rsaPSS(let bits, let data): return .rsaPSS(keyStrength: bits, data: renumber(data))
        case .ecdsaP256(let data): return .ecdsaP256(data: renumber(data))
        case .ecdsaP384(let data): return .ecdsaP384(data: renumber(data))
        case .ed25519(let data): return .ed25519(data: renumber(data))
        }
    }
}

extension Certificate {
    func renumbered(_ renumber: (Int) -> Int) -> Certificate {
        switch self {
        case .none, .targetDomain, .url: return self
        case .x509PEM(let data): return .x509PEM(data: renumber(data))
        case .x509DER(let data): return .x509DER(data: renumber(data))
        case .publicKeyPEM(let data): return .publicKeyPEM(data: renumber(data))
        case .publicKeyDER(let data): return .publicKeyDER(data: renumber(data))
        }
    }
}
