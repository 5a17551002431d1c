import CPKCore
import CPKCrypto

/// The two renderings of a report: lines for people, one JSON document for scripts. The JSON
/// schema is documented in cpk-verify(1) and kept stable: keys are only ever added.
extension VerificationReport {
    /// "NAME PASSED: …" per check, the certificates, then the verdict line. `hint` may add
    /// what the user can do about a check (the command line knows its flag names).
    public func text(
        requiring required: [VerificationCheck], integrityOnly: Bool, hint: (CheckResult) -> String? = { _ in nil }
    ) -> String {
        var lines = checks.map { result in
            "\(result.name) \(result.status.rawValue.uppercased()): \(result.detail)" + (hint(result).map { "; \($0)" } ?? "")
        }
        for info in certificates {
            let certificate = info.certificate
            lines.append(Self.oneLine(
                "\(info.target.rawValue) certificate: \(certificate.subject), issued by \(certificate.issuer), "
                    + "valid \(TrustPolicy.date(certificate.notBefore)) to \(TrustPolicy.date(certificate.notAfter)): \(info.validity.rawValue)"))
        }
        let problems = problems(requiring: required, integrityOnly: integrityOnly)
        if problems.isEmpty {
            let passed = checks.filter { $0.status == .passed }.count
            let established = isAuthenticated
                ? "authenticated (a trusted signer vouches for it)" : "intact (integrity only: nothing says who signed it)"
            let manifest = isManifestAuthenticated ? "manifest authenticated" : "manifest NOT authenticated"
            lines.append("VERIFIED: \(established); \(manifest); \(passed) checks passed, \(signaturesChecked) signature(s) checked")
        } else {
            lines.append("NOT VERIFIED: \(problems.map(\.description).joined(separator: "; "))")
        }
        return lines.joined(separator: "\n")
    }

    public func json(requiring required: [VerificationCheck], integrityOnly: Bool) -> String {
        let problems = problems(requiring: required, integrityOnly: integrityOnly)
        let certificates: [JSONValue] = certificates.map { info in
            .object([
                ("for", .string(info.target.rawValue)),
                ("subject", .string(info.certificate.subject)),
                ("issuer", .string(info.certificate.issuer)),
                ("not-before", info.certificate.notBefore.map { .string(Timestamp.format(secondsSinceEpoch: $0)) } ?? .null),
                ("not-after", info.certificate.notAfter.map { .string(Timestamp.format(secondsSinceEpoch: $0)) } ?? .null),
                ("validity", .string(info.validity.rawValue)),
            ])
        }
        let document = JSONValue.object([
            ("cpk-verify", .integer(1)),
            ("input", .string(input)),
            ("format", kind.map { .string($0.rawValue) } ?? .null),
            ("id", packageID.map { .string($0) } ?? .null),
            ("checked-at", .string(Timestamp.format(secondsSinceEpoch: time))),
            ("verified", .bool(problems.isEmpty)),
            ("signatures-checked", .integer(signaturesChecked)),
            ("checks", .array(checks.map {
                var fields: [(String, JSONValue)] = [("check", .string($0.name)), ("result", .string($0.status.rawValue)), ("detail", .string($0.detail))]
                if let reason = $0.reason { fields.append(("reason", .string(reason.rawValue))) }
                return .object(fields)
            })),
            ("certificates", .array(certificates)),
            ("problems", .array(problems.map { .string($0.description) })),
            ("verdict", .string(verdict(requiring: required, integrityOnly: integrityOnly).rawValue)),
            ("manifest-authenticated", .bool(isManifestAuthenticated)),
        ])
        return document.compactText
    }
}
