import ArgumentParser
import CPKCLI
import CPKCrypto

struct KeyGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an RSA wrapping key pair; the private key is written as PEM (PKCS#8) with mode 0600.")

    @Option(help: ArgumentHelp("Modulus size: 2048, 3072 or 4096.", valueName: "bits"))
    var bits = 2048

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Write the private key to FILE (mode 0600); - is standard output when it is not a terminal.", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("Also write the public key (PEM SubjectPublicKeyInfo) to FILE.", valueName: "file"))
    var publicOut: String?

    func validate() throws {
        guard RSAPrivateKey.generatableSizes.contains(bits) else { throw ValidationError("--bits must be 2048, 3072 or 4096") }
        if publicOut == output { throw ValidationError("--public-out must differ from --output") }
    }

    func run() throws {
        try WrapFrontend.keygen(bits: bits, output: output, publicOutput: publicOut)
    }
}
