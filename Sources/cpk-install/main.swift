import ArgumentParser
import CPKCLI
import CPKCore
import CPKCrypto
import CPKKeys
import CPKManager
import CPKPackage

#if canImport(Glibc)
import Glibc
#endif

struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-install",
        abstract: "Install packages into the Confidential Package Manager (its simulator where there is no TEE).",
        discussion: """
            cpk-install drives the Package Manager contract: it exports the device public key, \
            installs class keys wrapped to it, and deploys packages, whose AES-GCM tag, \
            plaintext digest and signature the Package Manager checks before anything is \
            installed. On machines without a TEE the Package Manager is a simulator keeping its \
            state (device key pair, storage key, class keys, installed applications, all \
            private) in --state DIR, else $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm or \
            ~/.local/state/cpk/cpm.

            Examples:
              cpk-install sync --id test --file-store test.json
              cpk-install public-key | cpk-keyfetch --name test --file-store test.json \\
                | cpk-install add-key
              cpk-install add-key --id test wrapped.b64      # a base64 wrapped key
              cpk-install app.cpk                            # install (the default)
              cpk-install install --ca ca.pem --json app.cpk
              cpk-install list
              cpk-install dev-export-plaintext test -o app.bin  # simulator only
              cpk-install remove test

            Exit status: 0 success, 1 a check failed (signer, version, class key, tag, digest, \
            signature) or the input is invalid, 2 usage or I/O error.
            """,
        subcommands: [
            InstallPackage.self, PublicKeyExport.self, AddKey.self, Sync.self, ListApplications.self, Remove.self,
            DevExportPlaintext.self, Trust.self, Status.self, CheckState.self,
        ],
        defaultSubcommand: InstallPackage.self)
}

/// Where the simulator keeps its state.
struct StateOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The simulator's state directory (default: $CPK_CPM_STATE, else $XDG_STATE_HOME/cpk/cpm).", valueName: "dir"))
    var state: String?

    func openManager() throws -> PackageManagerSimulator {
        try PackageManagerSimulator(statePath: try StateDirectory.resolve(explicit: state), profile: try Self.profile())
    }

    /// CPK_CPM_CONTRACT=reference makes the simulator pose as the reference Package Manager,
    /// which verifies RSA PKCS#1 v1.5 signatures only.
    static func profile() throws -> PackageManagerSimulator.Profile {
        guard let value = getenv("CPK_CPM_CONTRACT").map({ String(cString: $0) }), !value.isEmpty else { return .full }
        guard let profile = PackageManagerSimulator.Profile(rawValue: value) else {
            let known = PackageManagerSimulator.Profile.allCases.map(\.rawValue).joined(separator: " or ")
            throw CPKError.usage("CPK_CPM_CONTRACT=\(value): the simulator poses as \(known)")
        }
        return profile
    }
}

// MARK: - install

