import CLibCBOR

/// The libcbor the tools were built against (its headers carry no run-time version call).
public enum LibCBORLibrary {
    public static let version = "libcbor \(CBOR_MAJOR_VERSION).\(CBOR_MINOR_VERSION).\(CBOR_PATCH_VERSION)"
}
