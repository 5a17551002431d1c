#if canImport(Glibc)
import Glibc
#endif

import CPKCore

/// A key kept at a persistent handle of a TPM, and how to reach that TPM:
/// `tpm:HANDLE[?tcti=TCTI]`, e.g. `tpm:0x81010010?tcti=swtpm:path=/run/tpm.sock`.
///
/// The handle is hexadecimal, in the owner's persistent range (0x81000000-0x817FFFFF); `tpm:`
/// alone is the default handle. The TCTI is everything after `tcti=` (a tctildr configuration
/// string has its own `:` `,` and `=`, so nothing follows it); without it the TCTI comes from
/// the environment variable TPM2TOOLS_TCTI, as for tpm2-tools, else tctildr's default
/// (`device:/dev/tpmrm0`, then `/dev/tpm0`, then a simulator on localhost).
public struct TPMKeyURI: Sendable, Equatable, CustomStringConvertible {
    public static let scheme = "tpm:"
    public static let defaultDeviceKeyHandle: UInt32 = 0x8101_0010
    public static let defaultAttestationKeyHandle: UInt32 = 0x8101_0011
    /// The owner hierarchy's persistent handles (TPM 2.0 Part 2, 7.5: 0x81000000-0x817FFFFF).
    static let persistentRange: ClosedRange<UInt32> = 0x8100_0000...0x817F_FFFF

    public let handle: UInt32
    /// The TCTI the reference names, or nil for the environment's.
    public let tcti: String?

    public init(handle: UInt32 = TPMKeyURI.defaultDeviceKeyHandle, tcti: String? = nil) {
        self.handle = handle
        self.tcti = tcti
    }

    public init(parsing text: String) throws {
        guard text.hasPrefix(Self.scheme) else { throw Self.refusal(text, "it does not start with \(Self.scheme)") }
        let rest = text.dropFirst(Self.scheme.count)
        let handleText: Substring
        if let question = rest.firstIndex(of: "?") {
            handleText = rest[..<question]
            let query = rest[rest.index(after: question)...]
            guard query.hasPrefix("tcti="), query.count > 5 else {
                throw Self.refusal(text, "the only parameter is tcti=TCTI (e.g. tcti=swtpm:path=/run/tpm.sock)")
            }
            tcti = String(query.dropFirst(5))
        } else {
            handleText = rest
            tcti = nil
        }
        if handleText.isEmpty {
            handle = Self.defaultDeviceKeyHandle
        } else {
            handle = try Self.parseHandle(String(handleText), in: text)
        }
    }

    /// A persistent handle written as hexadecimal (`0x81010010` or `81010010`).
    public static func parseHandle(_ text: String, in context: String? = nil) throws -> UInt32 {
        let digits = text.hasPrefix("0x") || text.hasPrefix("0X") ? String(text.dropFirst(2)) : text
        guard !digits.isEmpty, digits.count <= 8, let value = UInt32(digits, radix: 16), persistentRange.contains(value) else {
            throw refusal(context ?? text, "the handle \(text) is not a persistent handle of the owner (0x81000000 to 0x817fffff)")
        }
        return value
    }

    /// The TCTIs a configuration may name. tctildr would also dlopen a library named by path,
    /// or run a command (`cmd:`): a configuration string is not a way to run code here.
    public static let allowedTCTIs: Set<String> = ["device", "swtpm", "mssim", "tabrmd"]

    /// Refuses a TCTI string whose name is not one of `allowedTCTIs`.
    public static func checkTCTI(_ tcti: String) throws {
        let name = String(tcti.prefix { $0 != ":" })
        guard allowedTCTIs.contains(name) else {
            throw CPKError(.usage, "the TCTI \"\(tcti)\" is not one of \(allowedTCTIs.sorted().joined(separator: ", ")) (NAME:CONFIGURATION)",
                           reason: .tpmReference)
        }
    }

    /// The TCTI to open: the reference's, else TPM2TOOLS_TCTI, else nil (tctildr's default).
    public var resolvedTCTI: String? {
        if let tcti { return tcti }
        guard let value = getenv("TPM2TOOLS_TCTI").map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return value
    }

    /// How the reference is written in a state's configuration.
    public var recorded: String {
        Self.scheme + Self.hex(handle) + (tcti.map { "?tcti=" + $0 } ?? "")
    }

    public var description: String { recorded }

    public static func hex(_ handle: UInt32) -> String {
        let digits = String(handle, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    static func refusal(_ text: String, _ why: String) -> CPKError {
        CPKError(.usage, "the TPM key reference \"\(text)\" cannot be used: \(why)", reason: .tpmReference)
    }
}

/// A selection of PCRs of one bank: `sha256:0,1,7` (the form tpm2-tools writes).
public struct TPMPCRSelectionSpec: Sendable, Equatable {
    public static let hashes: [String: UInt16] = ["sha256": 0x000B, "sha384": 0x000C, "sha512": 0x000D]
    /// PCRs 0-23: what a PC client TPM has.
    public static let pcrCount = 24

    public let hash: UInt16
    public let indices: [Int]

    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let hash = Self.hashes[String(parts[0]).lowercased()] else {
            throw CPKError(.usage, "the PCR selection \"\(text)\" is not BANK:INDEX,... with a bank of sha256, sha384, sha512",
                           reason: .tpmReference)
        }
        var indices: [Int] = []
        for item in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
            guard let index = Int(item), (0..<Self.pcrCount).contains(index) else {
                throw CPKError(.usage, "the PCR selection \"\(text)\": \"\(item)\" is not a PCR index from 0 to \(Self.pcrCount - 1)",
                               reason: .tpmReference)
            }
            if !indices.contains(index) { indices.append(index) }
        }
        self.hash = hash
        self.indices = indices.sorted()
    }

    /// The TPMS_PCR_SELECTION bitmap: PCR i is bit i % 8 of byte i / 8, three bytes at least.
    public var bitmap: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 3)
        for index in indices { bytes[index / 8] |= UInt8(1) << UInt8(index % 8) }
        return bytes
    }
}
