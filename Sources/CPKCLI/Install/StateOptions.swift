import ArgumentParser
import CPKCore
import CPKCrypto
import CPKManager

#if canImport(Glibc)
import Glibc
#endif

/// Where the Package Manager simulator keeps its state: the options every `cpk-install`
/// subcommand declares, and the simulator they open.
public struct StateOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The simulator's state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).", valueName: "dir"),
        completion: .directory)
    public var state: String?

    @Option(
        name: .customLong("device-key"),
        help: ArgumentHelp(
            "Keep the simulator's device key pair in a token (a pkcs11: URI's RSA key) or a TPM (tpm:HANDLE?tcti=TCTI, made there when absent), recorded in a new state's configuration.",
            valueName: "uri"))
    public var deviceKey: String?

    @OptionGroup public var token: TokenOptions

    public init() {}

    /// Opens the simulator for a command that only reads the state (list, status, check-state,
    /// trust list, remove, dev-export-plaintext): a state that does not exist is an error naming
    /// its path, never a new device made by a mistyped --state.
    public func openExistingManager() throws -> PackageManagerSimulator {
        let path = try StateDirectory.resolve(explicit: state)
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CPKError(.usage, "there is no device state at \(path)", reason: .stateMissing, subject: path)
        }
        return try openManager()
    }

    public func openManager() throws -> PackageManagerSimulator {
        try PackageManagerSimulator(
            statePath: try StateDirectory.resolve(explicit: state), profile: try Self.profile(), token: token.access,
            deviceKey: try deviceKey.map { try DeviceKeyReference(parsing: $0) })
    }

    /// The installed application ids, for `cpk-install remove <TAB>`: the state the command
    /// line names (--state), else the default one; nothing when it does not exist yet (a
    /// completion never creates a state) or cannot be read.
    @Sendable public static func installedIDs(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        let explicit = CompletionWords.value(of: "--state", in: words, completing: index)
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