struct InstallPackage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install a package (.cpk or envelope); the default subcommand.",
        discussion: """
            Prints the package's identity and each check: Signer, Manifest, Version \
            (anti-rollback), Class key, Tag (AES-256-GCM), Digest, Signature, Package \
            signature. Nothing is installed unless all pass; then the failing check is named \
            on standard error and the exit status is 1.

            The device's trust policy is the anchors provisioned with "cpk-install trust add" \
            and those given here (--ca, --public-key, as for cpk-verify). With a trust policy, \
            every signature must be by a trusted signer (valid, code-signing certificate; \
            chained to an anchor scoped to the application, or a pinned key; matching \
            --certificate-identity when given); the manifest (id, version, name, target) must \
            be covered by a trusted package signature, unless --accept-unauthenticated-manifest \
            (then the version does not move the anti-rollback floor); and an upgrade must come \
            from the installed version's signer, unless --allow-signer-change. Without a trust \
            policy the device is in development mode: the signature is checked against the \
            key the package carries, and the report says that nothing was authenticated.
            """)

    @OptionGroup var input: PackageInputArgument
    @OptionGroup var trust: TrustOptions
    @Flag(help: "With a trust policy, install even when no trusted signature covers the manifest (the version then does not move the anti-rollback floor).")
    var acceptUnauthenticatedManifest = false
    @Flag(help: "With a trust policy, let an upgrade come from another signer than the installed version's.")
    var allowSignerChange = false
    @Flag(help: "Install even a version older than the installed one (anti-rollback off).")
    var allowDowngrade = false
    @Flag(help: "Print the report as JSON.")
    var json = false
    @Flag(help: "Show progress on standard error (the default when it is a terminal).")
    var progress = false
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        try SmallInput.requireOneStandardInput([(input.input, "input")] + trust.inputs)
        let package = try input.open()  // first: a wrong input must not create a state
        let manager = try stateOptions.openManager()
        var options = InstallOptions(trust: try trust.policy(), allowDowngrade: allowDowngrade)
        try TrustStore.add(in: manager.state, to: &options.trust)
        options.acceptUnauthenticatedManifest = acceptUnauthenticatedManifest
        options.allowSignerChange = allowSignerChange
        let installer = PackageInstaller(manager: manager, options: options)
        if progress || FileDescriptor(fd: 2, name: "standard error", owned: false).isTerminal {
            installer.progress = ProgressLine(id: package.head.manifest.id).show
        }
        let report = installer.install(package)
        try Console.output(json ? report.json.compactText : report.text)
        if let failure = report.failure { throw failure }
    }
}

/// Progress on standard error: one line rewritten in place on a terminal, else a line per 10%.
final class ProgressLine {
    private let id: String
    private let terminal = isatty(2) == 1
    private var shown = -1

    init(id: String) { self.id = TerminalText.escaped(id) }  // the package's id, on the terminal

    func show(done: UInt64, total: UInt64) {
        let percent = total == 0 ? 100 : Int(done * 100 / total)
        let step = terminal ? percent : percent / 10 * 10
        guard step != shown else { return }
        shown = step
        let line = "cpk-install: deploying \(id): \(percent)% (\(Self.size(done)) of \(Self.size(total)))"
        if terminal {
            FileDescriptor(fd: 2, name: "standard error", owned: false).writeIgnoringErrors("\r\u{1B}[K" + line + (done == total ? "\n" : ""))
        } else {
            Console.error(line)
        }
    }
}

extension ProgressLine {
    static func size(_ bytes: UInt64) -> String {
        bytes < 1 << 20 ? "\(bytes) bytes" : "\(bytes >> 20) MiB"
    }
}

extension FileDescriptor {
    func writeIgnoringErrors(_ text: String) {
        try? write(Array(text.utf8))
    }
}

// MARK: - keys

enum DevicePublicKeyFormat: String, CaseIterable, ExpressibleByArgument {
    case pkcs1, pkcs1Pem = "pkcs1-pem", der, pem, base64, fingerprint

    func render(_ key: PublicKey) throws -> (bytes: [UInt8], binary: Bool) {
        switch self {
        case .pkcs1: return (try key.pkcs1DER(), true)
        case .pkcs1Pem: return (Array(try key.pkcs1PEM().utf8), false)
        case .der: return (key.subjectPublicKeyInfoDER, true)
        case .pem: return (Array(try key.pem().utf8), false)
        case .base64: return (Array((Base64.encode(key.subjectPublicKeyInfoDER) + "\n").utf8), false)
        case .fingerprint: return (Array((Hex.encode(try key.fingerprint) + "\n").utf8), false)
        }
    }
}

struct PublicKeyExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "public-key",
        abstract: "Write the device public key (made on first need), by default as DER RSAPublicKey.",
        discussion: """
            Formats: pkcs1 (DER RSAPublicKey, what export_device_public_key returns), pkcs1-pem, \
            der (DER SubjectPublicKeyInfo), pem, base64 (of the SubjectPublicKeyInfo, for cloud \
            contracts and device twins), fingerprint (SHA-256 of the SubjectPublicKeyInfo). The \
            private half never leaves the Package Manager.
            """)

    @Option(help: ArgumentHelp("pkcs1, pkcs1-pem, der, pem, base64 or fingerprint.", valueName: "format"))
    var format = DevicePublicKeyFormat.pkcs1
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"))
    var output = "-"
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        let manager = try stateOptions.openManager()
        let exported = try manager.exportDevicePublicKey()
        guard exported.count == (try manager.devicePublicKeyDataSize()) else {
            throw CPKError.io("the Package Manager's public key size and export disagree")
        }
        let (bytes, binary) = try format.render(try PublicKey(loading: exported))
        try writeResult(bytes, to: output, binary: binary)
    }
}

