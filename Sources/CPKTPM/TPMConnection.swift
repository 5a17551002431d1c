#if canImport(Glibc)
import Glibc
#endif

import CPKCore
import CTSS2

/// One ESAPI session with a TPM, opened from a TCTI configuration string; its whole lifecycle
/// is here: the TCTI loaded and ESAPI started in `open`, and in `close` every transient object
/// and session this connection made flushed, every persistent reference released, ESAPI and
/// the TCTI finalised. A TPM reached through swtpm's socket (or /dev/tpm0) has no resource
/// manager and three object slots: an object left loaded stays loaded for the next process.
///
/// Use `TPMConnection.with(tcti:)`: the connection cannot outlive the closure.
public final class TPMConnection {
    private var tctiContext: OpaquePointer?
    private var esys: OpaquePointer?
    /// Transient objects and sessions to flush, newest last.
    private var transients: [ESYS_TR] = []
    /// ESAPI's references to persistent objects and NV indices (released, never flushed).
    private var references: [ESYS_TR] = []
    let tctiName: String

    /// Runs `body` with a connection to the TPM `tcti` names (nil: tctildr's default), and
    /// closes it whatever happens.
    public static func with<T>(tcti: String?, _ body: (TPMConnection) throws -> T) throws -> T {
        let connection = try TPMConnection(tcti: tcti)
        defer { connection.close() }
        return try body(connection)
    }

    private init(tcti: String?) throws {
        tctiName = tcti ?? "the default TCTI"
        // tpm2-tss logs its warnings and errors on standard error, several lines for one
        // expected answer (an empty handle); the tools say one line of their own. TSS2_LOG set
        // by the user (for debugging) is kept.
        setenv("TSS2_LOG", "all+NONE", 0)
        if let tcti { try TPMKeyURI.checkTCTI(tcti) }
        var loaded: OpaquePointer? = nil
        let rc = Tss2_TctiLdr_Initialize(tcti, &loaded)
        guard rc == 0, let loaded else {
            throw CPKError(.io, "cannot reach the TPM through \(tctiName): \(Self.decode(rc))", reason: .tpmUnavailable)
        }
        tctiContext = loaded
        var context: OpaquePointer? = nil
        let started = Esys_Initialize(&context, loaded, nil)
        guard started == 0, let context else {
            Tss2_TctiLdr_Finalize(&tctiContext)
            throw CPKError(.io, "cannot start ESAPI with the TPM at \(tctiName): \(Self.decode(started))", reason: .tpmUnavailable)
        }
        esys = context
    }

    deinit { close() }

    /// Flushes what this connection loaded and finalises ESAPI and the TCTI; idempotent.
    func close() {
        guard let context = esys else { return }
        for handle in transients.reversed() { _ = Esys_FlushContext(context, handle) }
        transients = []
        for handle in references.reversed() {
            var reference = handle
            _ = Esys_TR_Close(context, &reference)
        }
        references = []
        Esys_Finalize(&esys)
        esys = nil
        Tss2_TctiLdr_Finalize(&tctiContext)
        tctiContext = nil
    }

    /// The ESAPI context, for a command.
    var context: OpaquePointer {
        get throws {
            guard let esys else { throw CPKError(.io, "the TPM connection is closed", reason: .tpmUnavailable) }
            return esys
        }
    }

    /// Throws a typed error naming `what` failed and the TSS's reading of `rc`.
    func check(_ rc: TSS2_RC, _ what: String) throws {
        guard rc != 0 else { return }
        throw CPKError(.io, "the TPM refused to \(what): \(Self.decode(rc))", reason: .tpmCommandFailed)
    }

    /// Tss2_RC_Decode's text for `rc`, with the code itself.
    static func decode(_ rc: TSS2_RC) -> String {
        let text = Tss2_RC_Decode(rc).map { String(cString: $0) } ?? "unknown"
        return "\(text) (0x\(String(rc, radix: 16)))"
    }

    /// TPM_RC_HANDLE from the TPM (format one, error 0x0B, any handle number): "no such object".
    static func isHandleError(_ rc: TSS2_RC) -> Bool {
        rc & 0xFFFF_0000 == 0 && rc & 0x80 != 0 && rc & 0x3F == 0x0B
    }

    /// Records a transient object or session to flush at close.
    func track(_ handle: ESYS_TR) { transients.append(handle) }

    /// Flushes a transient object or session now (the TPM's slots are few).
    func flush(_ handle: ESYS_TR) {
        guard let esys, let index = transients.lastIndex(of: handle) else { return }
        transients.remove(at: index)
        _ = Esys_FlushContext(esys, handle)
    }

    /// Forgets a session the TPM closed itself (continueSession clear): nothing to flush.
    func forget(_ handle: ESYS_TR) {
        if let index = transients.lastIndex(of: handle) { transients.remove(at: index) }
    }

    /// Records ESAPI's reference to a persistent object, to release at close.
    func remember(_ reference: ESYS_TR) { references.append(reference) }

    /// ESAPI's reference to the object at persistent handle `handle`, or nil when there is none.
    func persistent(_ handle: UInt32) throws -> ESYS_TR? {
        var object: ESYS_TR = ESYS_TR(ESYS_TR_NONE)
        let rc = Esys_TR_FromTPMPublic(try context, handle, ESYS_TR(ESYS_TR_NONE), ESYS_TR(ESYS_TR_NONE), ESYS_TR(ESYS_TR_NONE), &object)
        if Self.isHandleError(rc) { return nil }
        try check(rc, "open the object at \(TPMKeyURI.hex(handle))")
        references.append(object)
        return object
    }
}
