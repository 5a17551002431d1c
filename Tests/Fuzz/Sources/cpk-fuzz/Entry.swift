// cpk-fuzz: libFuzzer targets for every parser of untrusted input, in one binary. The target
// is chosen by the environment variable CPK_FUZZ_TARGET; its seed corpus is
// Tests/Fuzz/corpus/<target>/. Built and run by Tests/Fuzz/fuzz.sh (see its header); main.swift
// hands the command line to libFuzzer.

#if canImport(Glibc)
import Glibc
#endif

struct FuzzTarget: Sendable {
    let name: String
    let about: String
    let run: @Sendable ([UInt8]) -> Void
}

let fuzzTargets: [FuzzTarget] = [
    FuzzTarget(name: "cpk", about: ".cpk frame, stream table and manifest; summary; conversion to an envelope",
               run: fuzzPackageFile),
    FuzzTarget(name: "manifest", about: "manifest JSON; round trip; a package laid out as it says",
               run: fuzzManifest),
    FuzzTarget(name: "envelope", about: "CBOR envelope on a pipe; summary; conversion to a .cpk",
               run: fuzzEnvelope),
    FuzzTarget(name: "wrapped-key", about: "wrapped-key document, raw or base64 block; unwrapping",
               run: fuzzWrappedKey),
    FuzzTarget(name: "key-store", about: "file key store JSON; lookups with KBS names; rewrite text",
               run: fuzzKeyStore),
    FuzzTarget(name: "key-service", about: "HTTP WrapKey / ProvisionKey answers (status, padding, body)",
               run: fuzzKeyService),
    FuzzTarget(name: "twin", about: "device-twin document with confidential_package_keys",
               run: fuzzTwin),
    FuzzTarget(name: "public-key", about: "public and private keys: PEM, DER, PKCS#1, X.509",
               run: fuzzPublicKey),
    FuzzTarget(name: "fleet-report", about: "a device's reported state (distribute); wrapping to its key",
               run: fuzzFleetReport),
    FuzzTarget(name: "desired-state", about: "desired-state document (sync --twin); write and read back",
               run: fuzzDesiredState),
    FuzzTarget(name: "key-release", about: "signed key release (sync --twin): a document, and a statement signed",
               run: fuzzKeyRelease),
    FuzzTarget(name: "release-policy", about: "distribute's release policy and device allow list, read strictly",
               run: fuzzReleasePolicy),
    FuzzTarget(name: "http-response", about: "a key service's HTTP answer in pieces; same verdict at any break",
               run: fuzzHTTPResponse),
    FuzzTarget(name: "key-provider", about: "ocicrypt key-provider request; a wrap unwraps to its options",
               run: fuzzKeyProvider),
    FuzzTarget(name: "pkcs11-uri", about: "PKCS#11 URI (RFC 7512); canonical form reads back the same",
               run: fuzzPKCS11URI),
    FuzzTarget(name: "tpm-public", about: "TPM2B_PUBLIC / TPMT_PUBLIC (RSA, ECC); Name; read back",
               run: fuzzTPMPublic),
    FuzzTarget(name: "tpm-attest", about: "TPMS_ATTEST (certify, quote); checked against a fixed attestation key",
               run: fuzzTPMAttest),
    FuzzTarget(name: "tpm-signature", about: "TPMT_SIGNATURE (RSASSA, RSAPSS, ECDSA); checked over a fixed quote",
               run: fuzzTPMSignature),
    FuzzTarget(name: "tpm-enrollment", about: "TPM enrollment request, challenge, response; built documents read back",
               run: fuzzTPMEnrollment),
    FuzzTarget(name: "tpm-evidence", about: "reported TPM evidence; read back, verified against a fixed enrollment",
               run: fuzzTPMEvidence),
]

/// The target CPK_FUZZ_TARGET names, chosen once; anything else stops with the list.
let selectedTarget: FuzzTarget = {
    let wanted = getenv("CPK_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    if let target = fuzzTargets.first(where: { $0.name == wanted }) { return target }
    var message = "cpk-fuzz: set CPK_FUZZ_TARGET to one of:\n"
    for target in fuzzTargets { message += "  \(target.name): \(target.about)\n" }
    _ = Array(message.utf8).withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    selectedTarget.run(bytes)
    return 0
}
