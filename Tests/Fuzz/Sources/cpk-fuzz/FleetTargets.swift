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

/// The fleet operator of the `key-release` target: a key made once per run, guarding nothing.
private let fuzzOperator: SigningKey = {
    guard let key = try? SigningKey.generate(.ecP256) else { fatalError("cannot make the fuzz operator's key") }
    return key
}()

/// A signed key release, twice: the input as a whole document (all of it unauthenticated, so
/// it must be refused with a fleet reason unless it happens to carry a valid signature), and the
/// input as a statement the operator signed (so the statement's parser and the device checks
/// see every mutation). A release that is accepted names the expected device and key.
func fuzzKeyRelease(_ bytes: [UInt8]) {
    guard let anchorKey = try? fuzzOperator.verifyingKey else { fatalError("the fuzz operator has no public key") }
    let fingerprint = [UInt8](repeating: 0xab, count: 32)
    let expectation = KeyRelease.Expectation(
        anchor: FleetAnchor(key: anchorKey), deviceID: "fuzz-device", deviceKeySHA256: fingerprint, lastGeneration: 4, time: 1_800_000_000)
    func check(_ document: [UInt8], _ step: String) {
        do {
            let release = try KeyRelease(verifying: document, against: expectation)
            expect(release.deviceID == "fuzz-device" && release.deviceKeySHA256 == fingerprint, "\(step): accepted for another device")
            expect(release.generation > 4 && release.expiresAt > 1_800_000_000, "\(step): accepted a replay or an expired release")
        } catch let error as CPKError {
            expectOneLine(error, step)
            expect(error.reason?.rawValue.hasPrefix("fleet.") == true, "\(step): refused without a fleet reason: \(error)")
        } catch {
            fatalError("\(step) threw \(type(of: error)), not a CPKError: \(error)")
        }
    }
    check(bytes, "verifying a document")
    let statement = String(decoding: bytes, as: UTF8.self)
    guard let digest = try? SHA256Hasher.digest(Array(statement.utf8)),
        let signature = try? fuzzOperator.sign(digest: digest, scheme: .ecdsaP256)
    else { fatalError("cannot sign a fuzz statement") }
    let document = JSONValue.object([
        ("desired", .object([
            (KeyRelease.property, .object([
                ("statement", .string(statement)),
                ("signature", .object([("scheme", .string("ecdsa-p256")), ("value", .string(Base64.encode(signature)))])),
            ])),
        ])),
    ])
    check(Array(document.compactText.utf8), "verifying a signed statement")
}

/// A release policy (`distribute --policy`) and a device allow list (`--allow-list`), both
/// read strictly: refused in one line, or every rule names keys that are valid key names and
/// every listed device a valid id, so a typo can never widen a release.
func fuzzReleasePolicy(_ bytes: [UInt8]) {
    if let policy = refusing("reading a release policy", { try ReleasePolicy(parsing: bytes) }) {
        expect(!policy.rules.isEmpty, "a policy with no rule was accepted")
        for rule in policy.rules {
            expect(!rule.keys.isEmpty, "a rule with no key was accepted")
            for key in rule.keys { expect(KeyName.problem(with: key) == nil, "a rule names an invalid key name: \(key)") }
            if case .deviceID(let id) = rule.match {
                expect(ReportedState.problem(withDeviceID: id) == nil, "a rule names an invalid device id: \(id)")
            }
        }
        expect(Set(policy.keyNames).count == policy.keyNames.count, "keyNames repeats a key")
    }
    if let list = refusing("reading a device allow list", { try DeviceAllowList(parsing: bytes) }) {
        expect(list.count >= 0, "an allow list of negative size")
    }
}
