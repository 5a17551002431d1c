import CPKCore
import CPKKeys
import CPKManager

#if canImport(Glibc)
import Glibc
#endif

/// `cpk-install report`: this device's reported-state document, one line of JSON.
public enum DeviceReportFrontend {
    /// Writes the document to `output` (- is standard output); the device id defaults to the
    /// one provisioned with the fleet anchor, else the host name. A device in a fleet reports
    /// under its provisioned id only: a release for another id would be refused anyway.
    public static func report(deviceID: String?, certificate: String?, output: String, state: StateOptions) throws {
        let certificate = try certificate.map { try SmallInput.read($0, limit: SmallInput.keyLimit, what: "the device certificate") }
        let manager = try state.openManager()
        let provisioned = try FleetMembership.load(in: manager.state)?.deviceID
        if let deviceID, let provisioned, deviceID != provisioned {
            throw CPKError.usage("this device is provisioned as \"\(provisioned)\" (cpk-install trust list), not \"\(deviceID)\"")
        }
        let report = try DeviceReportBuilder.report(
            of: manager, deviceID: try deviceID ?? provisioned ?? hostName(), certificate: certificate)
        try writeResult(Array((report.compactText + "\n").utf8), to: output, binary: false)
    }

    static func hostName() throws -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { throw CPKError.usage("cannot read the host name: give --device-id") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
