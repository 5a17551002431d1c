import CLibP11
import CPKCore

#if canImport(Glibc)
import Glibc
#endif

extension CPKError.Reason {
    /// The text given as a PKCS#11 URI is not one this code can use.
    public static let tokenURI = CPKError.Reason(rawValue: "token-uri")
    /// The PKCS#11 module is missing or cannot be loaded.
    public static let tokenModuleMissing = CPKError.Reason(rawValue: "token-module-missing")
    /// No initialised token matches the URI.
    public static let tokenMissing = CPKError.Reason(rawValue: "token-missing")
    /// The token refused the PIN (or it is locked), or a PIN is needed and none was given.
    public static let tokenPIN = CPKError.Reason(rawValue: "token-pin")
    /// The token holds no (or more than one) private key matching the URI.
    public static let tokenObjectMissing = CPKError.Reason(rawValue: "token-object-missing")
    /// The token refused the operation for this key (mechanism unsupported or not permitted).
    public static let tokenMechanism = CPKError.Reason(rawValue: "token-mechanism")
}

/// Where the PIN of a token comes from: never the command line.
public enum TokenPINSource: Sendable, Equatable {
    /// The first line of a file.
    case file(String)
    /// Everything readable from an inherited file descriptor (to its end), first line.
    case descriptor(Int32)
    /// An environment variable's value.
    case environment(String)
}

/// How to reach a token: the module and the PIN, as the caller was told (flags, configuration),
/// each else taken from the URI's query, else from the environment, else the default.
public struct TokenAccess: Sendable {
    /// Explicitly given module and PIN (they win over the URI and the environment).
    public var module: String?
    public var pin: TokenPINSource?

    /// The environment variables that name the module and hold the PIN.
    public static let moduleVariable = "CPK_PKCS11_MODULE"
    public static let pinVariable = "CPK_PKCS11_PIN"
    /// SoftHSM2's module on Debian: what the tests use, and the module of a development machine.
    public static let defaultModule = "/usr/lib/softhsm/libsofthsm2.so"
    /// A PIN is short; anything longer is a wrong file.
    static let pinLimit = 256

    public init(module: String? = nil, pin: TokenPINSource? = nil) {
        self.module = module
        self.pin = pin
    }

    /// The module to load for `uri`: the explicit one, the URI's module-path, $CPK_PKCS11_MODULE, the default.
    public func module(for uri: PKCS11URI) -> String {
        if let module, !module.isEmpty { return module }
        if let path = uri.modulePath { return path }
        if let value = getenv(Self.moduleVariable), value.pointee != 0 { return String(cString: value) }
        return Self.defaultModule
    }

    /// Where the PIN for `uri` comes from: the explicit source, the URI's pin-source,
    /// $CPK_PKCS11_PIN, or none (a token without login).
    public func pinSource(for uri: PKCS11URI) -> TokenPINSource? {
        if let pin { return pin }
        if let path = uri.pinSource { return .file(path) }
        if let value = getenv(Self.pinVariable), value.pointee != 0 { return .environment(Self.pinVariable) }
        return nil
    }

    /// The PIN's bytes (a NUL-terminated C string), which the caller wipes.
    func readPIN(_ source: TokenPINSource) throws -> [CChar] {
        var bytes: [UInt8]
        switch source {
        case .environment(let name):
            guard let value = getenv(name) else { throw CPKError(.usage, "\(name) is not set", reason: .tokenPIN) }
            bytes = Array(String(cString: value).utf8)
        case .file(let path):
            let file = try FileDescriptor.open(forReading: path)
            bytes = try Self.readSmall(file, what: "the PIN file \(path)")
        case .descriptor(let number):
            // read to its end: a terminal would wait for someone to type, in silence
            guard isatty(number) == 0 else {
                throw CPKError(.usage, "the PIN descriptor \(number) is a terminal; a PIN is never typed in", reason: .tokenPIN)
            }
            bytes = try Self.readSmall(
                FileDescriptor(fd: number, name: "descriptor \(number)", owned: false), what: "the PIN descriptor \(number)")
        }
        defer { wipe(&bytes) }
        // The first line: a PIN file written by `echo` ends in a newline that is no part of it.
        let line = bytes.prefix { $0 != 0x0A && $0 != 0x0D }
        guard !line.isEmpty else { throw CPKError(.usage, "the PIN is empty", reason: .tokenPIN) }
        guard !line.contains(0) else { throw CPKError(.usage, "the PIN holds a NUL byte", reason: .tokenPIN) }
        return line.map { CChar(bitPattern: $0) } + [0]
    }

