import CPKCore
import CPKEnvelope
import CPKFormat

/// Copies a package from an input to an output unchanged but for its head and log: the way
/// `cpk-pack finish` writes a `.cpk` and `cpk-unpack envelope` writes an envelope.
public func copyPackage(from input: PackageInput, to output: PackageOutput, appending entry: LogEntry?) throws {
    try output.begin(head: input.head, log: input.log + (entry.map { [$0] } ?? []))
    while let chunk = try input.nextPayloadChunk() {
        try output.writePayload(chunk)
    }
    try output.finish(deferredStreams: try input.deferredStreams())
}
