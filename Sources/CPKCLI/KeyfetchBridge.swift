import CPKCore
import CPKCrypto
import CPKKeys

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP key service reached through a `cpk-keyfetch` process.
///
/// It lives in CPKCLI, beside the other code that knows the tools' names and flags, rather
/// than in CPKKeys: the library asks only for a `KeySource` (`KeyStoreLocation.source`), and
/// which program answers, with which command line, is the tools' business.
///
/// The tools that stream payloads (cpk-seal, cpk-unpack) carry no network code, and a hostile
/// key service's answer meets one small process with a hard size limit; the key traffic is
/// cpk-keyfetch's job. The public key goes to its standard input, the wrapped-key document comes back on its
/// standard output, and its one-line error becomes this tool's. The endpoint URL may carry a
/// secret (user:password@, an Azure Functions `?code=`): it goes in the child's environment
/// as CP_CLOUD_KEY_SOURCE, which only the same user can read, never on its argv, which every
/// local user sees in `ps`. A CA file to trust goes there too, as CPK_KEY_SERVICE_CA.
public struct KeyfetchBridge: KeySource {
    public let endpoint: String
    public let timeout: Double
    /// The CA file for an https endpoint; nil leaves the child's inherited choice alone.
    public let caFile: String?

    public init(endpoint: String, timeout: Double, caFile: String? = nil) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.caFile = caFile
    }

    public var description: String { "the key service (through cpk-keyfetch)" }

    public func wrappedKey(named name: String, to publicKey: PublicKey, padding: KeyWrapPadding) throws -> WrappedKey {
        let arguments = [
            "cpk-keyfetch", "fetch", "--key-name", name, "--timeout", String(timeout),
            "--padding", padding.rawValue, "--to", "-",
        ]
        let result = try ChildProcess.run(
            Self.keyfetchPath(), arguments: arguments, environment: Self.childEnvironment(endpoint: endpoint, caFile: caFile),
            input: publicKey.subjectPublicKeyInfoDER)
        guard result.status == 0 else {
            let message = String(decoding: result.error, as: UTF8.self)
                .split(separator: "\n").first.map(String.init) ?? "cpk-keyfetch failed"
            let reason = message.hasPrefix("cpk-keyfetch: ") ? String(message.dropFirst(14)) : message
            throw CPKError(result.status == 1 ? .invalidInput : .io, reason)
        }
        let key = try WrappedKey(decoding: result.output)
        _ = try key.resolvedName(expecting: name)
        guard key.padding == padding, key.wrappingKeySHA256 == (try publicKey.fingerprint) else {
            throw CPKError.invalid("cpk-keyfetch returned a key for another padding or public key")
        }
        return key
    }

    /// This process's environment with the key-store variables replaced: the endpoint as the
    /// cloud source, no file source (which would make the child's choice ambiguous), and the
    /// CA file when one is given.
    static func childEnvironment(endpoint: String, caFile: String? = nil) -> [String] {
        var replaced = [KeyStoreLocation.fileSourceVariable, KeyStoreLocation.cloudSourceVariable]
        if caFile != nil { replaced.append(KeyStoreLocation.caFileVariable) }
        var entries: [String] = []
        var index = 0
        while let entry = environ[index] {
            let text = String(cString: entry)
            let name = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
            if !replaced.contains(name) { entries.append(text) }
            index += 1
        }
        entries.append("\(KeyStoreLocation.cloudSourceVariable)=\(endpoint)")
        if let caFile { entries.append("\(KeyStoreLocation.caFileVariable)=\(caFile)") }
        return entries
    }

    /// cpk-keyfetch beside the running tool, else the one on PATH.
    static func keyfetchPath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if length > 0 {
            let path = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let slash = path.lastIndex(of: "/") {
                let sibling = String(path[..<slash]) + "/cpk-keyfetch"
                if access(sibling, X_OK) == 0 { return sibling }
            }
        }
        return "cpk-keyfetch"
    }
}

/// Runs a program with bytes on its standard input and collects its output and errors.
/// For small exchanges only: the input must fit a pipe buffer, the outputs are bounded.
enum ChildProcess {
    struct Result {
        var status: Int32
        var output: [UInt8]
        var error: [UInt8]
    }

    static let outputLimit = 1 << 20

    static func run(_ program: String, arguments: [String], environment: [String], input: [UInt8]) throws -> Result {
        let stdin = try makePipe(), stdout = try makePipe(), stderr = try makePipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin.read, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout.write, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr.write, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, program, &actions, nil, &argv, &envp)
        [stdin.read, stdout.write, stderr.write].forEach { _ = close($0) }
        defer { [stdout.read, stderr.read].forEach { _ = close($0) } }
        guard spawned == 0 else {
            _ = close(stdin.write)
            throw CPKError.io("cannot run \(program) to reach the key service: \(String(cString: strerror(spawned)))")
        }
        // The child may exit before reading its input: then this write fails with EPIPE
        // instead of killing the tool, and the child's exit status tells what went wrong.
        let previous = signal(SIGPIPE, SIG_IGN)
        let writer = FileDescriptor(fd: stdin.write, name: "the input of \(program)", owned: false)
        try? writer.write(input)
        _ = close(stdin.write)
        signal(SIGPIPE, previous)
        let output = try readAll(stdout.read, what: "the output of \(program)")
        let error = try readAll(stderr.read, what: "the errors of \(program)")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        return Result(status: exited ? (status >> 8) & 0xff : 2, output: output, error: error)
    }

    private static func readAll(_ fd: Int32, what: String) throws -> [UInt8] {
        let file = FileDescriptor(fd: fd, name: what, owned: false)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 14)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try file.read(into: $0) }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
            guard bytes.count <= outputLimit else { throw CPKError.invalid("\(what) is larger than \(outputLimit) bytes") }
        }
    }

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw FileDescriptor.systemError("cannot make a pipe") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }  // only the dup2'd copies reach the child
        return (ends[0], ends[1])
    }
}
