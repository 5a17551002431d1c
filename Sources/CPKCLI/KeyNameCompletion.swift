import CPKCore
import CPKKeys

#if canImport(Glibc)
import Glibc
#endif

/// Key names for completion (`--key-name <TAB>`, `cpk-install sync --id <TAB>`): the names in
/// the file store the command line names with --file-store, else the one CP_FILE_KEY_SOURCE
/// names. Nothing for a key service (asking one on every TAB would be slow and noisy), a store
/// on standard input, or a store that cannot be read.
public enum KeyNameCompletion {
    @Sendable public static func fromFileStore(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        var path: String? = nil
        for (position, word) in words.enumerated() {
            if word == "--file-store", position + 1 < words.count, position + 1 != index {
                path = words[position + 1]
            } else if word.hasPrefix("--file-store=") {
                path = String(word.dropFirst("--file-store=".count))
            }
        }
        if path == nil, let value = getenv(KeyStoreLocation.fileSourceVariable) {
            path = String(cString: value)
        }
        guard let path, !path.isEmpty, path != "-", let store = try? FileKeyStore(path: path) else { return [] }
        return store.entries.map(\.name).filter { $0.hasPrefix(prefix) }
    }
}
