import CPKCore
import CPKEnvelope
import CPKFormat

/// Copies a package from an input to an output unchanged but for its head and log: the way
/// `cpk-pack finish` writes a `.cpk` and `cpk-unpack envelope` writes an envelope.
public func copyPackage(from input: PackageInput, to output: PackageOutput, appending entry: LogEntry?) throws {
    try output.begin(head: input.head, log: input.log + (entry.map { [$0] } ?? []))
    try passPayload(from: input, to: output)
    try output.finish(deferredStreams: try input.deferredStreams())
}

/// Passes the payload from `input` to `output` unchanged. Where a pipe is on either side the
/// kernel moves the bytes (`splice`), and they are never copied through this process: a
/// pass-through step then costs next to nothing beyond the step before it.
public func passPayload(from input: PackageInput, to output: PackageOutput) throws {
    while try input.passNextPayloadChunk({ try output.writePayload(passing: $0) }) {}
}
