import ArgumentParser
import CPKCLI
import CPKCrypto

struct KeyGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an RSA wrapping key pair; the private key is written as PEM (PKCS#8) with mode 0600.")

    @Option(help: ArgumentHelp("Modulus size: 2048, 3072 or 4096.", valueName: "bits"), completion: .list(["2048", "3072", "4096"]))
    var bits = 2048

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Write the private key to FILE (mode 0600); - is standard output when it is not a terminal.", valueName: "file"), completion: .file())
    var output: String?

    @Option(help: ArgumentHelp("Also write the public key (PEM SubjectPublicKeyInfo) to FILE.", valueName: "file"), completion: .file())
    var publicOut: String?

    @Option(help: ArgumentHelp(
        "Make the private key inside a token instead, as this pkcs11: URI's object (sensitive, never extractable); its public key goes to --public-out, else standard output.",
        valueName: "uri"))
    var key: String?

    @OptionGroup var token: TokenOptions

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        guard RSAPrivateKey.generatableSizes.contains(bits) else { throw ValidationError("--bits must be 2048, 3072 or 4096") }
        guard (output == nil) != (key == nil) else {
            throw ValidationError("give -o FILE (a key file) or --key pkcs11:URI (a key pair in a token)")
        }
        if let key, !TokenOptions.isToken(key) { throw ValidationError("--key takes a pkcs11: URI here") }
        if let publicOut, publicOut == output { throw ValidationError("--public-out must differ from --output") }
    }

    func run() throws {
        if let key {
            try WrapFrontend.keygen(bits: bits, tokenURI: key, token: token, publicOutput: publicOut ?? "-")
        } else if let output {
            try WrapFrontend.keygen(bits: bits, output: output, publicOutput: publicOut)
        }
    }
}
