import CPKCore

extension Manifest {
    /// Checks the manifest against the streams that exist: every index in range, no stream with
    /// two roles, and the sizes that schemes fix (nonce 12, tag 16, SHA-256 32, RSA key bytes,
    /// ECDSA P-256 64, P-384 96, Ed25519 64).
    /// - Parameter streamSizes: each stream's size, or nil where not yet known (a payload in flight).
    public func checkConsistency(streamSizes: [UInt64?], manifestIndex: Int) throws {
        let count = streamSizes.count
        var roleOf: [Int: StreamRole] = [manifestIndex: .manifest]
        for (role, index) in references {
            guard index < count else {
                throw CPKError.invalid("manifest names stream \(index) as the \(role.rawValue), but the package has \(count) streams")
            }
            if let other = roleOf[index] {
                throw CPKError.invalid("manifest gives stream \(index) two roles: \(other.rawValue) and \(role.rawValue)")
            }
            roleOf[index] = role
            if let expected = expectedSize(of: role), let actual = streamSizes[index], actual != expected {
                throw CPKError.invalid("the \(role.rawValue) stream (\(index)) is \(actual) bytes; \(expected) expected")
            }
        }
        var mapped = Set<Int>()
        for index in package.map {
            guard index < count else {
                throw CPKError.invalid("package.map names stream \(index), but the package has \(count) streams")
            }
            guard mapped.insert(index).inserted else { throw CPKError.invalid("package.map names stream \(index) twice") }
        }
        if let signed = package.signature.stream, mapped.contains(signed) {
            throw CPKError.invalid("package.map includes the package signature stream \(signed), which cannot sign itself")
        }
        if let digested = package.digest.stream, mapped.contains(digested) {
            throw CPKError.invalid("package.map includes the package digest stream \(digested), which cannot digest itself")
        }
        if package.signature != .none && package.digest == .none {
            throw CPKError.invalid("manifest has a package signature but no package digest")
        }
        if payload.signature != .none && payload.digest == .none {
            throw CPKError.invalid("manifest has a payload signature but no payload digest to sign")
        }
    }

    /// The fixed size of a stream in the given role, where the scheme fixes one.
    public func expectedSize(of role: StreamRole) -> UInt64? {
        switch role {
        case .nonce: return 12
        case .tag: return 16
        case .payloadDigest, .packageDigest: return UInt64(Digest.sha256Size)
        case .payloadSignature: return payload.signature.expectedSize.map(UInt64.init)
        case .packageSignature: return package.signature.expectedSize.map(UInt64.init)
        default: return nil
        }
    }
}
