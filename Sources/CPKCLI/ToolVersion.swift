import CPKCrypto
import CPKCBOR

/// What `--version` prints: the tool, the project's version, and the libraries that do the
/// cryptography and the CBOR.
public enum ToolVersion {
    /// The VERSION file's, which is the version's one source: `make check-docs`
    /// (scripts/check-version.py) fails when they differ, and the release packaging refuses a
    /// binary whose --version does not name it.
    public static let project = "0.10.0"

    public static func line(_ tool: String) -> String {
        "\(tool) \(project) (cpk-tools; \(OpenSSLLibrary.version); \(LibCBORLibrary.version))"
    }
}
