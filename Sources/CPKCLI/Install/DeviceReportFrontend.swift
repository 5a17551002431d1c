import CPKCore
import CPKCrypto
import CPKKeys
import CPKManager
import CPKTPM

#if canImport(Glibc)
import Glibc
#endif

/// `cpk-install report`: this device's reported-state document, one line of JSON.
public enum DeviceReportFrontend {
    /// Writes the document to `output` (- is standard output); the device id defaults to the
    /// one provisioned with the fleet anchor, else the host name. A device in a fleet reports
    /// under its provisioned id only: a release for another id would be refused anyway.
    /// A TPM-held device key adds its evidence: a certify by the AK over `nonce` (hex; empty
    /// when not given), and with `pcrs` (`sha256:0,1,7`) a quote of those PCRs over the nonce.
    public static func report(
        deviceID: String?, certificate: String?, output: String, state: StateOptions, nonce: String? = nil, pcrs: String? = nil,
        akHandle: String? = nil
    ) throws {
        let nonceBytes = try nonce.map { text -> [UInt8] in
            guard let bytes = Hex.decode(Array(text.utf8), ignoringWhitespace: false), !bytes.isEmpty, bytes.count <= 64 else {
                throw CPKError.usage("--nonce \(text): not 1 to 64 bytes in hex")
            }
            return bytes
        } ?? []
        let selection = try pcrs.map { try TPMPCRSelectionSpec(parsing: $0) }
        if selection != nil && nonce == nil { throw CPKError.usage("--pcrs needs --nonce: a quote covers the verifier's nonce") }
        let certificate = try certificate.map { try SmallInput.read($0, limit: SmallInput.keyLimit, what: "the device certificate") }
        let manager = try state.openManager()
        let provisioned = try FleetMembership.load(in: manager.state)?.deviceID
        if let deviceID, let provisioned, deviceID != provisioned {
            throw CPKError.usage("this device is provisioned as \"\(provisioned)\" (cpk-install trust list), not \"\(deviceID)\"")
        }
        let request = TPMEvidenceReport.Request(
            nonce: nonceBytes, pcrs: selection,
            akHandle: try akHandle.map { try TPMKeyURI.parseHandle($0) } ?? TPMKeyURI.defaultAttestationKeyHandle)
        let evidence = try TPMEvidenceReport.evidence(of: manager, request: request)
        if evidence == nil && (nonce != nil || pcrs != nil || akHandle != nil) {
            throw CPKError.usage("this device's key is not held in a TPM (--device-key tpm:...): --nonce, --pcrs and --ak-handle have no evidence to give")
        }
        let report = try DeviceReportBuilder.report(
            of: manager, deviceID: try deviceID ?? provisioned ?? hostName(), certificate: certificate, tpmEvidence: evidence)
        try writeResult(Array((report.compactText + "\n").utf8), to: output, binary: false)
    }

    static func hostName() throws -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { throw CPKError.usage("cannot read the host name: give --device-id") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
