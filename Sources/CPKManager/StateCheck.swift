import CPKCore
import CPKCrypto

/// BEYOND THE CONTRACT, simulator only: a consistency check of the whole state, for people
/// after a crash and for the tests that kill installs.
public struct StateCheckReport: Sendable {
    /// Installed applications whose stored bytes decrypt and match their record.
    public var applications: [String] = []
    /// Ids with an installed class key that opens.
    public var classKeys: [String] = []
    /// Removed ids whose rollback floor and signer were kept (`remove` without forgetting).
    public var histories: [String] = []
    /// Files in the staging area still being written by a live process.
    public var stagingInUse: Int = 0
    /// What is wrong, one line each; empty when the state is consistent.
    public var problems: [String] = []

    public var isConsistent: Bool { problems.isEmpty }
}

extension PackageManagerSimulator {
    /// Opens every class key and decrypts every installed application (tag and digest), and
    /// looks for files that are not where they belong. Abandoned staging files were already
    /// removed when the simulator was opened.
    public func checkState() throws -> StateCheckReport {
        var report = StateCheckReport()
        let storageKey = try secretsStorageKey()
        for name in try state.entries(of: StateDirectory.apps) {
            if let id = StateDirectory.id(fromFileName: name, suffix: ".history") {
                // What a removal kept: it must open, as an install would open it.
                do {
                    _ = try ApplicationFile.openHistory(state.historyPath(for: id), id: id, storageKey: storageKey)
                    report.histories.append(id)
                } catch let error as CPKError {
                    report.problems.append(error.message)
                }
                continue
            }
            guard let id = StateDirectory.id(fromFileName: name, suffix: ".app") else {
                report.problems.append("apps/\(name): a file that is not an installed application")
                continue
            }
            do {
                guard let opened = try ApplicationFile.open(state.applicationPath(for: id), id: id, storageKey: storageKey) else {
                    continue  // removed meanwhile
                }
                try StoredPayload(opened: opened, storageKey: storageKey).check()
                report.applications.append(id)
            } catch let error as CPKError {
                report.problems.append(error.message)
            }
        }
        for name in try state.entries(of: StateDirectory.keys) {
            guard let id = try classKeyID(ofFile: name) else {
                report.problems.append("keys/\(name): a file that is not a class key")
                continue
            }
            do {
                var key = try classKey(for: id)
                wipe(&key)
                report.classKeys.append(id)
            } catch let error as CPKError {
                report.problems.append(error.message)
            }
        }
        // trust/ decides every install: checked by the rules an install reads it with.
        report.problems += try TrustStore.problems(in: state)
        report.stagingInUse = try state.entries(of: StateDirectory.staging).count
        return report
    }
}
