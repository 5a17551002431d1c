import ArgumentParser
import CPKCLI

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
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var messages: MessageOptions

    func run() throws {
        try InstallFrontend.install(
            .init(
                input: input.input, trust: trust, acceptUnauthenticatedManifest: acceptUnauthenticatedManifest,
                allowSignerChange: allowSignerChange, allowDowngrade: allowDowngrade, json: json, state: stateOptions,
                messages: messages))
    }
}
