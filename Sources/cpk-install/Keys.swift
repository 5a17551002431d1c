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
    var format = PublicKeyFormat.pkcs1
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to FILE; - is standard output.", valueName: "file"), completion: .file())
    var output = "-"
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

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

    @Argument(help: ArgumentHelp("The wrapped key: a file, or - for standard input.", valueName: "input"), completion: .file())
    var input = "-"
    @Option(help: ArgumentHelp("The application id the key belongs to (a document names its own).", valueName: "id"))
    var id: String?
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        let bytes = try SmallInput.read(input, limit: SmallInput.keyLimit, what: "the wrapped key")
        let manager = try stateOptions.openManager()
        let device = try PublicKey(loading: try manager.exportDevicePublicKey())
        let (name, wrapped) = try resolve(try WrappedKeyInput(parsing: bytes), device: device)
        try manager.installApplicationKey(applicationID: name, wrappedKey: wrapped)
        messages.confirm("cpk-install", "installed the class key of \(TerminalText.escaped(name))")
    }

    private func resolve(_ input: WrappedKeyInput, device: PublicKey) throws -> (String, [UInt8]) {
        switch input {
        case .document(let document):
            let name = try document.resolvedName(expecting: id)
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
            return (name, document.wrapped)
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

    @Option(
        help: ArgumentHelp("The application id, which is also the key's name.", valueName: "id"),
        completion: .custom(KeyNameCompletion.fromFileStore))
    var id: String
    @OptionGroup var store: KeyStoreOptions
    @Option(help: ArgumentHelp("A device-twin JSON document with confidential_package_keys (- is standard input).", valueName: "file"), completion: .file())
    var twin: String?
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try KeyName.validate(id)
        let flags = store.flags + [twin.map(KeyStoreLocation.twin)].compactMap { $0 }
        let location = try KeyStoreLocation.select(flags: flags, environment: KeyStoreLocation.processEnvironment)
        let source = try location.source { store.keyfetchBridge(endpoint: $0) }
        let manager = try stateOptions.openManager()
        let device = try PublicKey(loading: try manager.exportDevicePublicKey())
        let wrapped = try source.wrappedKey(named: id, to: device, padding: .pkcs1v15)
        try manager.installApplicationKey(applicationID: id, wrappedKey: wrapped.wrapped)
        messages.confirm("cpk-install", "fetched and installed the class key of \(TerminalText.escaped(id))")
    }
}
