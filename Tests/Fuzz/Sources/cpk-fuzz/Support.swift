import CPKCore

#if canImport(Glibc)
import Glibc
#endif

// What every target checks besides "no crash": bad input is refused with a CPKError (the one
// error type, which the tools turn into exit status 1 or 2) whose message is one non-empty
// line; and what a parser accepts behaves (round trips, sizes within the input).

/// A finding that is not a crash of its own: stop here so libFuzzer saves the input.
func expect(_ condition: @autoclosure () throws -> Bool, _ message: @autoclosure () -> String) rethrows {
    if try !condition() { fatalError("fuzz expectation failed: \(message())") }
}

/// Runs one parsing step. A `CPKError` with a one-line message is the expected refusal of
/// bad input (nil is returned); any other error type is a finding, and so is a message that
/// shows one of the `secrets`.
func refusing<T>(_ step: String, secrets: [String] = [], _ body: () throws -> T) -> T? {
    do {
        return try body()
    } catch let error as CPKError {
        expectOneLine(error, step)
        for secret in secrets {
            expect(!error.message.contains(secret), "\(step): the message shows \(secret): \(error.message)")
        }
        return nil
    } catch {
        fatalError("\(step) threw \(type(of: error)), not a CPKError: \(error)")
    }
}

/// The tools print `tool: message` as exactly one line on standard error, with no control
/// character a hostile input could have put there (CPKError shows them escaped).
func expectOneLine(_ error: CPKError, _ step: String) {
    expect(!error.message.isEmpty, "\(step): an empty error message")
    expect(
        !error.message.unicodeScalars.contains { $0.properties.generalCategory == .control },
        "\(step): the error message holds a control character: \(error.message.debugDescription)")
}

/// An anonymous temporary file reused for every input: the parsers that want a descriptor
/// (random access for a `.cpk`, sequential reads for an envelope) read the input from here,
/// and the writers write their output here.
final class ScratchFile: @unchecked Sendable {
    let descriptor: FileDescriptor

    init(_ purpose: String) {
        do {
            descriptor = try TemporaryFile.anonymous(purpose: purpose, name: purpose)
        } catch {
            fatalError("cpk-fuzz: \(error)")
        }
    }

    /// Empties the file and rewinds it, for a writer.
    func reset() -> FileDescriptor {
        guard ftruncate(descriptor.fd, 0) == 0, lseek(descriptor.fd, 0, SEEK_SET) == 0 else {
            fatalError("cpk-fuzz: cannot reset the scratch file: \(String(cString: strerror(errno)))")
        }
        return descriptor
    }

    /// The file holding exactly `bytes`, positioned at its start, for a reader.
    func holding(_ bytes: [UInt8]) -> FileDescriptor {
        let file = reset()
        do {
            try file.write(bytes)
        } catch {
            fatalError("cpk-fuzz: cannot fill the scratch file: \(error)")
        }
        guard lseek(file.fd, 0, SEEK_SET) == 0 else { fatalError("cpk-fuzz: cannot rewind the scratch file") }
        return file
    }

    /// Rewinds the file after a writer, for a reader of what it wrote.
    func rewound() -> FileDescriptor {
        guard lseek(descriptor.fd, 0, SEEK_SET) == 0 else { fatalError("cpk-fuzz: cannot rewind the scratch file") }
        return descriptor
    }

    /// A path that opens this file afresh (for APIs that take a file name).
    var path: String { "/proc/self/fd/\(descriptor.fd)" }
}

/// A pipe whose read end holds `bytes` followed by end of file, as a tool's standard input
/// would in a pipeline; nil when the input does not fit in the pipe's buffer.
func pipeHolding(_ bytes: [UInt8], name: String) -> FileDescriptor? {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else { fatalError("cpk-fuzz: cannot make a pipe") }
    let reader = FileDescriptor(fd: ends[0], name: name, owned: true)
    let writer = FileDescriptor(fd: ends[1], name: "pipe writer", owned: true)
    if bytes.count > 65536 {  // the default capacity; larger inputs need a larger buffer
        let pipeSetSize: Int32 = 1031  // F_SETPIPE_SZ
        guard fcntl(writer.fd, pipeSetSize, 1 << 20) >= bytes.count else { return nil }
    }
    do {
        try writer.write(bytes)
    } catch {
        fatalError("cpk-fuzz: cannot fill the pipe: \(error)")
    }
    return reader
}

/// Reads a package input's payload whole (the inputs are small), then its deferred streams.
func drain(_ read: () throws -> UnsafeRawBufferPointer?) throws -> [UInt8] {
    var payload: [UInt8] = []
    while let chunk = try read() {
        payload.append(contentsOf: chunk)
    }
    return payload
}
