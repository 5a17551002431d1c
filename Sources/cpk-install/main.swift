import ArgumentParser
import CPKCLI
import CPKCore
import CPKCrypto
import CPKKeys
import CPKManager
import CPKPackage

#if canImport(Glibc)
import Glibc
#endif

struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-install",
        abstract: "Install packages into the Confidential Package Manager (its simulator where there is no TEE).",
        discussion: """
            cpk-install drives the Package Manager contract: it exports the device public key, \
            installs class keys wrapped to it, and deploys packages, whose AES-GCM tag, \
            plaintext digest and signature the Package Manager checks before anything is \
            installed. On machines without a TEE the Package Manager is a simulator keeping its \
            state (device key pair, storage key, class keys, installed applications, all \
            private) in --state DIR, else $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm or \
            ~/.local/state/cpk/cpm.

            Examples:
              cpk-install sync --id test --file-store test.json
              cpk-install public-key | cpk-keyfetch --key-name test --padding pkcs1v15 \\
                --file-store test.json | cpk-install add-key
              cpk-install add-key --id test wrapped.b64      # a base64 wrapped key
              cpk-install app.cpk                            # install (the default)
              cpk-install install --ca ca.pem --json app.cpk
              cpk-install list
              cpk-install report --device-id dev-01 > dev-01.json
              cpk-install sync --twin dev-01.desired.json
              cpk-install dev-export-plaintext test -o app.bin  # simulator only
              cpk-install remove test
              cpk-install --device-key 'pkcs11:token=cpk;object=device' \\
                --pin-file pin public-key

            Exit status: 0 success, 1 a check failed (signer, version, class key, tag, digest, \
            signature) or the input is invalid, 2 usage or I/O error.
            """,
        version: ToolVersion.line("cpk-install"),
        subcommands: [
            InstallPackage.self, PublicKeyExport.self, AddKey.self, Sync.self, Report.self, ListApplications.self, Remove.self,
            DevExportPlaintext.self, Trust.self, Status.self, CheckState.self,
        ],
        defaultSubcommand: InstallPackage.self)
}

/// Where the simulator keeps its state.
struct StateOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The simulator's state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).", valueName: "dir"),
        completion: .directory)
    var state: String?

    @Option(
        name: .customLong("device-key"),
        help: ArgumentHelp(
            "Keep the simulator's device key pair in a token: this pkcs11: URI's RSA key, recorded in a new state's configuration.",
            valueName: "uri"))
    var deviceKey: String?

    @OptionGroup var token: TokenOptions

    func openManager() throws -> PackageManagerSimulator {
        try PackageManagerSimulator(
            statePath: try StateDirectory.resolve(explicit: state), profile: try Self.profile(), token: token.access,
            deviceKeyURI: try deviceKey.map { try PKCS11URI(parsing: $0) })
    }

    /// The installed application ids, for `cpk-install remove <TAB>`: the state the command
    /// line names (--state), else the default one; nothing when it does not exist yet (a
    /// completion never creates a state) or cannot be read.
    @Sendable static func installedIDs(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        var explicit: String? = nil
        for (position, word) in words.enumerated() {
            if word == "--state", position + 1 < words.count, position + 1 != index {
                explicit = words[position + 1]
            } else if word.hasPrefix("--state=") {
                explicit = String(word.dropFirst("--state=".count))
            }
        }
        guard let path = try? StateDirectory.resolve(explicit: explicit), access(path, F_OK) == 0,
            let listing = try? PackageManagerSimulator(statePath: path, profile: .full).applicationListing()
        else { return [] }
        return listing.applications.map(\.id).filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// CPK_CPM_CONTRACT=reference makes the simulator pose as the reference Package Manager,
    /// which verifies RSA PKCS#1 v1.5 signatures only.
    static func profile() throws -> PackageManagerSimulator.Profile {
        guard let value = getenv("CPK_CPM_CONTRACT").map({ String(cString: $0) }), !value.isEmpty else { return .full }
        guard let profile = PackageManagerSimulator.Profile(rawValue: value) else {
            let known = PackageManagerSimulator.Profile.allCases.map(\.rawValue).joined(separator: " or ")
            throw CPKError.usage("CPK_CPM_CONTRACT=\(value): the simulator poses as \(known)")
        }
        return profile
    }
}

Install.runTool(globalOptions: ["--state", "--device-key", "--pin-file", "--pin-fd", "--pkcs11-module"])
