// swift-tools-version:6.0
import PackageDescription

/// The eight command-line tools, one thin executable each.
let tools = [
    "cpk-pack", "cpk-seal", "cpk-sign", "cpk-verify",
    "cpk-unpack", "cpk-keyfetch", "cpk-wrap", "cpk-install",
]

let package = Package(
    name: "cpk-tools",
    platforms: [.macOS(.v13)],
    products: tools.map { .executable(name: $0, targets: [$0]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries, found through pkg-config; the Debian packages named install them.
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "libssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CLibCBOR", pkgConfig: "libcbor",
            providers: [.apt(["libcbor-dev"])]),

        // Layers, lowest first: each depends only on those above it.
        .target(name: "CPKCore"),
        .target(name: "CPKFormat", dependencies: ["CPKCore"]),
        .target(name: "CPKCrypto", dependencies: ["COpenSSL", "CPKCore"]),
        .target(name: "CPKEnvelope", dependencies: ["CLibCBOR", "CPKFormat", "CPKCore"]),
        .target(name: "CPKKeys", dependencies: ["CPKCore", "CPKCrypto", "CPKEnvelope"]),
        // The HTTP key-service clients (HTTP/1.1 over our own sockets, TLS through libssl),
        // linked only into cpk-keyfetch: the other tools reach a key service through a
        // cpk-keyfetch process, so a hostile service's answer meets one small process with a
        // hard size limit, and the payload tools carry no network code.
        .target(name: "CPKKeyService", dependencies: ["COpenSSL", "CPKKeys", "CPKCore", "CPKCrypto"]),
        .target(name: "CPKPackage", dependencies: ["CPKFormat", "CPKEnvelope", "CPKCrypto", "CPKCore"]),
        // The Confidential Package Manager contract, and the simulator that honours it.
        .target(name: "CPKManager", dependencies: ["CPKPackage", "CPKFormat", "CPKCrypto", "CPKKeys", "CPKCore"]),
        .target(
            name: "CPKCLI",
            dependencies: [
                "CPKPackage", "CPKManager", "CPKKeys", "CPKCrypto", "CPKCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "CPKCoreTests", dependencies: ["CPKCore"]),
        .testTarget(name: "CPKCryptoTests", dependencies: ["CPKCrypto"]),
        .testTarget(name: "CPKFormatTests", dependencies: ["CPKFormat"]),
        .testTarget(name: "CPKEnvelopeTests", dependencies: ["CPKEnvelope"]),
        .testTarget(name: "CPKKeysTests", dependencies: ["CPKKeys", "CPKKeyService"]),
        .testTarget(name: "CPKKeyServiceTests", dependencies: ["CPKKeyService", "CPKCore"]),
        .testTarget(name: "CPKPackageTests", dependencies: ["CPKPackage"]),
        .testTarget(name: "CPKManagerTests", dependencies: ["CPKManager"]),
    ]
        + tools.map { tool in
            .executableTarget(
                name: tool,
                dependencies: [
                    "CPKCLI", "CPKPackage",
                    .product(name: "ArgumentParser", package: "swift-argument-parser"),
                ] + (tool == "cpk-keyfetch" ? ["CPKKeyService"] : []))
        }
)

// The libFuzzer targets of Tests/Fuzz: declared only when CPK_FUZZ is set, which
// Tests/Fuzz/fuzz.sh does for its own build (-sanitize=fuzzer,address, scratch path
// .build-fuzz), so ordinary builds and tests never see them.
if Context.environment["CPK_FUZZ"] != nil {
    package.targets += [
        .target(name: "CPKFuzzDriver", path: "Tests/Fuzz/Sources/CPKFuzzDriver"),
        .executableTarget(
            name: "cpk-fuzz",
            dependencies: [
                "CPKFuzzDriver", "CPKPackage", "CPKFormat", "CPKEnvelope", "CPKKeys", "CPKKeyService", "CPKCrypto", "CPKCore",
            ],
            path: "Tests/Fuzz/Sources/cpk-fuzz"),
    ]
}
