import CPKAttestation
import CPKCLI
import CPKCore
import CPKCrypto
import CPKKeys

#if canImport(Glibc)
import Glibc  // time()
#endif

/// `cpk-keyfetch enroll`: the cloud's side of TPM enrollment (docs/keys.md §4.6). The checks and
/// the registry are CPKAttestation's (TPMEnrollmentRegistry); this names the flags.
extension KeyfetchFrontend {
    /// `enroll challenge`: reads a request, checks the EK certificate against `ekCAs` and the AK,
    /// writes the challenge to `output` and keeps its pending entry in the registry.
    public static func enrollChallenge(request path: String, ekCAs: [String], registry: String, output: String, json: Bool,
                                       messages: MessageOptions) throws {
        try JSONErrors.reporting(json: json, tool: tool) {
            guard !ekCAs.isEmpty else { throw CPKError.usage("give --ek-ca FILE: the manufacturer CA an EK certificate must chain to") }
            try SmallInput.requireOneStandardInput([(path, "request")] + ekCAs.map { ($0, "--ek-ca") })
            let anchors = try ekCAs.flatMap { try TrustOptions.certificates($0, flag: "--ek-ca") }
            let bytes = try SmallInput.read(path, limit: AttestationDocument.sizeLimit, what: "the enrollment request")
            let request = try SmallInput.locating(path) { try EnrollmentRequest(parsing: bytes) }
            let challenge = try TPMEnrollmentRegistry(path: registry).challenge(request, ekCAs: anchors, at: Int(time(nil)))
            try writeResult(challenge.encoded + [0x0A], to: output, binary: false)
            messages.step(tool, "challenged \(request.deviceID): a credential for the AK \(Hex.encode(challenge.akName))")
        }
    }

    /// `enroll finish`: checks a response against its pending challenge and records the device.
    public static func enrollFinish(response path: String, registry: String, json: Bool, messages: MessageOptions,
                                    output: DocumentOutput = Console.output) throws {
        try JSONErrors.reporting(json: json, tool: tool) {
            let bytes = try SmallInput.read(path, limit: AttestationDocument.sizeLimit, what: "the enrollment response")
            let response = try SmallInput.locating(path) { try EnrollmentResponse(parsing: bytes) }
            let device = try TPMEnrollmentRegistry(path: registry).finish(response, at: Int(time(nil)))
            if json {
                try output(JSONValue.object([("device_id", .string(device.deviceID)), ("ak_name", .string(Hex.encode(device.akName)))]).compactText)
            }
            messages.confirm(tool, "enrolled \(device.deviceID) (AK \(Hex.encode(device.akName)))")
        }
    }

    /// `enroll list`: the enrolled devices, one id per line (with `json`, their records' summary).
    public static func enrollList(registry: String, json: Bool, output: DocumentOutput = Console.output) throws {
        try JSONErrors.reporting(json: json, tool: tool) {
            let store = TPMEnrollmentRegistry(path: registry)
            let ids = try store.enrolledIDs()
            if json {
                let devices = try ids.compactMap { try store.enrolled($0) }.map { device in
                    JSONValue.object([
                        ("device_id", .string(device.deviceID)), ("ak_name", .string(Hex.encode(device.akName))),
                        ("enrolled_at", .integer(device.enrolledAt)),
                    ])
                }
                try output(JSONValue.object([("devices", .array(devices))]).compactText)
            } else {
                for id in ids { try output(id) }
            }
        }
    }
}