    private static func readSmall(_ file: FileDescriptor, what: String) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: pinLimit + 1)
        let count = try buffer.withUnsafeMutableBytes { try file.readFully(into: $0) }
        guard count <= pinLimit else {
            wipe(&buffer)
            throw CPKError(.usage, "\(what) is longer than \(pinLimit) bytes: not a PIN", reason: .tokenPIN)
        }
        buffer.removeSubrange(count...)
        return buffer
    }
}

/// Keys held in a PKCS#11 token, used through libp11's OpenSSL engine: the private key never
/// leaves the token; OpenSSL asks the token to sign or decrypt.
///
/// Before the engine is asked for a key, libp11 finds the token, logs in and finds the object
/// itself, so that every failure is named (module, token, PIN, object) instead of the engine's
/// one "object not found".
public enum TokenKeys {
    /// An RSA private key in a token, for unwrapping.
    public static func rsaPrivateKey(_ uri: PKCS11URI, access: TokenAccess) throws -> RSAPrivateKey {
        let key = try loadPrivateKey(uri, access: access)
        try checkWrappingKey(key, what: "the token key \(uri)")
        return RSAPrivateKey(key: key)
    }

    /// A private key in a token, for signing.
    public static func signingKey(_ uri: PKCS11URI, access: TokenAccess) throws -> SigningKey {
        let key = try SigningKey(adopting: try loadPrivateKey(uri, access: access))
        try key.requireSigningStrength()
        return key
    }

    /// Makes an RSA key pair inside the token, labelled with the URI's object (and id, if it
    /// gives one): private, sensitive, never extractable. Refuses when the label is taken.
    /// Returns the public half.
    public static func generateRSA(_ uri: PKCS11URI, bits: Int, access: TokenAccess) throws -> PublicKey {
        guard RSAPrivateKey.generatableSizes.contains(bits) else {
            throw CPKError.usage("RSA key size must be one of \(RSAPrivateKey.generatableSizes.map(String.init).joined(separator: ", ")) bits")
        }
        guard let label = uri.object else {
            throw PKCS11URI.bad("making a key needs its label: object=NAME")
        }
        guard uri.type == nil || uri.type == "private" else { throw PKCS11URI.bad("a key pair is made by its private key: type=private") }
        return try Session.shared.withToken(uri, access: access, readWrite: true) { slot in
            if try Session.findPrivateKey(slot, uri: uri) != nil {
                throw CPKError(.usage, "the token already holds a private key \(uri); choose another object=", reason: .tokenObjectMissing)
            }
            // A random CKA_ID unless the URI names one: the engine and pkcs11-tool match by id too.
            var id = try uri.id ?? SecureRandom.bytes(8)
            var labelBytes = Array(label.utf8CString)
            guard let token = slot.pointee.token,
                cpk_p11_generate_rsa(token, UInt32(bits), &labelBytes, &id, id.count) == 0
            else {
                throw CPKError(.io, "the token cannot make a \(bits)-bit RSA key pair (\(lastP11Error()))", reason: .tokenMechanism)
            }
            var keys: UnsafeMutablePointer<PKCS11_KEY>? = nil
            var count: UInt32 = 0
            guard PKCS11_enumerate_public_keys(token, &keys, &count) == 0, let keys else {
                throw CPKError.io("the token made the key pair but does not list its public key")
            }
            for index in 0..<count {
                let candidate = cpk_p11_key(keys, index)!
                guard let name = candidate.pointee.label, String(cString: name) == label,
                    Array(UnsafeBufferPointer(start: candidate.pointee.id, count: candidate.pointee.id_len)) == id,
                    let pointer = PKCS11_get_public_key(candidate)
                else { continue }
                return try PublicKey(adopting: EVPKey(pointer), from: "the token's new public key")
            }
            throw CPKError.io("the token made the key pair but does not list its public key")
        }
    }

