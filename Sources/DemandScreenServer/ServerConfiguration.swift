public import DemandScreenRPC
import Foundation
public import NIOSSL

/// How the server listens and what it accepts. The daemon fills it from its configuration.
public struct ServerConfiguration: Sendable {
    /// TLS material and policy.
    public struct TLS: Sendable {
        /// PEM file with the server certificate first, then any intermediates.
        public var certificateChainPath: String
        /// PEM file with the server's private key.
        public var privateKeyPath: String
        /// PEM file of the CA that issues client certificates. When set, a client may present a
        /// certificate (verified against it) instead of a token; when nil, none is requested.
        public var clientCAPath: String?
        /// The oldest TLS version accepted: 1.3 by default, 1.2 if configured, never lower.
        public var minimumVersion: TLSVersion

        public init(
            certificateChainPath: String,
            privateKeyPath: String,
            clientCAPath: String? = nil,
            minimumVersion: TLSVersion = .tlsv13
        ) {
            self.certificateChainPath = certificateChainPath
            self.privateKeyPath = privateKeyPath
            self.clientCAPath = clientCAPath
            self.minimumVersion = minimumVersion
        }
    }

    /// TLS, or plaintext only where explicitly asked for and only on loopback.
    public enum TransportSecurity: Sendable {
        case tls(TLS)
        case insecurePlaintext
    }

    public var host: String
    /// 0 picks a free port; `DemandScreenServer.boundAddress()` tells which.
    public var port: Int
    public var transportSecurity: TransportSecurity
    /// Frames whose payload is longer are refused and the connection closed.
    public var maximumPayloadLength: Int
    /// Calls one connection may have in flight; the server stops reading beyond it.
    public var maximumConcurrentCallsPerConnection: Int
    /// What the server grants hostile or broken clients.
    public var limits: Limits

    /// Bounds on connections, calls, time and buffers.
    public struct Limits: Sendable {
        /// Open connections in total; a connection beyond it is closed at once.
        public var maxConnections: Int
        /// Open connections from one source address; a connection beyond it is closed at once.
        public var maxConnectionsPerAddress: Int
        /// Calls in flight in total and per caller identity, and each identity's rate.
        public var calls: CallLimiter.Limits
        /// How long a client may take to complete the TLS handshake.
        public var handshakeTimeout: Duration
        /// How long a connection may go without a frame in either direction while it has no call
        /// in flight; also how long a client may leave its answers unread beyond
        /// `maxBufferedResponseBytes` before it is closed.
        public var idleTimeout: Duration
        /// How long a frame may take to arrive once its first byte has (while the server reads).
        public var frameTimeout: Duration
        /// Answer bytes waiting in the server for one connection (also the channel's high-water
        /// mark): beyond it the server starts no new call of the connection and stops reading its
        /// requests until half of them have reached the socket.
        public var maxBufferedResponseBytes: Int

        /// The daemon's defaults.
        public init(
            maxConnections: Int = 4096,
            maxConnectionsPerAddress: Int = 1024,
            calls: CallLimiter.Limits = .init(),
            handshakeTimeout: Duration = .seconds(10),
            idleTimeout: Duration = .seconds(300),
            frameTimeout: Duration = .seconds(30),
            maxBufferedResponseBytes: Int = 4 << 20
        ) {
            self.maxConnections = maxConnections
            self.maxConnectionsPerAddress = maxConnectionsPerAddress
            self.calls = calls
            self.handshakeTimeout = handshakeTimeout
            self.idleTimeout = idleTimeout
            self.frameTimeout = frameTimeout
            self.maxBufferedResponseBytes = maxBufferedResponseBytes
        }
    }

    public init(
        host: String,
        port: Int,
        transportSecurity: TransportSecurity,
        maximumPayloadLength: Int = 4 * 1024 * 1024,
        maximumConcurrentCallsPerConnection: Int = 256,
        limits: Limits = .init()
    ) {
        self.host = host
        self.port = port
        self.transportSecurity = transportSecurity
        self.maximumPayloadLength = maximumPayloadLength
        self.maximumConcurrentCallsPerConnection = maximumConcurrentCallsPerConnection
        self.limits = limits
    }

    /// Whether `host` names only this machine.
    public static func isLoopback(host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".")
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

/// Why the server could not start, naming the setting or file at fault.
public struct ServerStartError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// Whether a later start may succeed (the address is taken now), rather than a setting or a
    /// file being wrong.
    public var isTransient: Bool

    public init(_ description: String, isTransient: Bool = false) {
        self.description = description
        self.isTransient = isTransient
    }
}

/// A TLS server context and what it serves: built at start and again on each reload.
struct TLSMaterial: Sendable {
    let context: NIOSSLContext
    /// When the server certificate (the chain's first) expires.
    let certificateNotValidAfter: Date
}

extension ServerConfiguration.TLS {
    /// Builds the TLS server context, checking every file and setting; an error names the file.
    func makeMaterial() throws -> TLSMaterial {
        guard minimumVersion == .tlsv13 || minimumVersion == .tlsv12 else {
            throw ServerStartError("TLS minimum version must be 1.3 or 1.2")
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateChainPath)
        } catch {
            throw ServerStartError("cannot read the TLS certificate chain at \(certificateChainPath): \(error)")
        }
        guard !chain.isEmpty else {
            throw ServerStartError("the TLS certificate file \(certificateChainPath) holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        } catch {
            throw ServerStartError("cannot read the TLS private key at \(privateKeyPath): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = minimumVersion
        if let clientCAPath {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMFile(clientCAPath)
            } catch {
                throw ServerStartError("cannot read the client CA at \(clientCAPath): \(error)")
            }
            configuration.trustRoots = .certificates(roots)
            // A presented certificate must verify; a client without one authenticates by token.
            configuration.certificateVerification = .optionalVerification
        } else {
            configuration.certificateVerification = .none
        }
        do {
            return TLSMaterial(
                context: try NIOSSLContext(configuration: configuration),
                certificateNotValidAfter: Date(timeIntervalSince1970: TimeInterval(chain[0].notValidAfter)))
        } catch {
            throw ServerStartError(
                "the TLS certificate \(certificateChainPath) and key \(privateKeyPath) cannot be used together: \(error)")
        }
    }
}
