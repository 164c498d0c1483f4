public import NIOSSL

/// Where and how a client connects: the server, how it is trusted, and the caller's credential.
public struct ClientConfiguration: Sendable {
    public enum TransportSecurity: Sendable {
        /// TLS 1.2 or later, the server verified against `caPath` (PEM); optionally with a client
        /// certificate (mutual TLS).
        case tls(caPath: String, clientCertificatePath: String? = nil, clientKeyPath: String? = nil)
        /// Plaintext, for a daemon started with --insecure-plaintext on loopback.
        case insecurePlaintext
    }

    public var host: String
    public var port: Int
    public var transportSecurity: TransportSecurity
    /// Sent as "authorization: Bearer <token>" on every call, when set.
    public var bearerToken: String?
    public var maximumPayloadLength: Int
    /// The newest TLS version offered; nil = the newest supported (1.3).
    public var maximumTLSVersion: TLSVersion?

    public init(
        host: String,
        port: Int,
        transportSecurity: TransportSecurity,
        bearerToken: String? = nil,
        maximumPayloadLength: Int = 4 * 1024 * 1024
    ) {
        self.host = host
        self.port = port
        self.transportSecurity = transportSecurity
        self.bearerToken = bearerToken
        self.maximumPayloadLength = maximumPayloadLength
    }
}

/// Why the client could not connect or the connection failed; not a call's status.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