struct AddKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-key",
        abstract: "Install a class key wrapped to the device public key (install_application_key).",
        discussion: """
            Reads a wrapped-key document from cpk-keyfetch (it names the key and the public key \
            it is wrapped to, which must be this device's), or a bare wrapped key, as base64 \
            (the reference's "commandline" method) or raw bytes, which needs --id. The Package \
            Manager takes keys wrapped with RSA PKCS#1 v1.5.
            """)

    @Argument(help: ArgumentHelp("The wrapped key: a file, or - for standard input.", valueName: "input"))
    var input = "-"
    @Option(help: ArgumentHelp("The application id the key belongs to (a document names its own).", valueName: "id"))
    var id: String?
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        let bytes = try SmallInput.read(input, limit: SmallInput.keyLimit, what: "the wrapped key")
        let manager = try stateOptions.openManager()
        let device = try PublicKey(loading: try manager.exportDevicePublicKey())
        let (name, wrapped) = try resolve(try WrappedKeyInput(parsing: bytes), device: device)
        try manager.installApplicationKey(applicationID: name, wrappedKey: wrapped)
    }

    private func resolve(_ input: WrappedKeyInput, device: PublicKey) throws -> (String, [UInt8]) {
        switch input {
        case .document(let document):
            if let id, id != document.keyName {
                throw CPKError.usage("the wrapped key is for \"\(document.keyName)\", not \"\(id)\"")
            }
            guard document.padding == .pkcs1v15 else {
                throw CPKError.invalid(
                    "the key is wrapped with \(document.padding.algorithmName); the Package Manager takes RSA PKCS#1 v1.5 "
                        + "(cpk-keyfetch --padding pkcs1v15)")
            }
            let fingerprint = try device.fingerprint
            guard document.wrappingKeySHA256 == fingerprint else {
                throw CPKError.check(
                    "the key \"\(document.keyName)\" is wrapped to another public key (sha256:\(Hex.encode(document.wrappingKeySHA256).prefix(16))…), "
                        + "not to this device's (sha256:\(Hex.encode(fingerprint).prefix(16))…); fetch it for this device")
            }
            return (document.keyName, document.wrapped)
        case .bare(let wrapped):
            guard let id else { throw CPKError.usage("a bare wrapped key does not name its application: give --id") }
            let received = try WrappedKey(received: wrapped, named: id, to: device, padding: .pkcs1v15, from: "the wrapped key")
            return (id, received.wrapped)
        }
    }
}

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch an application's class key wrapped to this device, and install it, in one step.",
        discussion: """
            The reference's "sync": export the device public key, have the key store wrap the \
            class key to it (RSA PKCS#1 v1.5), install it. The key store is --file-store, \
            --url (through cpk-keyfetch), --twin (a device-twin document's \
            confidential_package_keys), else CP_FILE_KEY_SOURCE or CP_CLOUD_KEY_SOURCE.
            """)

    @Option(help: ArgumentHelp("The application id, which is also the key's name.", valueName: "id"))
    var id: String
    @OptionGroup var store: KeyStoreOptions
    @Option(help: ArgumentHelp("A device-twin JSON document with confidential_package_keys (- is standard input).", valueName: "file"))
    var twin: String?
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        try KeyName.validate(id)
        let flags = store.flags + [twin.map(KeyStoreLocation.twin)].compactMap { $0 }
        let location = try KeyStoreLocation.select(flags: flags, environment: KeyStoreLocation.processEnvironment)
        let source = try location.source { store.keyfetchProcess(endpoint: $0) }
        let manager = try stateOptions.openManager()
        let device = try PublicKey(loading: try manager.exportDevicePublicKey())
        let wrapped = try source.wrappedKey(named: id, to: device, padding: .pkcs1v15)
        try manager.installApplicationKey(applicationID: id, wrappedKey: wrapped.wrapped)
    }
}

