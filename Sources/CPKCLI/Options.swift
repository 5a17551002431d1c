import ArgumentParser
import CPKCore
import CPKEnvelope
import CPKPackage

/// Where a tool writes the package it produces.
public struct PackageOutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    public var output = "-"

    @Flag(help: "Write a finished .cpk package instead of an envelope (the last step of a pipeline).")
    public var cpk = false

    @Option(help: ArgumentHelp(
        "Write a finished .cpk as an OCI artifact tagged TAG (default latest) in the OCI image layout DIR, created if missing; other tags are kept.",
        valueName: "dir:tag"), completion: .directory)
    public var oci: String?

    public init() {}

    public func validate() throws {
        if oci != nil && output != "-" {
            throw ValidationError("--oci and --output both name a destination; give one")
        }
    }

    /// A finished .cpk with --cpk or --oci, and also when -o names a `*.cpk` file: a file named
    /// so is never an envelope (no reader would take it for one).
    public var format: OutputFormat { cpk || oci != nil || Self.namesPackage(output) ? .cpk : .envelope }

    /// True when `path` is named like a finished package.
    public static func namesPackage(_ path: String) -> Bool { path.lowercased().hasSuffix(".cpk") }

    /// True when the package goes to standard output (neither -o FILE nor --oci).
    public var isStandardOutput: Bool { oci == nil && output == "-" }

    /// With `json`, the report takes standard output: the package must go to a file or a layout.
    public func requireDestination(besideJSON json: Bool) throws {
        if json && isStandardOutput {
            throw ValidationError("--json prints the report on standard output: write the package with -o FILE or --oci")
        }
    }

    /// Opens the destination, lets `body` write the package, and makes it visible only if
    /// `body` succeeded.
    public func write(_ body: (PackageOutput) throws -> Void) throws {
        if let oci {
            try writePackage(toOCI: oci, body)
        } else {
            try writePackage(to: output, as: format, body)
        }
    }
}

/// Writes a `.cpk` as an OCI artifact into the layout `DIR[:TAG]` names; the tag appears in
/// index.json only if `body` succeeded.
public func writePackage(toOCI destination: String, _ body: (PackageOutput) throws -> Void) throws {
    let location = try OCILocation(parsing: destination, what: "--oci")
    _ = try OCILayoutWriter.write(to: location, created: try Timestamp.buildTime(), body)
}

/// Opens `path` ("-" for standard output), lets `body` write a package in `format`, and makes
/// the file visible only if `body` succeeded.
public func writePackage(to path: String, as format: OutputFormat, _ body: (PackageOutput) throws -> Void) throws {
    if format == .envelope && PackageOutputOptions.namesPackage(path) {
        throw CPKError.usage("\(path) is named like a finished .cpk, but this writes an envelope: name it e.g. app.env")
    }
    let file = try OutputFile(path: path, binary: true)
    try body(makePackageOutput(format, to: file.descriptor))
    try file.commit()
}

/// The package a tool reads: an envelope or a .cpk, from a file or standard input.
public struct PackageInputArgument: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "An envelope or .cpk package; - is standard input; oci:DIR[:TAG] is a .cpk in an OCI image layout.",
        valueName: "input"), completion: .file())
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