    static func loadPrivateKey(_ uri: PKCS11URI, access: TokenAccess) throws -> EVPKey {
        guard uri.type == nil || uri.type == "private" else {
            throw PKCS11URI.bad("type=\(uri.type ?? "") names no private key; a private key is needed (type=private)")
        }
        return try Session.shared.privateKey(uri, access: access)
    }

    /// The PKCS#11 return values by which a token refuses to use a key for an operation.
    static let refusingReturnValues: [UInt: String] = [
        0x63: "CKR_KEY_TYPE_INCONSISTENT", 0x68: "CKR_KEY_FUNCTION_NOT_PERMITTED",
        0x70: "CKR_MECHANISM_INVALID", 0x71: "CKR_MECHANISM_PARAM_INVALID",
    ]

    /// The name of a refusing PKCS#11 return value among `codes` (an OpenSSL error queue), if
    /// any. libp11 reports a token's answer as an error whose reason is the CKR_ value, in an
    /// error library it registers at run time: numbers from ERR_LIB_USER up are such libraries,
    /// OpenSSL's own are below, so an RSA padding error never reads as a token's refusal.
    static func refusedReturnValue(in codes: [UInt]) -> String? {
        for code in codes where ERR_GET_LIB(code) >= ERR_LIB_USER {
            if let name = refusingReturnValues[UInt(ERR_GET_REASON(code))] { return name }
        }
        return nil
    }

    /// The error for a signature the token refused (`underlying` says what OpenSSL heard):
    /// the key does not fit the operation, status 1.
    static func refusal(_ operation: String, underlying: CPKError) -> CPKError {
        CPKError(
            .invalidInput,
            "the token refused \(operation) with this key: the mechanism is not supported or not permitted for it (\(underlying.message))",
            reason: .tokenMechanism)
    }
}

/// The last OpenSSL/libp11 error as short text, then the queue cleared.
func lastP11Error() -> String {
    let code = ERR_peek_last_error()
    ERR_clear_error()
    guard code != 0, let reason = ERR_reason_error_string(code) else { return "no detail" }
    return String(cString: reason)
}

/// The process's one view of the PKCS#11 modules: libp11 contexts (kept loaded: unloading
/// would finalise the module under the engine's feet) and the engine, which binds to one module
/// for the life of the process.
private final class Session: @unchecked Sendable {
    static let shared = Session()

    private var mutex = pthread_mutex_t()
    private var contexts: [String: (context: UnsafeMutablePointer<PKCS11_CTX>, slots: UnsafeMutablePointer<PKCS11_SLOT>, count: UInt32)] = [:]
    private var engine: OpaquePointer?
    private var engineModule: String?

    private init() {
        pthread_mutex_init(&mutex, nil)
        // tpm2-pkcs11 is finalised when the process exits: it keeps the TPM objects it loaded
        // until C_Finalize, and a TPM reached without a resource manager (swtpm's socket) has
        // three object slots and never flushes for a process that went away, so an unfinalised
        // module fills it after two or three runs. Only that module: SoftHSM2 crashes when the
        // engine's keys are freed after its C_Finalize, and needs no such care.
        atexit { Session.shared.finalizeModules(where: { $0.contains("tpm2_pkcs11") }) }
    }

