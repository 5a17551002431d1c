import CPKCore
import CPKKeys
import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2Posix

#if canImport(FoundationEssentials)
import FoundationEssentials  // Data, the generated messages' bytes type
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc  // signal(), SIGINT, SIGTERM
#endif

/// ocicrypt's `keyprovider.KeyProviderService` over gRPC: what an ocicrypt configuration's
/// `"grpc": "HOST:PORT"` entry calls, as Confidential Containers runs its key provider. Each
/// method carries the JSON request and answer of the cmd mode in its message's bytes field, and
/// is answered by the same `KeyProvider` (key store, parameters, annotation) as that mode.
///
/// The server's whole lifecycle is `serve`: bind, log the address, answer until SIGINT or
/// SIGTERM, stop taking connections, let the requests in flight finish (for at most
/// `Limits.gracePeriod`), return.
@available(macOS 15.0, *)
public enum KeyProviderServer {
    /// The bounds a request from the network meets.
    public struct Limits: Sendable {
        /// A request's largest message: ocicrypt's are a few hundred bytes, and the cmd mode reads
        /// no more. A larger one is refused from its length prefix, before it is buffered.
        public var maxRequestBytes = KeyProviderRequest.sizeLimit
        /// Requests one connection may have in flight at once: with the 64 KiB HTTP/2 window,
        /// what a connection can make the server hold stays in the tens of MiB.
        public var maxConcurrentStreams = 32
        /// How long the requests in flight may take to finish once a signal asks to stop.
        public var gracePeriod: Duration = .seconds(10)
        /// An idle connection is closed after this long (ocicrypt connects for each layer).
        public var maxIdleTime: Duration = .seconds(300)

        public init() {}
    }

    /// Serves until SIGINT or SIGTERM, then stops gracefully; throws a `CPKError` when it
    /// cannot listen.
    /// - Parameters:
    ///   - log: one line of stderr: the address once listening, one line per request (method,
    ///     key id, outcome), warnings, the stop. Never key material.
    ///   - describe: the text of a refusal, as the command line shows it (with its hint).
    ///   - expire: called when requests are still running at the end of the grace period: a
    ///     request blocked on a file (a keypath FIFO) cannot be cancelled, so only ending the
    ///     process stops it. Its clients see the connection close, never half an answer.
    public static func serve(
        provider: KeyProvider, listener: KeyProviderListener, limits: Limits = Limits(),
        log: @escaping @Sendable (String) -> Void, describe: @escaping @Sendable (CPKError) -> String,
        expire: @escaping @Sendable () -> Never
    ) async throws {
        let config = HTTP2ServerTransport.Posix.Config.defaults { config in
            config.rpc.maxRequestPayloadSize = limits.maxRequestBytes
            config.http2.maxConcurrentStreams = limits.maxConcurrentStreams
            config.connection.maxIdleTime = limits.maxIdleTime
        }
        let security: HTTP2ServerTransport.Posix.TransportSecurity
        switch listener.security {
        case .plaintext:
            security = .plaintext
        case .tls(let certificate, let key):
            security = .tls(certificateChain: [.file(path: certificate, format: .pem)], privateKey: .file(path: key, format: .pem))
        }
        let transport = HTTP2ServerTransport.Posix(address: listener.socketAddress, transportSecurity: security, config: config)
        let service = Service(provider: provider, log: log, describe: describe)
        let server = GRPCServer(transport: transport, services: [service], interceptors: [RefusalLog(log: log, maxRequestBytes: limits.maxRequestBytes)])

        // The signals are taken before the server starts, so that none arriving during start-up
        // kills the process with the default action instead of stopping it cleanly.
        let signals = SignalWatch([SIGINT, SIGTERM])
        defer { signals.stop() }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            let address: GRPCNIOTransportCore.SocketAddress
            do {
                address = try await transport.listeningAddress
            } catch {
                // The transport says only that it has no address; the server's task has the cause.
                var cause: any Error = error
                do { try await group.next() } catch let failure { cause = failure }
                group.cancelAll()
                throw CPKError.io("cannot listen on \(listener.text): \(Self.reason(cause))")
            }
            log("listening on \(Self.text(address))\(listener.isTLS ? " (TLS)" : "") as the key provider \(provider.names.joined(separator: ", "))")
            group.addTask {
                // Ends when a signal comes, or when the task is cancelled because the server
                // stopped by itself.
                guard let signal = await signals.next() else { return }
                log("\(signal == SIGINT ? "SIGINT" : "SIGTERM"): stopping; finishing the requests in flight")
                server.beginGracefulShutdown()
                // Cancelled (so never past this line) when the server stops in time.
                try await Task.sleep(for: limits.gracePeriod)
                log("requests still running after \(limits.gracePeriod) were cut off")
                expire()
            }
            do {
                // The first task to end is the server, once stopped (or failed): the signal
                // task ends only by a signal followed by the server's stop, or by expire().
                try await group.next()
                group.cancelAll()
            } catch {
                group.cancelAll()
                throw CPKError.io("the key provider server stopped: \(Self.reason(error))")
            }
            while (try? await group.next()) != nil {}
        }
        log("stopped")
    }

    /// An error's own words: a RuntimeError's message and cause, not its type dump.
    static func reason(_ error: any Error) -> String {
        if let error = error as? CPKError { return error.message }
        if let error = error as? RuntimeError {
            // "Server transport threw an error." says nothing: its cause says what.
            return error.cause.map { reason($0) } ?? TerminalText.escaped(error.message)
        }
        return TerminalText.escaped(String(describing: error))
    }

    static func text(_ address: GRPCNIOTransportCore.SocketAddress) -> String {
        if let ipv4 = address.ipv4 { return "\(ipv4.host):\(ipv4.port)" }
        if let ipv6 = address.ipv6 { return "[\(ipv6.host)]:\(ipv6.port)" }
        return String(describing: address)
    }

    /// The two methods, answered by the provider; one log line per request.
    struct Service: Keyprovider_KeyProviderService.SimpleServiceProtocol {
        let provider: KeyProvider
        let log: @Sendable (String) -> Void
        let describe: @Sendable (CPKError) -> String

        func wrapKey(
            request: Keyprovider_keyProviderKeyWrapProtocolInput, context: ServerContext
        ) async throws -> Keyprovider_keyProviderKeyWrapProtocolOutput {
            try answer(request, .wrap, method: "WrapKey", context: context)
        }

        func unWrapKey(
            request: Keyprovider_keyProviderKeyWrapProtocolInput, context: ServerContext
        ) async throws -> Keyprovider_keyProviderKeyWrapProtocolOutput {
            try answer(request, .unwrap, method: "UnWrapKey", context: context)
        }

        private func answer(
            _ request: Keyprovider_keyProviderKeyWrapProtocolInput, _ operation: KeyProvider.Operation, method: String,
            context: ServerContext
        ) throws -> Keyprovider_keyProviderKeyWrapProtocolOutput {
            RefusalLog.current?.logged = true  // this method writes the request's line, whatever happens
            let peer = TerminalText.escaped(context.remotePeer)
            do {
                let answer = try provider.answer(Array(request.keyProviderKeyWrapProtocolInput), expected: operation)
                // Warnings quote the request (a kid, a parameter): escaped, like every such text.
                for warning in answer.warnings { log("warning: \(method) from \(peer): \(TerminalText.escaped(warning))") }
                log("\(method) from \(peer): kid \(TerminalText.escaped(answer.keyID)): \(operation == .wrap ? "wrapped" : "unwrapped")")
                var output = Keyprovider_keyProviderKeyWrapProtocolOutput()
                output.keyProviderKeyWrapProtocolOutput = Data(answer.response)
                return output
            } catch let error as CPKError {
                let message = describe(error)
                log("\(method) from \(peer): refused: \(message)")
                throw RPCError(code: Self.code(error), message: message)
            } catch {
                // Not one of ours (a bug): the client learns nothing of it, the log says what.
                log("\(method) from \(peer): failed: \(TerminalText.escaped(String(describing: error)))")
                throw RPCError(code: .internalError, message: "the key provider failed; its log says why")
            }
        }

        static func code(_ error: CPKError) -> RPCError.Code {
            switch error.kind {
            case .invalidInput: return .invalidArgument
            case .checkFailed: return .permissionDenied
            case .usage: return .failedPrecondition
            case .io: return .unavailable
            }
        }
    }
}

