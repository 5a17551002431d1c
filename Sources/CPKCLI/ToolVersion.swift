import CPKCrypto
import CPKCBOR

/// What `--version` prints: the tool, the project's version (kept here, in one place), and the
/// libraries that do the cryptography and the CBOR.
public enum ToolVersion {
    public static let project = "0.10.0"

    public static func line(_ tool: String) -> String {
        "\(tool) \(project) (cpk-tools; \(OpenSSLLibrary.version); \(LibCBORLibrary.version))"
    }
}
