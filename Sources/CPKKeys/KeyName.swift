import CPKCore

/// Key names: an application id such as `test`, or a Confidential Containers KBS resource
/// (`default/key/key_id1`) in any of the URI forms of docs/keys.md §5.
public enum KeyName {
    public static let maximumLength = 512

    /// Checks that a key name is usable: not empty, bounded, no control characters (it ends up
    /// in JSON, URLs and one-line messages).
    public static func validate(_ name: String) throws {
        if let problem = problem(with: name) { throw CPKError(.usage, problem, reason: name.isEmpty ? .keyNameEmpty : nil) }
    }

    /// What is wrong with a name, or nil.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "the key name is empty; give the application id" }
        if name.utf8.count > maximumLength { return "the key name is longer than \(maximumLength) bytes" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "the key name contains control characters"
        }
        return nil
    }

    /// The form a store keeps a name under: `repo/type/tag` for any KBS resource URI, the name
    /// itself otherwise.
    public static func canonical(_ name: String) -> String {
        KBSResourceURI(parsing: name)?.path ?? name
    }

    /// Finds `name` among a store's names: an exact match first, else the one name with the same
    /// canonical form (so `kbs:///default/key/k1` finds `default/key/k1`).
    /// - Returns: the store's spelling of the name, or nil when absent.
    public static func match(_ name: String, in names: [String]) throws -> String? {
        if names.contains(name) { return name }
        let wanted = canonical(name)
        let matches = names.filter { canonical($0) == wanted }
        guard matches.count <= 1 else {
            throw CPKError.invalid(
                "the key name \"\(name)\" matches several entries (\(matches.joined(separator: ", "))); give one exactly")
        }
        return matches.first
    }
}

/// A Confidential Containers KBS resource: `<repository>/<type>/<tag>`, optionally on a host.
///
/// Accepted spellings: `kbs:///repo/type/tag`, `kbs://host[:port]/repo/type/tag`,
/// `host/repo/type/tag`, `/repo/type/tag`, and the bare path `repo/type/tag`.
public struct KBSResourceURI: Sendable, Equatable {
    public let host: String?
    public let repository: String
    public let type: String
    public let tag: String

    /// The normal form, as key files such as `aa-offline_fs_kbc-keys.json` name resources.
    public var path: String { "\(repository)/\(type)/\(tag)" }

    public init?(parsing text: String) {
        var rest = Substring(text)
        var host: Substring? = nil
        if rest.hasPrefix("kbs://") {
            rest = rest.dropFirst("kbs://".count)
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            host = rest[..<slash].isEmpty ? nil : rest[..<slash]
            rest = rest[rest.index(after: slash)...]
        } else if rest.contains("://") {
            return nil  // another scheme: not a KBS resource
        } else if rest.hasPrefix("/") {
            rest = rest.dropFirst()
        }
        var segments = rest.split(separator: "/", omittingEmptySubsequences: false)
        if segments.count == 4 && host == nil && !text.hasPrefix("/") && !text.hasPrefix("kbs:") {
            host = segments.removeFirst()  // host/repo/type/tag
        }
        guard segments.count == 3, segments.allSatisfy(Self.isValidSegment), host.map(Self.isValidHost) ?? true else {
            return nil
        }
        self.host = host.map(String.init)
        repository = String(segments[0])
        type = String(segments[1])
        tag = String(segments[2])
    }

    private static func isValidSegment(_ segment: Substring) -> Bool {
        !segment.isEmpty && segment != "." && segment != ".."
            && segment.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && $0 != "?" && $0 != "#" }
    }

    private static func isValidHost(_ host: Substring) -> Bool {
        !host.isEmpty && host.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-:[]_".unicodeScalars.contains($0) }
    }
}
