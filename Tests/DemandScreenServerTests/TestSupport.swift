import DemandScreenAPI
import DemandScreenClient
import DemandScreenDaemon
import DemandScreenRPC
import DemandScreenServer
import DemandScreenService
import DemandScreenTestSupport
import DemandScreenWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ScreeningEngine
import ServiceLifecycle
import SwiftProtobuf

/// Certificates for one test, in a temporary folder: a CA, a server certificate for localhost and
/// client certificates on demand.
struct TestPKI {
    let directory: String
    let authority: DevelopmentCertificateAuthority
    let caPath: String
    let serverCertificatePath: String
    let serverKeyPath: String

    init() throws {
        directory = NSTemporaryDirectory() + "demandscreen-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        authority = try DevelopmentCertificateAuthority()
        caPath = directory + "/ca.pem"
        try authority.pem().certificate.write(toFile: caPath, atomically: true, encoding: .utf8)
        let server = try authority.issueServerCertificate()
        serverCertificatePath = directory + "/server.pem"
        serverKeyPath = directory + "/server-key.pem"
        try server.certificate.write(toFile: serverCertificatePath, atomically: true, encoding: .utf8)
        try server.key.write(toFile: serverKeyPath, atomically: true, encoding: .utf8)
    }

    /// Paths of a new client certificate whose OU is `role`.
    func clientCertificate(
        role: String, name: String = "test-client", from issuer: DevelopmentCertificateAuthority? = nil, validity: Range<Date>? = nil
    ) throws -> (certificate: String, key: String) {
        let issued = try (issuer ?? authority).issueClientCertificate(role: role, name: name, validity: validity)
        let base = directory + "/client-\(UUID().uuidString)"
        try issued.certificate.write(toFile: base + ".pem", atomically: true, encoding: .utf8)
        try issued.key.write(toFile: base + "-key.pem", atomically: true, encoding: .utf8)
        return (base + ".pem", base + "-key.pem")
    }

    func tls(minimumVersion: TLSVersion = .tlsv13) -> ServerConfiguration.TransportSecurity {
        .tls(
            .init(
                certificateChainPath: serverCertificatePath, privateKeyPath: serverKeyPath, clientCAPath: caPath,
                minimumVersion: minimumVersion))
    }
}

/// Tokens the test servers know.
enum TestTokens {
    static let agent = "agent-token-for-tests"
    static let security = "security-token-for-tests"
    static let ops = "ops-token-for-tests"
    /// A second agent identity, for the tests of per-identity limits.
    static let otherAgent = "other-agent-token-for-tests"
    static let entries: [BearerToken.Entry] = [
        .init(name: "test-agent", role: .agent, sha256: BearerToken.hash(agent)),
        .init(name: "test-other-agent", role: .agent, sha256: BearerToken.hash(otherAgent)),
        .init(name: "test-security", role: .security, sha256: BearerToken.hash(security)),
        .init(name: "test-ops", role: .ops, sha256: BearerToken.hash(ops)),
    ]
}

/// The screening router plus three test methods: `/test.Echo/Slow` (sleeps for the milliseconds
/// in its request, then echoes it), `/test.Echo/Fast` (echoes at once) and `/test.Echo/Big`
/// (answers with as many bytes as its request says).
func testRouter(servingState: ServingState = ServingState()) -> MethodRouter {
    var router = MethodRouter()
    ScreeningService(engines: EngineHolder(ScreeningEngine(policy: .builtIn())), servingState: servingState, storage: nil).register(
        on: &router)
    router.register("/test.Echo/Slow", access: .roles([.agent])) { request, _ in
        let milliseconds = Int(String(decoding: request, as: UTF8.self)) ?? 0
        try await Task.sleep(for: .milliseconds(milliseconds))
        return request
    }
    router.register("/test.Echo/Fast", access: .roles([.agent])) { request, _ in request }
    router.register("/test.Echo/Big", access: .roles([.agent])) { request, _ in
        Data(count: Int(String(decoding: request, as: UTF8.self)) ?? 0)
    }
    return router
}

/// Runs a real server on 127.0.0.1 and an ephemeral port for `body`, then shuts it down gracefully.
func withTestServer<T: Sendable>(
    transportSecurity: ServerConfiguration.TransportSecurity,
    maximumPayloadLength: Int = 64 * 1024,
    router: MethodRouter = testRouter(),
    _ body: @Sendable (_ port: Int, _ shutdown: @escaping @Sendable () async -> Void) async throws -> T
) async throws -> T {
    try await runServer(
        ServerConfiguration(
            host: "127.0.0.1", port: 0, transportSecurity: transportSecurity, maximumPayloadLength: maximumPayloadLength),
        router: router
    ) { port, _, shutdown in try await body(port, shutdown) }
}

