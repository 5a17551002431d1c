import CPKCore
import CPKCrypto
import CPKKeys

// The fleet's two documents: a device's reported state as `cpk-keyfetch distribute` reads it
// (`fleet-report`), and the desired-state document `cpk-install sync --twin` applies
// (`desired-state`). Both come from the network side of a fleet: whoever runs a device, or
// whoever can write the twin, chooses every byte.

/// A reported document is refused with a fleet reason, or names a valid device id and an RSA
/// public key that a class key can be wrapped to, as distribute does.
func fuzzFleetReport(_ bytes: [UInt8]) {
    let report: DeviceReport
    do {
        report = try DeviceReport(parsing: bytes)
    } catch let refused as DeviceReport.Refused {
        expectOneLine(refused.error, "reading a report of \(refused.deviceID)")
        expect(ReportedState.problem(withDeviceID: refused.deviceID) == nil, "a refusal names an invalid device id")
        return
    } catch let error as CPKError {
        return expectOneLine(error, "reading a report")
    } catch {
        fatalError("reading a report threw \(type(of: error)), not a CPKError: \(error)")
    }
    expect(ReportedState.problem(withDeviceID: report.deviceID) == nil, "an invalid device id was accepted")
    let classKey = [UInt8](repeating: 0x5a, count: classKeySize)
    for padding in [KeyWrapPadding.oaepSHA256, .pkcs1v15] {
        if let wrapped = refusing("wrapping to the reported key", { try report.publicKey.wrap(classKey, padding: padding) }) {
            expect(wrapped.count == report.publicKey.modulusBytes, "a wrapped block of the wrong size")
        }
    }
}

/// A desired-state document reads, and what it holds survives being written out again (the
/// form distribute writes) and read back: names, blocks, padding and the device key's hash.
func fuzzDesiredState(_ bytes: [UInt8]) {
    guard let document = refusing("reading a desired-state document", { try DesiredState(parsing: bytes, from: "the twin") })
    else { return }
    let written = Array(document.json(deviceID: "fuzz-device").compactText.utf8)
    guard let again = refusing("reading a written desired-state document", { try DesiredState(parsing: written, from: "it") })
    else { fatalError("a written desired-state document is refused: \(String(decoding: written, as: UTF8.self))") }
    expect(again.keys.map(\.name) == document.keys.map(\.name), "the key names changed through writing")
    expect(again.keys.map(\.wrapped) == document.keys.map(\.wrapped), "a wrapped block changed through writing")
    expect(again.padding == document.padding, "the padding changed through writing")
    expect(again.wrappingKeySHA256 == document.wrappingKeySHA256, "the device key's hash changed through writing")
    expect(again.unreadable.isEmpty, "a written document has unreadable entries")
}
