import CPKCore

/// A PKCS#11 URI (RFC 7512) naming a key in a token, e.g.
/// `pkcs11:token=cpk;object=signer;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin`.
///
/// Only the attributes that select a key are taken; an attribute this code cannot honour is
/// refused rather than ignored, so a URI never quietly selects a different key than it says.
/// A PIN inside the URI (`pin-value`) is refused too: a URI is given on the command line, and a
/// PIN never is.
public struct PKCS11URI: Sendable, Equatable, CustomStringConvertible {
    /// The token's label (`token=`), manufacturer, model and serial number.
    public var token: String?
    public var manufacturer: String?
    public var model: String?
    public var serial: String?
    /// The object's label (`object=`) and its CKA_ID (`id=`, bytes).
    public var object: String?
    public var id: [UInt8]?
    /// `type=`: private, public, cert, secret-key or data.
    public var type: String?
    /// `module-path=` in the query: the PKCS#11 module to load.
    public var modulePath: String?
    /// `pin-source=` in the query: where the PIN is (only `file:` paths, or bare paths, as RFC 7512 allows).
    public var pinSource: String?

    public static let scheme = "pkcs11:"
    static let objectTypes: Set<String> = ["private", "public", "cert", "secret-key", "data"]
    /// Standard attributes that select things this code does not look at (the library, the slot).
    static let unsupportedPath: Set<String> = [
        "library-manufacturer", "library-description", "library-version", "slot-description", "slot-manufacturer",
        "slot-id",
    ]

    /// True when `text` is meant as a PKCS#11 URI rather than a file name.
    public static func isURI(_ text: String) -> Bool {
        text.utf8.count >= scheme.utf8.count && text.lowercased().hasPrefix(scheme)
    }

    public init(parsing text: String) throws {
        guard Self.isURI(text) else { throw Self.bad("it does not start with \"pkcs11:\"") }
        let body = text.dropFirst(Self.scheme.count)
        let parts = body.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts[0]
        let query = parts.count > 1 ? parts[1] : nil
        var seen: Set<String> = []
        for attribute in path.split(separator: ";", omittingEmptySubsequences: false) where !(attribute.isEmpty && path.isEmpty) {
            let (name, value) = try Self.split(attribute, separator: "path")
            guard seen.insert(name).inserted else { throw Self.bad("the attribute \"\(name)\" appears twice") }
            switch name {
            case "token": token = try Self.text(value, name)
            case "manufacturer": manufacturer = try Self.text(value, name)
            case "model": model = try Self.text(value, name)
            case "serial": serial = try Self.text(value, name)
            case "object": object = try Self.text(value, name)
            case "id":
                let bytes = try Self.percentDecoded(value, name)
                guard !bytes.isEmpty else { throw Self.bad("the attribute \"id\" is empty") }
                id = bytes
            case "type":
                let kind = try Self.text(value, name)
                guard Self.objectTypes.contains(kind) else {
                    throw Self.bad("type=\(kind) is not one of \(Self.objectTypes.sorted().joined(separator: ", "))")
                }
                type = kind
            default:
                throw Self.unknown(name, in: "path")
            }
        }
        if let query {
            var seenQuery: Set<String> = []
            for attribute in query.split(separator: "&", omittingEmptySubsequences: false) {
                let (name, value) = try Self.split(attribute, separator: "query")
                guard seenQuery.insert(name).inserted else { throw Self.bad("the attribute \"\(name)\" appears twice") }
                switch name {
                case "module-path": modulePath = try Self.text(value, name)
                case "pin-source":
                    let source = try Self.text(value, name)
                    guard source.hasPrefix("file:") || source.hasPrefix("/") else {
                        throw Self.bad("pin-source=\(source): only a file is supported (pin-source=file:/path)")
                    }
                    pinSource = source.hasPrefix("file:") ? String(source.dropFirst(5)) : source
                    guard pinSource?.isEmpty == false else { throw Self.bad("pin-source names no file") }
                case "pin-value":
                    throw Self.bad(
                        "a PIN in the URI (pin-value) would be on the command line; give it in a file (pin-source=file:PATH) or the environment")
                default:
                    throw Self.unknown(name, in: "query")
                }
            }
        }
        guard token != nil || manufacturer != nil || model != nil || serial != nil || object != nil || id != nil else {
            throw Self.bad("it names neither a token nor an object (e.g. pkcs11:token=cpk;object=signer;type=private)")
        }
    }

