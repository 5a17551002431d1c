// swift-tools-version:6.0
import PackageDescription

/// The eight command-line tools, one thin executable each, and the library modules each one
/// imports: declared exactly (scripts/check-imports.py checks it in `make test`).
let tools: [(name: String, imports: [Target.Dependency])] = [
    ("cpk-pack", ["CPKFormat"]),
    ("cpk-seal", []),
    ("cpk-sign", ["CPKCrypto", "CPKPackage"]),
    ("cpk-verify", ["CPKPackage"]),
    ("cpk-unpack", []),
    ("cpk-keyfetch", ["CPKKeyfetchCLI", "CPKKeys", "CPKCrypto"]),
    ("cpk-wrap", ["CPKCrypto", "CPKKeys"]),
    ("cpk-install", ["CPKCore"]),
]

let package = Package(
    name: "cpk-tools",
    platforms: [.macOS(.v13)],
    products: tools.map { .executable(name: $0.name, targets: [$0.name]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // gRPC for the key provider's server mode only (CPKKeyProviderServer, linked by cpk-keyfetch alone).
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // C libraries, found through pkg-config; the Debian packages named install them.
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "libssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CLibCBOR", pkgConfig: "libcbor",
            providers: [.apt(["libcbor-dev"])]),
        // PKCS#11 tokens: libp11 and its OpenSSL engine (Sources/CPKCrypto/Token).
        .systemLibrary(
            name: "CLibP11", pkgConfig: "libp11",
            providers: [.apt(["libp11-dev", "libengine-pkcs11-openssl"])]),
        // TPM 2.0 through tpm2-tss: ESAPI, the TCTI loader, marshalling, return-code names (Sources/CPKTPM).
        .systemLibrary(
            name: "CTSS2", pkgConfig: "tss2-esys",
            providers: [.apt(["libtss2-dev"])]),

        // Layers, lowest first: each depends only on those above it.
        .target(name: "CPKCore"),
        .target(name: "CPKFormat", dependencies: ["CPKCore"]),
        .target(name: "CPKCrypto", dependencies: ["CLibP11", "COpenSSL", "CPKCore"]),
        // CBOR through libcbor, on its own: the envelope and the wrapped-key documents both use it.
        .target(name: "CPKCBOR", dependencies: ["CLibCBOR", "CPKCore"]),
        .target(name: "CPKEnvelope", dependencies: ["CPKCBOR", "CPKFormat", "CPKCore"]),
        // TPM 2.0 structures read and checked on the cloud side (no TPM there): public areas and
        // Names, certify and quote attestations, their signatures; the enrollment documents and
        // the evidence (CPKCrypto for base64 and the EK certificate's chain).
        .target(name: "CPKAttestation", dependencies: ["COpenSSL", "CPKCrypto", "CPKCore"]),
        // TPM attestation (CPKAttestation) for the release policy's attestation requirement.
        .target(name: "CPKKeys", dependencies: ["CPKAttestation", "CPKCBOR", "CPKCore", "CPKCrypto"]),
        // The HTTP key-service clients (HTTP/1.1 over our own sockets, TLS through libssl),
        // linked only into cpk-keyfetch: the other tools reach a key service through a
        // cpk-keyfetch process, so a hostile service's answer meets one small process with a
        // hard size limit, and the payload tools carry no network code.
        .target(name: "CPKKeyService", dependencies: ["COpenSSL", "CPKKeys", "CPKCore", "CPKCrypto"]),
        // The device side of a TPM through ESAPI: the device key pair (decrypt-only, persistent),
        // the attestation key, the EK certificate, ActivateCredential, Certify and Quote.
        .target(name: "CPKTPM", dependencies: ["CTSS2", "CPKAttestation", "CPKCore"]),
        .target(name: "CPKPackage", dependencies: ["CPKFormat", "CPKEnvelope", "CPKCrypto", "CPKCore"]),
        // The Confidential Package Manager contract, and the simulator that honours it.
        .target(
            name: "CPKManager", dependencies: ["CPKPackage", "CPKFormat", "CPKCrypto", "CPKKeys", "CPKTPM", "CPKAttestation", "CPKCore"]),
        .target(
            name: "CPKCLI",
            dependencies: [
                "CPKManager", "CPKPackage", "CPKFormat", "CPKEnvelope", "CPKKeys", "CPKCrypto", "CPKCBOR", "CPKTPM",
                "CPKAttestation", "CPKCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // ocicrypt's KeyProviderService over gRPC (grpc-swift 2, SwiftNIO): its own target, so that
        // only cpk-keyfetch (through CPKKeyfetchCLI) links gRPC and NIO and the other seven tools
        // start as fast as before. The protobuf code is generated once and committed (make proto).
        .target(
            name: "CPKKeyProviderServer",
            dependencies: [
                "CPKKeys", "CPKCore",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        // cpk-keyfetch's command-line layer: beside CPKCLI, so that only cpk-keyfetch links the network code.
        .target(
            name: "CPKKeyfetchCLI",
            dependencies: [
                "CPKAttestation", "CPKCLI", "CPKKeyService", "CPKKeyProviderServer", "CPKKeys", "CPKCrypto", "CPKCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Helpers shared by the XCTest targets: the CPKError assertion, the openssl command line.
        .target(name: "CPKTestSupport", dependencies: ["CPKCore"], path: "Tests/CPKTestSupport"),
        .testTarget(name: "CPKCoreTests", dependencies: ["CPKCore"]),
        .testTarget(name: "CPKCryptoTests", dependencies: ["CPKCrypto", "CPKCore", "CPKTestSupport"]),
        .testTarget(name: "CPKFormatTests", dependencies: ["CPKFormat", "CPKCore"]),
        .testTarget(name: "CPKCBORTests", dependencies: ["CPKCBOR", "CPKCore", "CPKTestSupport"]),
        .testTarget(name: "CPKEnvelopeTests", dependencies: ["CPKEnvelope", "CPKFormat", "CPKCore"]),
        .testTarget(
            name: "CPKKeysTests", dependencies: ["CPKKeys", "CPKKeyService", "CPKCBOR", "CPKCrypto", "CPKCore", "CPKTestSupport"]),
        .testTarget(name: "CPKAttestationTests", dependencies: ["CPKAttestation", "CPKCore", "CPKCrypto", "CPKTestSupport"]),
        .testTarget(name: "CPKTPMTests", dependencies: ["CPKTPM", "CPKAttestation", "CPKCore", "CPKTestSupport"]),
        .testTarget(name: "CPKKeyServiceTests", dependencies: ["CPKKeyService", "CPKCore"]),
        .testTarget(
            name: "CPKCLITests",
            dependencies: [
                "CPKCLI", "CPKKeys", "CPKManager", "CPKPackage", "CPKFormat", "CPKCrypto", "CPKCore", "CPKTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(
            name: "CPKKeyfetchCLITests",
            dependencies: ["CPKKeyfetchCLI", "CPKCLI", "CPKManager", "CPKKeys", "CPKCrypto", "CPKCore", "CPKTestSupport"]),
        .testTarget(
            name: "CPKPackageTests", dependencies: ["CPKPackage", "CPKFormat", "CPKEnvelope", "CPKCrypto", "CPKCore", "CPKTestSupport"]),
        .testTarget(
            name: "CPKManagerTests",
            dependencies: [
                "CPKManager", "CPKPackage", "CPKFormat", "CPKKeys", "CPKCrypto", "CPKTPM", "CPKCore", "COpenSSL", "CPKTestSupport",
            ]),
    ]
        + tools.map { tool in
            .executableTarget(
                name: tool.name,
                dependencies: ["CPKCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")] + tool.imports)
        }
)

if Context.environment["CPK_FUZZ"] != nil {
    package.targets += [
        .target(name: "CPKFuzzDriver", path: "Tests/Fuzz/Sources/CPKFuzzDriver"),
        .executableTarget(
            name: "cpk-fuzz",
            dependencies: [
                "CPKFuzzDriver", "CPKAttestation", "CPKPackage", "CPKFormat", "CPKEnvelope", "CPKCBOR", "CPKKeys", "CPKKeyService", "CPKCrypto", "CPKCore",
            ],
            path: "Tests/Fuzz/Sources/cpk-fuzz"),
    ]
}
