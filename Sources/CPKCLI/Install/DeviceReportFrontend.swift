import CPKCore
import CPKKeys
import CPKManager

#if canImport(Glibc)
import Glibc
#endif

/// `cpk-install report`: this device's reported-state document, one line of JSON.
public enum DeviceReportFrontend {
    /// Writes the document to `output` (- is standard output); the device id defaults to the host name.
    public static func report(deviceID: String?, certificate: String?, output: String, state: StateOptions) throws {
        let certificate = try certificate.map { try SmallInput.read($0, limit: SmallInput.keyLimit, what: "the device certificate") }
        let report = try DeviceReportBuilder.report(
            of: try state.openManager(), deviceID: try deviceID ?? hostName(), certificate: certificate)
        try writeResult(Array((report.compactText + "\n").utf8), to: output, binary: false)
    }

    static func hostName() throws -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { throw CPKError.usage("cannot read the host name: give --device-id") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
