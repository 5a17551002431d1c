import CPKCore

#if canImport(Glibc)
import Glibc  // inet_pton
#endif

/// Where the key provider's gRPC server listens, and whether that is allowed: loopback by
/// default; another address only with TLS, or when the operator says plaintext there is meant.
///
/// A key provider unwraps layer keys for whoever asks: on loopback, that is this machine's
/// users; beyond it, anyone who can reach the port. (TLS hides the keys on the wire; it does not
/// choose who may ask, so a firewall or a private network still decides that.) Here, below the
/// server, so that the rules are tested without a network and the command line only names them.
public struct KeyProviderListener: Sendable, Equatable {
    public enum Security: Sendable, Equatable {
        case plaintext
        /// PEM files: the certificate chain and its private key.
        case tls(certificate: String, key: String)
    }

    public enum Family: Sendable, Equatable { case ipv4, ipv6 }

    /// The numeric address (`localhost` is read as 127.0.0.1).
    public let host: String
    public let family: Family
    /// 0 asks the system for a free port (the log line says which).
    public let port: Int
    public let security: Security

    /// `HOST:PORT` as given, for messages.
    public var text: String { family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
    public var isTLS: Bool { security != .plaintext }

    /// Reads `HOST:PORT` (`127.0.0.1:50000`, `[::1]:50000`, `localhost:50000`) and checks the
    /// rule above.
    /// - Parameter plaintextBeyondLoopback: the operator's explicit choice to serve without TLS
    ///   on an address other machines reach.
    public init(parsing address: String, security: Security, plaintextBeyondLoopback: Bool) throws {
        guard let colon = address.lastIndex(of: ":") else {
            throw CPKError.usage("the listen address \"\(address)\" is not HOST:PORT (e.g. 127.0.0.1:50000)")
        }
        var host = String(address[..<colon])
        let portText = address[address.index(after: colon)...]
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText),
            port <= 65535
        else {
            throw CPKError.usage("the listen address \"\(address)\" has no port from 0 to 65535")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2 {
            host = String(host.dropFirst().dropLast())
            guard Self.isAddress(host, family: AF_INET6) else {
                throw CPKError.usage("the listen address \"\(address)\" has no valid IPv6 address between its brackets")
            }
            family = .ipv6
        } else if host == "localhost" {
            host = "127.0.0.1"  // a name resolved here, once, not by whatever the resolver says
            family = .ipv4
        } else if Self.isAddress(host, family: AF_INET) {
            family = .ipv4
        } else {
            throw CPKError.usage(
                "the listen address \"\(address)\" is not an IPv4 address, [IPv6] address or localhost with a port")
        }
        self.host = host
        self.port = port
        self.security = security
        if !isLoopback && security == .plaintext && !plaintextBeyondLoopback {
            throw CPKError(
                .usage,
                "\(text) is not a loopback address: layer keys would cross the network in plaintext to whoever asks; "
                    + "listen on 127.0.0.1, or serve TLS, or allow plaintext there explicitly",
                reason: .plaintextBeyondLoopback)
        }
    }

    /// 127.0.0.0/8 and ::1 (also as ::ffff:127.x.y.z).
    public var isLoopback: Bool {
        switch family {
        case .ipv4: return host.split(separator: ".").first == "127"
        case .ipv6:
            var bytes = [UInt8](repeating: 0, count: 16)
            guard inet_pton(AF_INET6, host, &bytes) == 1 else { return false }
            if bytes[..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
            return bytes[..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
        }
    }

    private static func isAddress(_ text: String, family: Int32) -> Bool {
        var bytes = [UInt8](repeating: 0, count: 16)
        return inet_pton(family, text, &bytes) == 1
    }
}
