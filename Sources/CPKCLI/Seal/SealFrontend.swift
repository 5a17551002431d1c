import CPKCore
import CPKCrypto
import CPKEnvelope
import CPKPackage

/// `cpk-seal`'s one entry point: the tool declares its options; the order of the steps (the
/// package is checked sealable before any key is fetched), the key's lifetime, the log entry
/// and the progress line are here, the encryption in `Sealer`.
public enum SealFrontend {
    static let tool = "cpk-seal"

    /// Encrypts the payload of `input` under the class key `keySource` gives (named by the
    /// option, else the package's id), written as `output` says.
    /// - Parameter keyCheck: record the class key's check value (docs/format.md §4.1).
    public static func seal(
        input: String, keySource: ClassKeyOptions, keyCheck: Bool = true, output: PackageOutputOptions, messages: MessageOptions
    ) throws {
        let package = try openPackage(input)
        try Sealer.checkSealable(package.head, name: package.name)  // before fetching any key
        let keyName = keySource.keyName ?? package.head.manifest.id
        var key = try keySource.classKey(defaultName: keyName, tool: tool, messages: messages)
        defer { wipe(&key) }
        let entry = try LogEntry.now(tool: tool, action: "encrypted the payload with AES-256-GCM, key \(keyName)")
        let progress = messages.watch(package, tool: tool, verb: "sealing")
        try output.write { try Sealer.seal(package, key: key, keyName: keyName, keyCheck: keyCheck, log: entry, to: $0) }
        progress?.finish()
        messages.step(tool, "encrypted the payload of \(TerminalText.escaped(package.name)) with AES-256-GCM, key \(TerminalText.escaped(keyName))")
    }
}
