import ArgumentParser
import CPKCore
import CPKEnvelope
import CPKPackage

/// Where a tool writes the package it produces.
public struct PackageOutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"))
    public var output = "-"

    @Flag(help: "Write a finished .cpk package instead of an envelope (the last step of a pipeline).")
    public var cpk = false

    public init() {}

    public var format: OutputFormat { cpk ? .cpk : .envelope }

    /// Opens the destination, lets `body` write the package, and makes it visible only if
    /// `body` succeeded.
    public func write(_ body: (PackageOutput) throws -> Void) throws {
        try writePackage(to: output, as: format, body)
    }
}

/// Opens `path` ("-" for standard output), lets `body` write a package in `format`, and makes
/// the file visible only if `body` succeeded.
public func writePackage(to path: String, as format: OutputFormat, _ body: (PackageOutput) throws -> Void) throws {
    let file = try OutputFile(path: path, binary: true)
    try body(makePackageOutput(format, to: file.descriptor))
    try file.commit()
}

/// The package a tool reads: an envelope or a .cpk, from a file or standard input.
public struct PackageInputArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("An envelope or .cpk package; - is standard input.", valueName: "input"))
    public var input = "-"

    public init() {}

    public func open() throws -> PackageInput { try openPackage(input) }
}

extension LogEntry {
    /// A log entry for a step taken now by `tool`.
    public static func now(tool: String, action: String) throws -> LogEntry {
        LogEntry(tool: tool, action: action, time: try Timestamp.buildTime())
    }
}
