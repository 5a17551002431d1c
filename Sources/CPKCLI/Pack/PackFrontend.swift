import ArgumentParser
import CPKCore
import CPKEnvelope
import CPKFormat
import CPKPackage

/// `cpk-pack`'s subcommands, one entry point each: the tool declares and validates options;
/// opening the payload, the progress line and the log entry happen here, the packing itself
/// in `Packer`.
public enum PackFrontend {
    static let tool = "cpk-pack"

    /// What `cpk-pack create` is asked to make.
    public struct Creation {
        public var payload: String
        public var id: String
        public var displayName: String
        public var vendor: String
        public var target: Target
        public var appVersion: String
        /// RFC 3339; nil: now, or SOURCE_DATE_EPOCH when set.
        public var date: String?
        public var output: PackageOutputOptions
        public var messages: MessageOptions

        public init(
            payload: String, id: String, displayName: String, vendor: String, target: Target, appVersion: String,
            date: String?, output: PackageOutputOptions, messages: MessageOptions
        ) {
            (self.payload, self.id, self.displayName, self.vendor, self.target) = (payload, id, displayName, vendor, target)
            (self.appVersion, self.date, self.output, self.messages) = (appVersion, date, output, messages)
        }
    }

    /// What `cpk-pack create` accepts as an application id (1 to 128 characters of ASCII
    /// letters, digits and `. _ - / :`), a version (three numbers) and a date (RFC 3339).
    public static func validate(id: String, appVersion: String, date: String?) throws {
        guard !id.isEmpty, id.utf8.count <= 128, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-/:".contains($0)) })
        else {
            throw ValidationError("--id must be 1 to 128 characters of letters, digits and . _ - / :")
        }
        guard Version(dotted: appVersion, date: "") != nil else {
            throw ValidationError("--app-version must look like 1.2.0 (three numbers)")
        }
        if let date, !Timestamp.isRFC3339(date) {
            throw ValidationError("--date must be an RFC 3339 timestamp, e.g. 2026-11-26T08:00:00Z")
        }
    }

    /// `cpk-pack create`: a payload into an envelope (or a .cpk).
    public static func create(_ request: Creation) throws {
        let buildDate = try request.date ?? Timestamp.buildTime()
        guard let version = Version(dotted: request.appVersion, date: buildDate) else {
            throw CPKError.usage("the application version must look like 1.2.0 (three numbers)")
        }
        let identity = PackageIdentity(
            id: request.id, name: request.displayName, vendor: request.vendor, target: request.target, version: version)
        let source = request.payload == "-" ? FileDescriptor.standardInput : try FileDescriptor.open(forReading: request.payload)
        let entry = try LogEntry.now(tool: tool, action: "packed \(source.name) as \(request.id) \(request.appVersion)")
        let status = try source.status()
        let progress = request.messages.progressLine(tool, "packing", source.name, total: status.isRegularFile ? status.size : nil)
        try request.output.write {
            try Packer.pack(payload: source, identity: identity, log: [entry], to: $0, progress: progress.map { line in { line.add($0) } })
        }
        progress?.finish()
        request.messages.step(tool, "packed \(TerminalText.escaped(source.name)) as \(request.id) \(request.appVersion)")
    }

    /// `cpk-pack finish`: an envelope (or a .cpk) written as a finished .cpk, to a file or an
    /// OCI image layout (`oci`, DIR:TAG).
    public static func finish(input: String, output: String, oci: String?, messages: MessageOptions) throws {
        let package = try openPackage(input)
        let progress = messages.watch(package, tool: tool, verb: "finishing")
        defer { progress?.finish() }
        if let oci {
            try writePackage(toOCI: oci) { try copyPackage(from: package, to: $0, appending: nil) }
        } else {
            try writePackage(to: output, as: .cpk) { try copyPackage(from: package, to: $0, appending: nil) }
        }
    }
}
