import ArgumentParser
import CPKCLI

struct Wrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-wrap",
        abstract: "Wrap and unwrap symmetric keys under RSA key pairs; make wrapping key pairs.",
        discussion: """
            A symmetric key never appears on the command line: keys are read from files, from \
            standard input (-) or from inherited descriptors (/dev/fd/N). A wrapped key is \
            written as a small CBOR document recording the key name, the algorithm, the wrapped \
            bytes and the SHA-256 of the wrapping public key, so unwrap can tell a wrong \
            private key before trying. An unwrapped key goes only to the output you name with \
            -o: a file created with mode 0600, or standard output when it is not a terminal.

            Public keys are read in every form the system meets, recognised automatically: PEM \
            or DER SubjectPublicKeyInfo, DER RSAPublicKey (PKCS#1, what the Package Manager \
            exports), X.509 certificates (PEM or DER), and base64 of the DER forms. They must be \
            RSA keys of at least 2048 bits.

            Examples:
              cpk-wrap keygen --bits 3072 -o device.pem --public-out device.pub
              cpk-wrap keygen --key 'pkcs11:token=cpk;object=wrap' \\
                --pin-file pin > wrap.pub
              cpk-wrap public --format base64 device.pem
              cpk-wrap wrap --to device.pub --key-name test -o test.wkey class.key
              head -c 32 /dev/urandom \\
                | cpk-wrap wrap --to cert.pem --key-name app --padding pkcs1v15 > app.wkey
              cpk-wrap unwrap --key device.pem -o class.key test.wkey
              cpk-wrap unwrap --key 'pkcs11:token=cpk;object=wrap' --pin-file pin \\
                -o class.key test.wkey
              cpk-wrap show test.wkey

            Exit status: 0 success, 1 invalid input or a key that does not fit (wrong private \
            key, truncated wrapped key), 2 usage or I/O error.
            """,
        version: ToolVersion.line("cpk-wrap"),
        subcommands: [KeyGen.self, Public.self, WrapKey.self, UnwrapKey.self, Show.self])
}

Wrap.runTool()
