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
        var path = CompletionWords.value(of: "--file-store", in: words, completing: index)
        if path == nil, let value = getenv(KeyStoreLocation.fileSourceVariable) {
            path = String(cString: value)
        }
        guard let path, !path.isEmpty, path != "-", let store = try? FileKeyStore(path: path) else { return [] }
        return store.entries.map(\.name).filter { $0.hasPrefix(prefix) }
    }
}