    /// The URI with the selecting attributes only (no query), canonically encoded: what is
    /// handed to the engine, and shown in messages.
    public var description: String {
        var attributes: [String] = []
        if let token { attributes.append("token=" + Self.encode(Array(token.utf8))) }
        if let manufacturer { attributes.append("manufacturer=" + Self.encode(Array(manufacturer.utf8))) }
        if let model { attributes.append("model=" + Self.encode(Array(model.utf8))) }
        if let serial { attributes.append("serial=" + Self.encode(Array(serial.utf8))) }
        if let object { attributes.append("object=" + Self.encode(Array(object.utf8))) }
        if let id { attributes.append("id=" + id.map { "%" + hexByte($0) }.joined()) }
        if let type { attributes.append("type=" + type) }
        return Self.scheme + attributes.joined(separator: ";")
    }

    /// The URI with its query (module-path, pin-source) too: what a configuration records.
    public var recorded: String {
        var query: [String] = []
        if let modulePath { query.append("module-path=" + Self.encode(Array(modulePath.utf8), query: true)) }
        if let pinSource { query.append("pin-source=file:" + Self.encode(Array(pinSource.utf8), query: true)) }
        return query.isEmpty ? description : description + "?" + query.joined(separator: "&")
    }

    // MARK: - Pieces

    private static func split(_ attribute: Substring, separator: String) throws -> (String, Substring) {
        guard let equals = attribute.firstIndex(of: "=") else {
            throw bad(attribute.isEmpty ? "an empty \(separator) attribute" : "\"\(attribute)\" is not name=value")
        }
        let name = String(attribute[..<equals]).lowercased()
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw bad("\"\(attribute[..<equals])\" is not an attribute name")
        }
        return (name, attribute[attribute.index(after: equals)...])
    }

    private static func text(_ value: Substring, _ name: String) throws -> String {
        let bytes = try percentDecoded(value, name)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw bad("the attribute \"\(name)\" is not UTF-8 text")
        }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw bad("the attribute \"\(name)\" holds a control character")
        }
        return text
    }

    /// RFC 3986 percent-decoding: `%` and two hex digits is a byte; a lone `%` is an error.
    static func percentDecoded(_ value: Substring, _ name: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var bytes = value.utf8.makeIterator()
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard let high = bytes.next().flatMap(hexValue), let low = bytes.next().flatMap(hexValue) else {
                throw bad("the attribute \"\(name)\" has a bad percent-encoding (% must be followed by two hex digits)")
            }
            out.append(high << 4 | low)
        }
        return out
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Leaves RFC 3986 unreserved characters (and `:`, `@`, `&`, `+`, ...  allowed in a path
    /// value by RFC 7512) as they are; everything else is percent-encoded.
    static func encode(_ bytes: [UInt8], query: Bool = false) -> String {
        // `;` ends a path attribute, `&` a query one, `?` the path: those are always encoded.
        let allowed = query ? "-._~:[]@!$'()*+,=/" : "-._~:[]@!$'()*+,=&"
        var out = ""
        for byte in bytes {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80, scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) || allowed.unicodeScalars.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                out += "%" + hexByte(byte)
            }
        }
        return out
    }

    private static func unknown(_ name: String, in part: String) -> CPKError {
        if unsupportedPath.contains(name) {
            return bad("the attribute \"\(name)\" is not supported here (select the key by token, object, id, type)")
        }
        if name.hasPrefix("x-") { return bad("the vendor attribute \"\(name)\" is not supported") }
        return bad("unknown \(part) attribute \"\(name)\"")
    }

    static func bad(_ why: String) -> CPKError {
        CPKError(.usage, "not a usable PKCS#11 URI: \(why)", reason: .tokenURI)
    }
}

private func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}
