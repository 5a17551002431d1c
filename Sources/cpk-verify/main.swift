import ArgumentParser
import CPKCLI
import CPKPackage

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpk-verify",
        abstract: "Check the digests, signatures and certificates of a package.",
        discussion: """
            Reads an envelope or a .cpk and reports each check on a line of its own, \
            "NAME PASSED: ...", "NAME FAILED: reason" or "NAME SKIPPED: why", then a verdict \
            line; --json prints one JSON document instead (schema in cpk-verify(1)). The \
            checks: structure; payload-tag and payload-digest (an encrypted payload only with \
            a key source, as for cpk-seal); payload-signature, payload-certificate (validity \
            period, key usage, an intact chain), payload-trust (a chain to a --ca anchor, or \
            the --public-key pin); and the same for the package signature over package.map, \
            after package-digest.

            Trust must be explicit, as with cosign: give a trust anchor (--ca, with \
            --untrusted intermediates), a pinned key (--public-key), and optionally the \
            signer's identity (--certificate-identity, --certificate-identity-regexp). Without \
            any, cpk-verify exits 1 ("no trust input") unless --integrity-only asks for an \
            integrity check only. The verdict says what was established: "authenticated" (a \
            trusted signer vouches for the package) or "intact"; and the manifest check says \
            whether a trusted package signature covers the manifest (id, version, name, \
            vendor, target). A payload signature alone covers only the payload digest.

            A certificate's validity is always checked at the current time, or at --at TIME. \
            An expired certificate fails unless --allow-expired says to accept it (packages \
            of the reference tool carry a demo certificate that expired in 2022). Signer \
            certificates must allow digital signatures and, when they have an extended key \
            usage, code signing.

            Examples:
              cpk-verify --ca root.pem app.cpk
              cpk-verify --ca root.pem --certificate-identity release@acme.example \\
                --require manifest app.cpk
              cpk-verify --json --public-key signer.pub app.cpk | jq -r .verdict
              cpk-verify --integrity-only --allow-expired reference.cpk
              cpk-verify --integrity-only --file-store test.json \\
                --require payload-digest app.cpk

            Exit status: 0 only when every check that ran passed, every --require check ran \
            and passed, at least one signature was checked, and a trust input authenticated a \
            signer (or --integrity-only was given); 1 when a check failed, nothing was \
            authenticated, or the input is not a valid package; 2 usage or I/O error.
            """,
        version: ToolVersion.line("cpk-verify"))

    @OptionGroup var input: PackageInputArgument
    @OptionGroup var trust: TrustOptions

    @Option(name: .customLong("cert"), help: ArgumentHelp(
        "The signer's certificate (and chain) when the package only names it by URL or domain.", valueName: "file"), completion: .file())
    var certificate: String?

    @Flag(help: "Check integrity only: exit 0 for an intact package even when no trust input says who signed it.")
    var integrityOnly = false

    @Option(help: ArgumentHelp(
        "Checks that must run and pass, comma-separated (e.g. payload-signature,manifest); repeatable.",
        valueName: "checks"), completion: .list(VerificationCheck.allCases.map(\.rawValue)))
    var require: [String] = []

    @Flag(help: "Print one JSON document instead of lines.")
    var json = false

    @OptionGroup var keySource: ClassKeyOptions

    @OptionGroup var messages: MessageOptions

    func validate() throws {
        _ = try VerifyFrontend.requiredChecks(require)
    }

    func run() throws {
        try VerifyFrontend.verify(
            .init(
                input: input.input, trust: trust, certificate: certificate, integrityOnly: integrityOnly,
                required: try VerifyFrontend.requiredChecks(require), json: json, keySource: keySource, messages: messages))
    }
}

Verify.runTool()
