import ArgumentParser
import CPKCLI

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
              cpk-install public-key | cpk-keyfetch --key-name test --padding pkcs1v15 \\
                --file-store test.json | cpk-install add-key
              cpk-install add-key --id test wrapped.b64      # a base64 wrapped key
              cpk-install app.cpk                            # install (the default)
              cpk-install install --ca ca.pem --json app.cpk
              cpk-install list
              cpk-install report --device-id dev-01 > dev-01.json
              cpk-install sync --twin dev-01.desired.json
              cpk-install dev-export-plaintext test -o app.bin  # simulator only
              cpk-install remove test
              cpk-install --device-key 'pkcs11:token=cpk;object=device' \\
                --pin-file pin public-key
              cpk-install --device-key tpm:0x81010010?tcti=swtpm:path=/run/swtpm.sock \\
                public-key
              cpk-install attest enroll-request -o request.json

            Exit status: 0 success, 1 a check failed (signer, version, class key, tag, digest, \
            signature) or the input is invalid, 2 usage or I/O error.
            """,
        version: ToolVersion.line("cpk-install"),
        subcommands: [
            InstallPackage.self, PublicKeyExport.self, AddKey.self, Sync.self, Report.self, ListApplications.self, Remove.self,
            DevExportPlaintext.self, Trust.self, Attest.self, Status.self, CheckState.self,
        ],
        defaultSubcommand: InstallPackage.self)
}

Install.runTool(globalOptions: ["--state", "--device-key", "--pin-file", "--pin-fd", "--pkcs11-module"])
