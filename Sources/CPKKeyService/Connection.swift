import COpenSSL
import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// The one deadline of a request, on the monotonic clock (a changed wall clock moves nothing).
struct Deadline {
    private let end: UInt64

    init(after seconds: Double) {
        end = Self.now() &+ UInt64(max(0, min(seconds, 86_400)) * 1e9)
    }

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    var hasPassed: Bool { Self.now() >= end }

    /// For `poll`: what is left, in whole milliseconds rounded up, 0 once passed.
    var remainingMilliseconds: Int32 {
        let now = Self.now()
        guard now < end else { return 0 }
        return Int32(min((end - now + 999_999) / 1_000_000, UInt64(Int32.max)))
    }
}

/// Why a connection failed, for `HTTPClient` to say in one line with the URL.
enum ConnectionError: Error {
    case timedOut
    case hostNotFound(String)
    case refused
    case cannotConnect(String)
    case io(String)
    case tls(String)
    case caFile(String)
}

/// A TCP connection, optionally TLS through OpenSSL, on a non-blocking socket: every connect,
/// read and write waits in `poll` for at most what is left of the deadline, so a slow, silent
/// or trickling server cannot hold the tool past it. Reads return what one `recv`/`SSL_read`
/// gives into the caller's buffer: nothing is queued here, which is the back-pressure the
/// URLSession client lacked (the kernel's socket buffer fills and the server's writes stall).
final class Connection {
    private let socket: Int32
    private let deadline: Deadline
    private var context: OpaquePointer?  // SSL_CTX
    private var tls: OpaquePointer?  // SSL

    private init(socket: Int32, deadline: Deadline) {
        self.socket = socket
        self.deadline = deadline
    }

    deinit {
        if let tls { SSL_free(tls) }
        if let context { SSL_CTX_free(context) }
        close(socket)
    }