/// The log line of a request refused before it reaches the service: a message over the size
/// limit (refused by the transport from its length prefix), or one that is not the protobuf
/// message. The service logs every request it is given; this logs the others, so that each
/// request still has its one line.
struct RefusalLog: ServerInterceptor {
    let log: @Sendable (String) -> Void
    let maxRequestBytes: Int

    /// Whether the service logged the request: set by the service, read here afterwards, in the
    /// one task that runs both (the interceptor calls the handler inline), hence unchecked.
    final class Mark: @unchecked Sendable { var logged = false }

    @TaskLocal static var current: Mark?

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let mark = Mark()
        do {
            return try await Self.$current.withValue(mark) { try await next(request, context) }
        } catch {
            if !mark.logged {
                // The transport enforces the size limit in its deframer, whose one word for any
                // failure is "Failed to decode message": said here in full.
                let reason = (error as? RPCError).map { rpc in
                    rpc.message.hasPrefix("Failed to decode message")
                        ? "the message is larger than \(maxRequestBytes) bytes, or not gRPC's framing"
                        : "\(rpc.code): \(rpc.message)" + (rpc.cause.map { " (\(KeyProviderServer.reason($0)))" } ?? "")
                } ?? String(describing: error)
                log("\(TerminalText.escaped(context.descriptor.method)) from \(TerminalText.escaped(context.remotePeer)): refused: \(TerminalText.escaped(reason))")
            }
            throw error
        }
    }
}

/// SIGINT and SIGTERM as an async sequence: the default action (dying mid-answer) is turned
/// off while the server runs, and each signal is delivered through Dispatch.
///
/// Unchecked: Dispatch's source type is not marked Sendable, but its sources are set up once in
/// `init` and only cancelled afterwards, which Dispatch allows from any thread.
final class SignalWatch: @unchecked Sendable {
    private let sources: [DispatchSourceSignal]
    private let stream: AsyncStream<Int32>
    private let continuation: AsyncStream<Int32>.Continuation

    init(_ numbers: [Int32]) {
        (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let continuation = self.continuation
        sources = numbers.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    /// The next signal, or nil once stopped (or when the waiting task is cancelled).
    func next() async -> Int32? {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next()
    }

    /// Stops watching and gives the signals their default action back.
    func stop() {
        for source in sources { source.cancel() }
        continuation.finish()
        for number in [SIGINT, SIGTERM] { signal(number, SIG_DFL) }
    }
}

extension KeyProviderListener {
    /// The transport's form of the address.
    var socketAddress: GRPCNIOTransportCore.SocketAddress {
        switch family {
        case .ipv4: return .ipv4(host: host, port: port)
        case .ipv6: return .ipv6(host: host, port: port)
        }
    }
}
