#if canImport(Glibc)
import Glibc
#endif

import CPKCore

/// Where `distribute` writes signed documents, and how one written in this run is taken back
/// when a second authenticated report claims the same device id.
///
/// - A directory gets `<device_id>.json` per device, each appearing complete. Whatever else is
///   at that name (a symbolic link, FIFO, directory, another user's file: anyone who can write
///   the directory may plant one) refuses that device only, and is never written through.
/// - JSON lines go first to an anonymous staging file, with only each document's place kept in
///   memory; `finish` copies the documents not taken back, in order, to the output.
final class ReleaseOutput {
    private enum Target {
        case directory(String)
        case lines(OutputFile, staging: FileDescriptor)
    }

    private let target: Target
    /// Directory mode: the file each served device got in this run, to take back only that.
    private var written: [String: (device: UInt64, inode: UInt64)] = [:]
    /// Lines mode: where each served device's line is in the staging file, and the order.
    private var staged: [String: (offset: UInt64, length: Int)] = [:]
    private var stagedOrder: [String] = []
    private var stagedEnd: UInt64 = 0

    init(_ output: FleetDistributor.Output) throws {
        switch output {
        case .directory(let path):
            try Self.makeDirectory(path)
            target = .directory(path)
        case .lines(let path):
            target = .lines(
                try OutputFile(path: path, binary: false), staging: try TemporaryFile.anonymous(purpose: "the documents of this run"))
        }
    }

    /// A missing output directory is made private to its owner: the documents are wrapped keys,
    /// harmless to others, but the names list the fleet.
    private static func makeDirectory(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw CPKError.io("\(path) is not a directory") }
            return
        }
        // Missing parents are made too, as --oci makes its layout.
        let parent = String(path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/"))
        if !parent.isEmpty, stat(parent, &info) != 0, errno == ENOENT { try makeDirectory(parent) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw FileDescriptor.systemError("cannot create the directory \(path)")
        }
    }

    private func path(in directory: String, of deviceID: String) -> String { "\(directory)/\(deviceID).json" }

    /// Refuses the device when its document's place holds anything but this user's regular
    /// file (or nothing), before any key is wrapped for it.
    func requireWritable(_ deviceID: String) throws {
        guard case .directory(let directory) = target else { return }
        let path = path(in: directory, of: deviceID)
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw refused(path, "cannot be inspected (\(String(cString: strerror(errno))))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG where info.st_uid == geteuid(): return
        case S_IFREG: throw refused(path, "is a file of uid \(info.st_uid), not of this user")
        case S_IFLNK: throw refused(path, "is a symbolic link")
        case S_IFDIR: throw refused(path, "is a directory")
        case S_IFIFO: throw refused(path, "is a FIFO")
        default: throw refused(path, "is not a regular file")
        }
    }

    private func refused(_ path: String, _ what: String) -> CPKError {
        CPKError(.checkFailed, "\(path) \(what); nothing was written there: remove it", reason: .outputRefused)
    }

    /// The generation of the document this device got in an earlier run, read from its
    /// statement without trusting anything else in it; nil when there is none or it cannot be
    /// read (a generation from the clock is then above it anyway).
    func previousGeneration(of deviceID: String) -> UInt64? {
        guard case .directory(let directory) = target,
            let file = try? FileDescriptor.open(regularFile: path(in: directory, of: deviceID)),
            let bytes = try? SmallInput.read(file, limit: KeyRelease.sizeLimit, what: "the previous document"),
            let document = try? JSONValue(parsing: bytes), let release = KeyRelease.signedPlace(in: document),
            case .string(let statement)? = release["statement"],
            let fields = try? JSONValue(parsing: Array(statement.utf8)),
            case .number(let text)? = fields["generation"]
        else { return nil }
        return UInt64(text)
    }

    func write(_ document: JSONValue, deviceID: String) throws {
        let text = Array((document.compactText + "\n").utf8)
        switch target {
        case .directory(let directory):
            let file = try OutputFile(path: path(in: directory, of: deviceID), binary: false)
            try file.descriptor.write(text)
            var info = stat()
            guard fstat(file.descriptor.fd, &info) == 0 else { throw FileDescriptor.systemError("cannot inspect \(file.descriptor.name)") }
            try file.commit()
            written[deviceID] = (UInt64(info.st_dev), UInt64(info.st_ino))
        case .lines(_, let staging):
            try staging.write(text)
            staged[deviceID] = (stagedEnd, text.count)
            stagedOrder.append(deviceID)
            stagedEnd += UInt64(text.count)
        }
    }

    /// Takes back the document written for `deviceID` in this run, if any: the file itself (not
    /// one put there since under that name), or the staged line.
    func withdraw(_ deviceID: String) throws {
        switch target {
        case .directory(let directory):
            guard let file = written.removeValue(forKey: deviceID) else { return }
            let path = path(in: directory, of: deviceID)
            var info = stat()
            guard lstat(path, &info) == 0, UInt64(info.st_dev) == file.device, UInt64(info.st_ino) == file.inode else { return }
            guard unlink(path) == 0 || errno == ENOENT else { throw FileDescriptor.systemError("cannot remove \(path)") }
        case .lines:
            staged[deviceID] = nil
        }
    }

    /// Lines mode: copies the staged lines that were not taken back to the output, and makes it
    /// appear. Directory mode: nothing left to do.
    func finish() throws {
        guard case .lines(let output, let staging) = target else { return }
        for deviceID in stagedOrder {
            guard let place = staged[deviceID] else { continue }
            var line = [UInt8](repeating: 0, count: place.length)
            try line.withUnsafeMutableBytes { try staging.read(into: $0, at: place.offset, what: "the staged documents") }
            try output.descriptor.write(line)
        }
        try output.commit()
    }
}