// MARK: - installed applications

struct ListApplications: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the installed applications: id, name, version, size, installed at.")

    @Flag(help: "Print JSON instead of text.") var json = false
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        let listing = try stateOptions.openManager().applicationListing()
        let applications = listing.applications
        if json {
            let damaged = listing.damaged.map { JSONValue.object([("id", .string($0.id)), ("damaged", .string($0.problem.message))]) }
            try Console.output(JSONValue.array(applications.map(Self.json) + damaged).compactText)
            try Self.requireUndamaged(listing)
            return
        }
        let listed = [["ID", "NAME", "VERSION", "SIZE", "INSTALLED AT"]]
            + applications.map { [$0.id, $0.description.name, $0.description.version.dotted, String($0.size), $0.installedAt] }
            + listing.damaged.map { [$0.id, "DAMAGED (see below)", "-", "-", "-"] }
        // names and ids come from packages: escaped, so a row stays a row on the terminal
        let rows = listed.map { $0.map(TerminalText.escaped) }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        try Console.output(rows.map { row in
            row.enumerated().map { column, text in
                column == 4 ? text : text + String(repeating: " ", count: widths[column] - text.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n"))
        try Self.requireUndamaged(listing)
    }

    /// The others are listed; a damaged record still fails the command, with its own error.
    private static func requireUndamaged(_ listing: ApplicationListing) throws {
        guard let first = listing.damaged.first else { return }
        let more = listing.damaged.count > 1 ? " (and \(listing.damaged.count - 1) more: cpk-install check-state)" : ""
        throw CPKError(first.problem.kind, first.problem.message + more)
    }

    static func json(_ application: InstalledApplication) -> JSONValue {
        let description = application.description
        return .object([
            ("id", .string(application.id)), ("name", .string(description.name)), ("vendor", .string(description.vendor)),
            ("target", .object([("arch", .string(description.target.arch)), ("os", .string(description.target.os))])),
            ("version", .string(description.version.dotted)), ("date", .string(description.version.date)),
            ("size", .integer(application.size)), ("installed-at", .string(application.installedAt)),
            ("sha256", .string(Hex.encode(application.sha256))),
            ("signer", description.provenance.signer.map { .string($0) } ?? .null),
            ("manifest-authenticated", .bool(description.provenance.manifestAuthenticated)),
            ("rollback-floor", .string(application.rollbackFloor.dotted)),
        ])
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove an installed application (its class key stays installed).")

    @Argument(help: "The application id.") var id: String
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        try stateOptions.openManager().removeApplication(applicationID: id)
    }
}

struct DevExportPlaintext: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-export-plaintext",
        abstract: "SIMULATOR ONLY, a development aid: write an installed application's plaintext.",
        discussion: """
            A real Package Manager never lets plaintext out; the simulator does, for tests and \
            debugging, after checking the stored bytes against their tag and digest. A file \
            appears only once checked.
            """)

    @Argument(help: "The application id.") var id: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"))
    var output = "-"
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        let manager = try stateOptions.openManager()
        _ = try manager.exportPlaintextForDevelopment(applicationID: id, to: try OutputFile(path: output, binary: true, secret: true))
    }
}

// MARK: - trust anchors

struct Trust: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Provision trust anchors for signers in the simulator's state.",
        discussion: """
            Anchors provisioned here are the device's trust policy, used by every install \
            together with --ca and --public-key: a certificate is a CA (the signer's \
            certificate must chain to it), a public key is trusted as it is. With --id, an \
            anchor vouches only for those application ids.
            """,
        subcommands: [TrustAdd.self, TrustList.self, TrustRemove.self])
}

