import ArgumentParser
import CPKCLI
import CPKKeyfetchCLI

struct Provision: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Create a new random AES-256 key under a name, in a file store or through the ProvisionKey contract.",
        discussion: """
            A file store is rewritten atomically with mode 0600, keeping its other keys; a name \
            that is already there is refused unless --force is given. The key itself is never \
            printed: fetch it wrapped to a public key.
            """)

    @Option(name: .customLong("key-name"), help: ArgumentHelp("The new key's name: the application id, or a KBS resource URI.", valueName: "name"))
    var name: String

    @OptionGroup var store: KeyStoreOptions

    @Flag(help: "Replace a key of the same name in a file store (the old key is lost).")
    var force = false

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try KeyfetchFrontend.provision(name: name, store: store, force: force)
    }
}
