import CPKCore
import CPKCrypto

/// Reads the small inputs of the key tools (keys, key stores, wrapped keys) whole, from a file
/// or standard input (`-`), with a size limit so a wrong file cannot exhaust memory.
public enum SmallInput {
    /// Large enough for any key, certificate or wrapped-key document.
    public static let keyLimit = 1 << 16
    /// Large enough for a key store or a device-twin document with thousands of keys.
    public static let documentLimit = 16 << 20

    /// - Parameters:
    ///   - path: a file, `/dev/fd/N`, or `-` for standard input.
    ///   - what: how messages name the input, e.g. "the public key".
    public static func read(_ path: String, limit: Int, what: String) throws -> [UInt8] {
        let file = path == "-" ? FileDescriptor.standardInput : try FileDescriptor.open(forReading: path)
        return try read(file, limit: limit, what: what)
    }

    /// Reads a file found by listing a directory, whose name and type whoever can write the
    /// directory chose: a symbolic link, FIFO, socket or device is refused (bad input) without
    /// following it or waiting for a writer, so a planted entry cannot block or redirect a run.
    public static func readListedFile(_ path: String, limit: Int, what: String) throws -> [UInt8] {
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(regularFile: path)
        } catch FileDescriptor.NotRegularFile.symbolicLink {
            throw CPKError.invalid("\(what) (\(path)) is a symbolic link; give the file itself")
        } catch FileDescriptor.NotRegularFile.missing {
            throw CPKError.io("cannot open \(path) for reading: No such file or directory")  // gone since the listing
        } catch FileDescriptor.NotRegularFile.special {
            throw CPKError.invalid("\(what) (\(path)) is not a regular file")
        }
        return try read(file, limit: limit, what: what)
    }

    static func read(_ file: FileDescriptor, limit: Int, what: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 14)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try file.read(into: $0) }
            if count == 0 { break }
            bytes += chunk[..<count]
            guard bytes.count <= limit else {
                wipe(&chunk)
                throw CPKError.invalid("\(what) (\(file.name)) is larger than \(limit) bytes; is it the right file?")
            }
        }
        wipe(&chunk)
        guard !bytes.isEmpty else { throw CPKError.invalid("\(what) (\(file.name)) is empty") }
        return bytes
    }

    /// How messages name an input path: `-` is standard input.
    public static func displayName(_ path: String) -> String { path == "-" ? "standard input" : path }

    /// Runs `body` (which reads or parses the input at `path`); a bad-input or failed-check
    /// error is prefixed with the input's name, so a message says which file was wrong.
    public static func locating<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as CPKError where error.kind == .invalidInput || error.kind == .checkFailed {
            throw error.located(in: displayName(path))
        }
    }

    /// Refuses two inputs that both want standard input.
    public static func requireOneStandardInput(_ inputs: [(path: String, option: String)]) throws {
        let onStdin = inputs.filter { $0.path == "-" }.map(\.option)
        guard onStdin.count <= 1 else {
            throw CPKError.usage("only one input can be standard input, but \(onStdin.joined(separator: " and ")) both are '-'")
        }
    }
}
