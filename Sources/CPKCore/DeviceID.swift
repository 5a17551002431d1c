/// A device id names output files and registry entries: 1 to 128 of `A-Z a-z 0-9 . _ -`, not
/// starting with `.` (docs/keys.md §4). Here, below every module that reads one (the fleet's
/// reports, the TPM enrollment documents), so that the rule exists once.
public enum DeviceID {
    /// Why `id` is not a device id, or nil when it is one.
    public static func problem(with id: String) -> String? {
        let bytes = Array(id.utf8)
        guard (1...128).contains(bytes.count) else { return "a device id is 1 to 128 characters" }
        guard bytes.first != UInt8(ascii: ".") else { return "a device id does not start with \".\"" }
        let allowed = bytes.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        return allowed ? nil : "a device id is made of letters, digits, \".\", \"_\" and \"-\""
    }
}