struct TrustAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a CA certificate or a public key, for every application or only those given with --id.")

    @Argument(help: ArgumentHelp("A certificate (PEM or DER) or a public key; - is standard input.", valueName: "file"))
    var file: String
    @Option(help: ArgumentHelp("Trust the anchor only for this application id; repeatable.", valueName: "id"))
    var id: [String] = []
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        let manager = try stateOptions.openManager()
        let bytes = try SmallInput.read(file, limit: SmallInput.documentLimit, what: "the trust anchor")
        let scope: TrustPolicy.Scope = id.isEmpty ? .anyApplication : .applications(id)
        try Console.output(try TrustStore.provision(bytes, name: file, scope: scope, in: manager.state).name)
    }
}

struct TrustList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the provisioned anchors: name, kind, the ids they vouch for, subjects and fingerprints.")

    @Flag(help: "Print JSON instead of text.") var json = false
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        let entries = try TrustStore.entries(in: try stateOptions.openManager().state)
        if json {
            return try Console.output(JSONValue.array(entries.map(Self.json)).compactText)
        }
        var lines: [String] = []
        for entry in entries {
            lines.append("\(entry.name)  \(entry.kind.rawValue)  for \(Self.scope(entry.scope))")
            for (index, fingerprint) in entry.fingerprints.enumerated() {
                let subject = index < entry.subjects.count ? entry.subjects[index] : "public key"
                lines.append("  \(subject)  sha256:\(fingerprint)")
            }
        }
        if !lines.isEmpty { try Console.output(lines.map(TerminalText.escaped).joined(separator: "\n")) }
    }

    static func scope(_ scope: TrustPolicy.Scope) -> String {
        switch scope {
        case .anyApplication: return "every application"
        case .applications(let ids): return ids.joined(separator: ", ")
        }
    }

    static func json(_ entry: TrustStore.Entry) -> JSONValue {
        let ids: JSONValue
        switch entry.scope {
        case .anyApplication: ids = .null
        case .applications(let list): ids = .array(list.map { .string($0) })
        }
        return .object([
            ("name", .string(entry.name)), ("kind", .string(entry.kind.rawValue)), ("ids", ids),
            ("subjects", .array(entry.subjects.map { .string($0) })),
            ("sha256", .array(entry.fingerprints.map { .string($0) })),
        ])
    }
}

struct TrustRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a provisioned anchor by name.")

    @Argument(help: "The anchor's name, as trust list shows it.") var name: String
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        try TrustStore.remove(named: name, in: try stateOptions.openManager().state)
    }
}

// MARK: - the Package Manager itself

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the Package Manager: contract version, supported calls, state, device key fingerprint.")

    @Flag(help: "Print JSON instead of text.") var json = false
    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        let manager = try stateOptions.openManager()
        let version = try manager.ping()
        let operations = try ContractOperation.allCases.filter { try manager.isOperationSupported($0.rawValue) }.map(\.rawValue)
        let fingerprint = Hex.encode(try PublicKey(loading: try manager.exportDevicePublicKey()).fingerprint)
        let applications = try manager.installedApplications().count
        let document = JSONValue.object([
            ("backend", .string("simulator")), ("contract-version", .integer(version)),
            ("operations", .array(operations.map { .string($0) })), ("state", .string(manager.state.path)),
            ("device-key-sha256", .string(fingerprint)), ("applications", .integer(applications)),
        ])
        guard !json else { return try Console.output(document.compactText) }
        try Console.output([
            "Backend:            simulator (no TEE)", "Contract version:   \(version)",
            "Operations:         \(operations.joined(separator: ", "))", "State:              \(manager.state.path)",
            "Device key:         RSA-2048, sha256:\(fingerprint)", "Applications:       \(applications)",
        ].joined(separator: "\n"))
    }
}

struct CheckState: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-state",
        abstract: "Check the simulator's state: every class key opens, every application decrypts and matches its digest.")

    @OptionGroup var stateOptions: StateOptions

    func run() throws {
        let report = try stateOptions.openManager().checkState()
        try Console.output(
            "\(report.applications.count) applications, \(report.classKeys.count) class keys, "
                + "\(report.stagingInUse) staging files in use: " + (report.isConsistent ? "consistent" : "NOT consistent"))
        guard report.isConsistent else {
            throw CPKError.check("the state is not consistent: " + report.problems.joined(separator: "; "))
        }
    }
}

Install.runTool()