    /// Closes the sessions and finalises (C_Finalize) the modules whose path passes `chosen`.
    private func finalizeModules(where chosen: (String) -> Bool) {
        locked {
            for (module, known) in contexts where chosen(module) {
                PKCS11_release_all_slots(known.context, known.slots, known.count)
                PKCS11_CTX_unload(known.context)
                contexts[module] = nil
            }
        }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    func privateKey(_ uri: PKCS11URI, access: TokenAccess) throws -> EVPKey {
        let module = access.module(for: uri)
        var pin = try access.pinSource(for: uri).map(access.readPIN)
        defer { if pin != nil { pin!.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } } }
        try withToken(uri, access: access, readWrite: false, pin: pin) { slot in
            guard try Self.findPrivateKey(slot, uri: uri) != nil else {
                throw CPKError(.usage, "the token holds no private key \(uri)", reason: .tokenObjectMissing)
            }
        }
        return try locked {
            let engine = try engine(module: module)
            if let pin {
                guard pin.withUnsafeBufferPointer({ ENGINE_ctrl_cmd_string(engine, "PIN", $0.baseAddress, 0) }) == 1 else {
                    throw CPKError.io("the PKCS#11 engine does not take the PIN (\(lastP11Error()))")
                }
            }
            guard let pointer = ENGINE_load_private_key(engine, uri.description, nil, nil) else {
                throw CPKError(.io, "the PKCS#11 engine cannot load \(uri) (\(lastP11Error()))", reason: .tokenObjectMissing)
            }
            return EVPKey(pointer)
        }
    }