/// Runs a real server with `limits` on 127.0.0.1 for `body`, which sees the server (for its
/// statistics), then shuts it down gracefully.
func withLimitedServer<T: Sendable>(
    transportSecurity: ServerConfiguration.TransportSecurity,
    limits: ServerConfiguration.Limits,
    maximumConcurrentCallsPerConnection: Int = 256,
    _ body: @Sendable (_ port: Int, _ server: DemandScreenServer) async throws -> T
) async throws -> T {
    try await runServer(
        ServerConfiguration(
            host: "127.0.0.1", port: 0, transportSecurity: transportSecurity, maximumPayloadLength: 64 * 1024,
            maximumConcurrentCallsPerConnection: maximumConcurrentCallsPerConnection, limits: limits),
        router: testRouter()
    ) { port, server, _ in try await body(port, server) }
}

/// Runs a real server with `configuration` in a service group for `body`, then shuts it down.
private func runServer<T: Sendable>(
    _ configuration: ServerConfiguration,
    router: MethodRouter,
    _ body: @Sendable (_ port: Int, _ server: DemandScreenServer, _ shutdown: @escaping @Sendable () async -> Void) async throws -> T
) async throws -> T {
    var logger = Logger(label: "test-server")
    logger.logLevel = .warning
    let server = DemandScreenServer(
        configuration: configuration, router: router, authenticator: Authenticator(tokens: TestTokens.entries), logger: logger)
    let group = ServiceGroup(services: [server], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let port = try await server.boundAddress().port!
        let result = try await body(port, server) { await group.triggerGracefulShutdown() }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}

func clientConfiguration(
    port: Int, pki: TestPKI?, token: String? = TestTokens.agent, certificate: (certificate: String, key: String)? = nil
) -> ClientConfiguration {
    ClientConfiguration(
        host: "127.0.0.1", port: port,
        transportSecurity: pki.map {
            .tls(caPath: $0.caPath, clientCertificatePath: certificate?.certificate, clientKeyPath: certificate?.key)
        }
            ?? .insecurePlaintext,
        bearerToken: token)
}

/// A connection that writes and reads raw bytes, for tests of what the server does with bad frames.
struct RawConnection {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func withPlaintext<T>(
        port: Int, from source: String? = nil, _ body: (inout RawSession) async throws -> T
    ) async throws -> T {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
        let channel =
            try await bootstrap
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var session = RawSession(iterator: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&session)
        }
    }

    /// A raw connection over TLS that trusts the test CA, offering the TLS versions from
    /// `minimumVersion` to `maximumVersion` and optionally a client certificate. A refused
    /// handshake shows as an error (or the end of the stream) when reading.
    static func withTLS<T>(
        port: Int,
        pki: TestPKI,
        certificate: (certificate: String, key: String)? = nil,
        minimumVersion: TLSVersion = .tlsv12,
        maximumVersion: TLSVersion? = nil,
        _ body: (inout RawSession) async throws -> T
    ) async throws -> T {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(pki.caPath)
        tls.minimumTLSVersion = minimumVersion
        tls.maximumTLSVersion = maximumVersion
        if let certificate {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate.certificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: certificate.key, format: .pem))
        }
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var session = RawSession(iterator: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&session)
        }
    }
}

/// One raw connection's reading and writing.
struct RawSession {
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var buffered = ByteBuffer()

    func write(_ bytes: ByteBuffer) async throws { try await outbound.write(bytes) }

    /// The next response frame, or nil when the server closed the connection.
    mutating func nextResponse() async throws -> Demandscreen_V1_ResponseFrame? {
        let decoder = FrameDecoder()
        while true {
            if let payload = try decoder.nextPayload(from: &buffered) {
                return try Demandscreen_V1_ResponseFrame(serializedBytes: [UInt8](payload.readableBytesView))
            }
            guard var more = try await iterator.next() else { return nil }
            buffered.writeBuffer(&more)
        }
    }

    /// Every byte the server sends until it closes the connection (or the read fails).
    mutating func readUntilClosed() async -> ByteBuffer {
        var all = buffered
        do {
            while var more = try await iterator.next() { all.writeBuffer(&more) }
        } catch {}
        return all
    }

    /// Whether the server closes the connection (reads until end of stream).
    mutating func closedByServer() async -> Bool {
        do {
            while try await iterator.next() != nil {}
            return true
        } catch {
            return true
        }
    }
}

/// A request frame (header included) for the raw tests.
func requestFrame(callID: UInt64, method: String, message: Data = Data(), token: String? = TestTokens.agent, timeoutMs: UInt32 = 0) throws
    -> ByteBuffer
{
    var request = Demandscreen_V1_RequestFrame()
    request.callID = callID
    request.method = method
    request.message = message
    request.timeoutMs = timeoutMs
    if let token { request.metadata["authorization"] = "Bearer \(token)" }
    var out = ByteBuffer()
    FrameEncoder.writeFrame(payload: ByteBuffer(bytes: try request.serializedBytes() as [UInt8]), to: &out)
    return out
}