    /// Connects to the first address of `host` that accepts, all within `deadline`: name
    /// resolution included (`HostLookup`), then each connect waits only for what is left.
    static func open(host: String, port: Int, deadline: Deadline) throws(ConnectionError) -> Connection {
        let list = try HostLookup.addresses(of: host, port: port, deadline: deadline)
        defer { freeaddrinfo(list) }
        guard !deadline.hasPassed else { throw .timedOut }
        var lastError: Int32 = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = Glibc.socket(
                address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue),
                address.pointee.ai_protocol)
            guard fd >= 0 else {
                lastError = errno
                continue
            }
            let connection = Connection(socket: fd, deadline: deadline)  // closes fd if this address fails
            if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return connection }
            guard errno == EINPROGRESS else {
                lastError = errno
                continue
            }
            try connection.wait(for: POLLOUT)
            var failure: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &size) == 0 else {
                lastError = errno
                continue
            }
            if failure == 0 { return connection }
            lastError = failure
        }
        throw lastError == ECONNREFUSED ? .refused : .cannotConnect(String(cString: strerror(lastError)))
    }

    /// Waits until the socket is ready for `events` or throws `timedOut` at the deadline.
    private func wait(for events: Int32) throws(ConnectionError) {
        while true {
            let left = deadline.remainingMilliseconds
            guard left > 0 else { throw .timedOut }
            var entry = pollfd(fd: socket, events: Int16(events), revents: 0)
            let ready = poll(&entry, 1, left)
            if ready > 0 { return }  // readable, writable, or an error/hang-up the next call reports
            if ready == 0 { throw .timedOut }
            guard errno == EINTR else { throw .io("poll failed: \(String(cString: strerror(errno)))") }
        }
    }

    // MARK: TLS

    /// Makes this a TLS connection to `host` and completes the handshake. The server's
    /// certificate must chain to the system's trusted CAs, or to those in `caFile` only when
    /// given, and name `host` (a DNS name, or an IP address in an IP SAN); TLS 1.2 at least.
    func startTLS(host: String, caFile: String?) throws(ConnectionError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw .tls(Self.openSSLReason("cannot set up TLS")) }
        self.context = context
        guard cpk_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            throw .tls(Self.openSSLReason("cannot require TLS 1.2"))
        }
        // A server that closes without close_notify is common (Python's, for one); the
        // framing (Content-Length, the last chunk) is what says whether an answer is complete.
        cpk_SSL_CTX_ignore_unexpected_eof(context)
        if let caFile {
            // Said apart, because OpenSSL reports a missing file as "no certificate found".
            let file = Glibc.open(caFile, O_RDONLY | O_CLOEXEC)
            guard file >= 0 else { throw .caFile(String(cString: strerror(errno))) }
            close(file)
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw .caFile(Self.openSSLReason("it holds no PEM certificate"))
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            throw .tls(Self.openSSLReason("cannot load the system's trusted CAs"))
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        guard let tls = SSL_new(context) else { throw .tls(Self.openSSLReason("cannot set up TLS")) }
        self.tls = tls
        guard SSL_set_fd(tls, socket) == 1 else { throw .tls(Self.openSSLReason("cannot set up TLS")) }
        if Self.isIPAddress(host) {
            // An IP literal is matched against IP SANs, and is never sent as SNI (RFC 6066 §3).
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls), host) == 1 else {
                throw .tls(Self.openSSLReason("cannot check the address \(host)"))
            }
        } else {
            guard SSL_set1_host(tls, host) == 1, cpk_SSL_set_tlsext_host_name(tls, host) == 1 else {
                throw .tls(Self.openSSLReason("cannot check the host name \(host)"))
            }
        }
        while true {
            ERR_clear_error()
            let result = SSL_connect(tls)
            if result == 1 { return }
            let verified = SSL_get_verify_result(tls)
            if verified != Int(X509_V_OK) {
                throw .tls("certificate verify failed: " + String(cString: X509_verify_cert_error_string(verified)))
            }
            try retry(after: result, what: "the TLS handshake failed")
        }
    }

    /// Waits as OpenSSL asks after a non-blocking call returned `result`, or throws its error.
    private func retry(after result: Int32, what: String) throws(ConnectionError) {
        let cause = errno
        switch SSL_get_error(tls, result) {
        case SSL_ERROR_WANT_READ: try wait(for: POLLIN)
        case SSL_ERROR_WANT_WRITE: try wait(for: POLLOUT)
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0:
            throw .tls(cause == 0 ? "\(what): the server closed the connection" : "\(what): \(String(cString: strerror(cause)))")
        default: throw .tls(Self.openSSLReason(what))
        }
    }

    private static func openSSLReason(_ what: String) -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0, let reason = ERR_reason_error_string(code) else { return what }
        return "\(what): \(String(cString: reason))"
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }

    // MARK: reading and writing

    /// Sends all of `bytes`; throws only `ConnectionError` (`withUnsafeBytes` cannot say so).
    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            var sent = 0
            while sent < buffer.count {
                sent += try send(UnsafeRawBufferPointer(rebasing: buffer[sent...]))
            }
        }
    }

    private func send(_ bytes: UnsafeRawBufferPointer) throws(ConnectionError) -> Int {
        while true {
            if let tls {
                ERR_clear_error()
                let written = SSL_write(tls, bytes.baseAddress, Int32(min(bytes.count, 1 << 20)))
                if written > 0 { return Int(written) }
                try retry(after: written, what: "cannot send the request")
            } else {
                // MSG_NOSIGNAL: a server that closes early gives EPIPE, not a fatal SIGPIPE.
                let written = Glibc.send(socket, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
                if written >= 0 { return written }
                switch errno {
                case EAGAIN, EWOULDBLOCK: try wait(for: POLLOUT)
                case EINTR: continue
                default: throw .io("cannot send the request: \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    /// Reads what is there into `buffer` (waiting for something, up to the deadline);
    /// 0 at the end of the connection.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ConnectionError) -> Int {
        while true {
            if let tls {
                ERR_clear_error()
                let count = SSL_read(tls, buffer.baseAddress, Int32(min(buffer.count, 1 << 20)))
                if count > 0 { return Int(count) }
                if SSL_get_error(tls, count) == SSL_ERROR_ZERO_RETURN { return 0 }
                try retry(after: count, what: "cannot read the answer")
            } else {
                let count = recv(socket, buffer.baseAddress, buffer.count, 0)
                if count >= 0 { return count }
                switch errno {
                case EAGAIN, EWOULDBLOCK: try wait(for: POLLIN)
                case EINTR: continue
                case ECONNRESET: throw .io("the connection was reset")
                default: throw .io("cannot read the answer: \(String(cString: strerror(errno)))")
                }
            }
        }
    }
}

/// `getaddrinfo` on another thread, waited for only until the deadline. The call itself cannot
/// be interrupted, and a resolver that never answers (a dead or hostile DNS server) would hold
/// the tool for as long as the system's retries last (resolv.conf's timeout x attempts, per
/// server); waited for this way, it times out like any other step. A lookup given up on
/// finishes by itself and frees its own result.
private final class HostLookup: @unchecked Sendable {
    /// Guarded by `lock`: the outcome, and whether the caller has stopped waiting.
    private var list: UnsafeMutablePointer<addrinfo>?
    private var status: Int32 = 0
    private var systemError: Int32 = 0
    private var abandoned = false
    private let lock = DispatchQueue(label: "cpk.host-lookup")
    private let finished = DispatchSemaphore(value: 0)

    /// The addresses (never nil: a lookup without any fails); the caller frees them.
    static func addresses(of host: String, port: Int, deadline: Deadline) throws(ConnectionError) -> UnsafeMutablePointer<addrinfo> {
        let lookup = HostLookup()
        DispatchQueue.global().async {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_flags = AI_NUMERICSERV
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &list)
            let systemError = errno
            lookup.lock.sync {
                if lookup.abandoned {
                    if let list { freeaddrinfo(list) }
                } else {
                    (lookup.list, lookup.status, lookup.systemError) = (list, status, systemError)
                }
            }
            lookup.finished.signal()
        }
        if lookup.finished.wait(timeout: .now() + .milliseconds(Int(deadline.remainingMilliseconds))) == .timedOut {
            // The lookup may have stored its result between the wait and here: then it is ours to free.
            let late = lookup.lock.sync { () -> UnsafeMutablePointer<addrinfo>? in
                lookup.abandoned = true
                return lookup.list
            }
            if let late { freeaddrinfo(late) }
            throw .timedOut
        }
        let (list, status, systemError) = lookup.lock.sync { (lookup.list, lookup.status, lookup.systemError) }
        guard status == 0, let list else {
            if let list { freeaddrinfo(list) }
            throw .hostNotFound(
                status == EAI_SYSTEM ? String(cString: strerror(systemError)) : String(cString: gai_strerror(status)))
        }
        return list
    }
}