    /// Runs `body` with the slot of the one token `uri` names, logged in when there is a PIN.
    func withToken<T>(
        _ uri: PKCS11URI, access: TokenAccess, readWrite: Bool, pin givenPIN: [CChar]? = nil,
        _ body: (UnsafeMutablePointer<PKCS11_SLOT>) throws -> T
    ) throws -> T {
        let module = access.module(for: uri)
        var pin = try givenPIN ?? access.pinSource(for: uri).map(access.readPIN)
        defer { if pin != nil { pin!.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } } }
        return try locked {
            let (slots, count) = try slots(module: module)
            var found: [UnsafeMutablePointer<PKCS11_SLOT>] = []
            var labels: [String] = []
            for index in 0..<count {
                guard let slot = cpk_p11_slot(slots, index), let token = slot.pointee.token, token.pointee.initialized != 0
                else { continue }
                let label = token.pointee.label.map { String(cString: $0) } ?? ""
                labels.append(label)
                if Self.matches(token.pointee, uri) { found.append(slot) }
            }
            guard found.count == 1, let slot = found.first else {
                let which = found.isEmpty ? "no token matches" : "\(found.count) tokens match"
                let present = labels.isEmpty ? "it has no initialised token" : "its tokens: " + labels.map { "\"\($0)\"" }.joined(separator: ", ")
                throw CPKError(.usage, "\(which) \(uri) in the module \(module) (\(present))", reason: .tokenMissing)
            }
            guard PKCS11_open_session(slot, readWrite ? 1 : 0) == 0 else {
                throw CPKError(.io, "cannot open a session with the token \(uri) (\(lastP11Error()))", reason: .tokenMissing)
            }
            if let pin {
                var loggedIn: Int32 = 0
                if PKCS11_is_logged_in(slot, 0, &loggedIn) != 0 { loggedIn = 0 }
                if loggedIn == 0, pin.withUnsafeBufferPointer({ PKCS11_login(slot, 0, $0.baseAddress) }) != 0 {
                    let code = ERR_peek_last_error()
                    ERR_clear_error()
                    let reason = cpk_p11_error_reason(code)
                    let why = reason == 0xA4 ? "the PIN is locked" : reason == 0xA0 ? "wrong PIN" : "login refused"
                    throw CPKError(.usage, "\(why) for the token \(uri)", reason: .tokenPIN)
                }
            } else if let token = slot.pointee.token, token.pointee.loginRequired != 0 {
                throw CPKError(
                    .usage, "the token \(uri) needs a PIN (a PIN file or descriptor, \(TokenAccess.pinVariable), or the URI's pin-source)",
                    reason: .tokenPIN)
            }
            return try body(slot)
        }
    }

    static func matches(_ token: PKCS11_TOKEN, _ uri: PKCS11URI) -> Bool {
        func same(_ field: UnsafeMutablePointer<CChar>?, _ wanted: String?) -> Bool {
            guard let wanted else { return true }
            return field.map { String(cString: $0) } == wanted
        }
        return same(token.label, uri.token) && same(token.manufacturer, uri.manufacturer) && same(token.model, uri.model)
            && same(token.serialnr, uri.serial)
    }

    /// The private key the URI names in this token, nil when there is none; refuses an ambiguous URI.
    static func findPrivateKey(_ slot: UnsafeMutablePointer<PKCS11_SLOT>, uri: PKCS11URI) throws -> UnsafeMutablePointer<PKCS11_KEY>? {
        guard let token = slot.pointee.token else { return nil }
        var keys: UnsafeMutablePointer<PKCS11_KEY>? = nil
        var count: UInt32 = 0
        guard PKCS11_enumerate_keys(token, &keys, &count) == 0 else {
            // libp11 0.4 fails the whole listing when one key is of a type it does not know
            // (Ed25519, Ed448): the likeliest cause, so the message says it.
            ERR_clear_error()
            throw CPKError(
                .usage,
                "cannot list the keys of the token \(uri): libp11 fails on a token holding a key type it does not know (e.g. Ed25519); keep such keys in another token",
                reason: .tokenObjectMissing)
        }
        guard let keys else { return nil }
        var found: [UnsafeMutablePointer<PKCS11_KEY>] = []
        for index in 0..<count {
            guard let key = cpk_p11_key(keys, index) else { continue }
            let label = key.pointee.label.map { String(cString: $0) }
            let id = Array(UnsafeBufferPointer(start: key.pointee.id, count: key.pointee.id_len))
            if let object = uri.object, label != object { continue }
            if let wanted = uri.id, id != wanted { continue }
            found.append(key)
        }
        guard found.count <= 1 else {
            throw CPKError(.usage, "\(found.count) private keys match \(uri); name one by object= and id=", reason: .tokenObjectMissing)
        }
        return found.first
    }

    private func slots(module: String) throws -> (UnsafeMutablePointer<PKCS11_SLOT>, UInt32) {
        if let known = contexts[module] { return (known.slots, known.count) }
        guard access(module, R_OK) == 0 else {
            throw CPKError(.usage, "the PKCS#11 module \(module) is missing (\(String(cString: strerror(errno))))", reason: .tokenModuleMissing)
        }
        guard let context = PKCS11_CTX_new() else { throw CPKError.io("cannot set up libp11") }
        guard PKCS11_CTX_load(context, module) == 0 else {
            PKCS11_CTX_free(context)
            throw CPKError(.usage, "the PKCS#11 module \(module) cannot be loaded (\(lastP11Error()))", reason: .tokenModuleMissing)
        }
        var slots: UnsafeMutablePointer<PKCS11_SLOT>? = nil
        var count: UInt32 = 0
        guard PKCS11_enumerate_slots(context, &slots, &count) == 0, let slots else {
            throw CPKError(.usage, "the PKCS#11 module \(module) lists no slots (\(lastP11Error()))", reason: .tokenMissing)
        }
        contexts[module] = (context, slots, count)
        return (slots, count)
    }

    /// libp11's engine, loaded from OpenSSL's engines directory (no openssl.cnf involved) and
    /// bound to `module`.
    private func engine(module: String) throws -> OpaquePointer {
        if let engine {
            guard engineModule == module else {
                throw CPKError.usage("one process uses one PKCS#11 module: \(engineModule ?? "") is in use, not \(module)")
            }
            return engine
        }
        guard let engine = ENGINE_by_id("pkcs11") else {
            throw CPKError(
                .usage, "OpenSSL's pkcs11 engine is missing (Debian: apt install libengine-pkcs11-openssl) (\(lastP11Error()))",
                reason: .tokenModuleMissing)
        }
        // QUIET: the engine's own messages would go to stderr; failures are named here instead.
        _ = ENGINE_ctrl_cmd_string(engine, "QUIET", nil, 0)
        guard ENGINE_ctrl_cmd_string(engine, "MODULE_PATH", module, 0) == 1, ENGINE_init(engine) == 1 else {
            ENGINE_free(engine)
            throw CPKError(.usage, "the pkcs11 engine cannot use the module \(module) (\(lastP11Error()))", reason: .tokenModuleMissing)
        }
        ENGINE_free(engine)  // the functional reference from ENGINE_init keeps it
        self.engine = engine
        engineModule = module
        return engine
    }
}
