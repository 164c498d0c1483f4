import CoreMetrics
public import DemandScreenRPC
import DemandScreenWire
public import Foundation
public import Logging
public import NIOCore
import NIOPosix
import NIOSSL
public import ServiceLifecycle
import SwiftProtobuf
import Synchronization

/// The DemandScreen TCP server: TLS (or loopback-only plaintext), length-prefixed protobuf
/// frames, pipelined calls answered in any order, deadlines, roles, and a graceful drain.
///
/// It routes bytes by method name and knows nothing of what the methods do.
public final class DemandScreenServer: Service, Sendable {
    private let configuration: ServerConfiguration
    private let router: MethodRouter
    /// The credentials in force: replaced whole on reload, read once per connection (TLS) or call (tokens).
    private let authenticatorInForce: Mutex<Authenticator>
    private let tlsInForce = Mutex<TLSMaterial?>(nil)
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let bound: EventLoopPromise<SocketAddress>
    /// The open connections, and whether the server drains (a connection accepted while it does
    /// drains from the start).
    private let connections = Mutex<(open: [ObjectIdentifier: ConnectionState], draining: Bool)>(([:], false))
    private let callLimiter: CallLimiter
    private let accounting: LimitAccounting

    public init(
        configuration: ServerConfiguration,
        router: MethodRouter,
        authenticator: Authenticator,
        logger: Logger,
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) {
        self.configuration = configuration
        self.router = router
        self.authenticatorInForce = Mutex(authenticator)
        self.logger = logger
        let eventLoopGroup = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        self.eventLoopGroup = eventLoopGroup
        self.bound = eventLoopGroup.any().makePromise(of: SocketAddress.self)
        self.callLimiter = CallLimiter(limits: configuration.limits.calls)
        self.accounting = LimitAccounting(
            maxConnections: configuration.limits.maxConnections,
            maxConnectionsPerAddress: configuration.limits.maxConnectionsPerAddress)
    }

    /// What the limits have refused and closed so far, and the connections and calls open now.
    public var limitStatistics: LimitStatistics {
        var statistics = accounting.statistics
        statistics.callsInFlight = callLimiter.callsInFlight
        return statistics
    }

    /// The address the server listens on, once it does; throws if it could not bind.
    public func boundAddress() async throws -> SocketAddress {
        try await bound.futureResult.get()
    }

    private var authenticator: Authenticator { authenticatorInForce.withLock { $0 } }

    /// When the server certificate in force expires; nil without TLS or before the server starts.
    public var certificateNotValidAfter: Date? { tlsInForce.withLock { $0?.certificateNotValidAfter } }

    /// Reads the certificate chain, key and client CA again from their files and uses them for
    /// every new handshake; connections already open keep theirs. Throws, naming the file at
    /// fault, and keeps the material in force when a file is missing or broken. Returns when the
    /// new certificate expires (nil without TLS).
    @discardableResult
    public func reloadTLS() throws -> Date? {
        guard case .tls(let tls) = configuration.transportSecurity else { return nil }
        let material = try tls.makeMaterial()
        tlsInForce.withLock { $0 = material }
        return material.certificateNotValidAfter
    }

    /// Authenticates every call from now on with `authenticator` (e.g. a reloaded token list).
    public func replaceAuthenticator(_ authenticator: Authenticator) {
        authenticatorInForce.withLock { $0 = authenticator }
    }

    /// Binds, serves until graceful shutdown, then stops accepting, lets the calls in flight
    /// answer and closes every connection.
    public func run() async throws {
        let listener: NIOAsyncChannel<Connection, Never>
        do {
            listener = try await bind()
        } catch {
            bound.fail(error)
            throw error
        }
        let address = listener.channel.localAddress!
        bound.succeed(address)
        let security =
            switch configuration.transportSecurity {
            case .tls(let tls): "TLS \(tls.minimumVersion == .tlsv12 ? "1.2+" : "1.3")"
            case .insecurePlaintext: "INSECURE PLAINTEXT"
            }
        logger.info(
            "listening",
            metadata: ["address": "\(address)", "transport": "\(security)", "methods": "\(router.methods.count)"])

        try await withGracefulShutdownHandler {
            try await listener.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await (connection, budget) in inbound {
                        group.addTask { await self.serve(connection: connection, budget: budget) }
                    }
                }
            }
        } onGracefulShutdown: {
            self.logger.info("draining: no new connections or calls; answering the calls in flight")
            listener.channel.close(promise: nil)
            let open = self.connections.withLock { connections in
                connections.draining = true
                return Array(connections.open.values)
            }
            for connection in open {
                connection.drain()
            }
        }
        logger.info("stopped")
    }

    /// An accepted connection and the count of its answers waiting to be written.
    private typealias Connection = (NIOAsyncChannel<ByteBuffer, ByteBuffer>, AnswerBudget)

    private func bind() async throws -> NIOAsyncChannel<Connection, Never> {
        switch configuration.transportSecurity {
        case .tls(let tls):
            let material = try tls.makeMaterial()
            tlsInForce.withLock { $0 = material }
        case .insecurePlaintext:
            guard ServerConfiguration.isLoopback(host: configuration.host) else {
                throw ServerStartError(
                    "refusing to serve plaintext on \(configuration.host): --insecure-plaintext binds loopback only")
            }
        }
        let maximumPayloadLength = configuration.maximumPayloadLength
        let limits = configuration.limits
        let guardSettings = ConnectionGuard.Settings(
            handshakeTimeout: TimeAmount(limits.handshakeTimeout),
            idleTimeout: TimeAmount(limits.idleTimeout),
            frameTimeout: TimeAmount(limits.frameTimeout),
            expectsHandshake: tlsInForce.withLock { $0 != nil })
        let accounting = self.accounting
        let highWaterMark = max(limits.maxBufferedResponseBytes, 2)
        do {
            return try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(
                    .writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(low: highWaterMark / 2, high: highWaterMark)
                )
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // Counted from here until it closes; beyond a limit, closed as soon as it is active.
                        let address = channel.remoteAddress?.ipAddress ?? "?"
                        let refusal = accounting.admitConnection(from: address)
                        if refusal == nil {
                            channel.closeFuture.whenComplete { _ in accounting.connectionClosed(from: address) }
                        }
                        let pipeline = channel.pipeline.syncOperations
                        // Each new connection takes the context in force now (SIGHUP may replace it).
                        if let sslContext = self.tlsInForce.withLock({ $0?.context }) {
                            try pipeline.addHandler(NIOSSLServerHandler(context: sslContext))
                        }
                        let budget = AnswerBudget(bound: highWaterMark)
                        channel.closeFuture.whenComplete { _ in budget.close() }
                        try pipeline.addHandler(
                            ConnectionGuard(settings: guardSettings, accounting: accounting, budget: budget, refused: refusal != nil))
                        try pipeline.addHandler(
                            ByteToMessageHandler(
                                FrameDecoder(maximumPayloadLength: maximumPayloadLength),
                                maximumBufferSize: maximumPayloadLength + FrameFormat.headerLength + 65536))
                        try pipeline.addHandler(MessageToByteHandler(FrameEncoder()))
                        // Closed when dropped: a connection accepted as the listener closes may never
                        // reach the accept loop, and one wrapped without close-on-deinit traps then
                        // (swift-nio #2637, #3481). Hence the deprecated initializer.
                        return (try NIOAsyncChannel<ByteBuffer, ByteBuffer>(synchronouslyWrapping: channel), budget)
                    }
                }
        } catch {
            throw ServerStartError("cannot listen on \(configuration.host):\(configuration.port): \(error)", isTransient: true)
        }
    }

    private func serve(connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, budget: AnswerBudget) async {
        let state = ConnectionState(
            channel: connection.channel, maximumInFlight: configuration.maximumConcurrentCallsPerConnection)
        let key = ObjectIdentifier(state)
        let draining = connections.withLock { connections in
            connections.open[key] = state
            return connections.draining
        }
        if draining { state.drain() }
        defer { _ = connections.withLock { $0.open.removeValue(forKey: key) } }
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(connection.channel.remoteAddress.map { "\($0)" } ?? "?")"
        let connectionLogger = logger

        do {
            try await connection.executeThenClose { inbound, _ in
                /// Writes an answer and returns once it has reached the socket (a close drops the
                /// writes still queued in the channel); counted in the budget until then.
                @Sendable func send(_ answer: ByteBuffer) async {
                    budget.queued(FrameFormat.headerLength + answer.readableBytes)
                    do {
                        try await connection.channel.writeAndFlush(answer).get()
                    } catch {
                        budget.written(FrameFormat.headerLength + answer.readableBytes)
                    }
                }
                try await withThrowingDiscardingTaskGroup { calls in
                    var certificateIdentity: CallerIdentity??
                    do {
                        for try await payload in inbound {
                            let request: Demandscreen_V1_RequestFrame
                            do {
                                request = try Demandscreen_V1_RequestFrame(serializedBytes: [UInt8](payload.readableBytesView))
                            } catch {
                                connectionLogger.debug("closing: unparseable envelope", metadata: ["error": "\(error)"])
                                await send(
                                    Self.encode(
                                        callID: 0,
                                        error: CallError(
                                            .invalidArgument,
                                            "frame payload is not a demandscreen.v1.RequestFrame: \(error)")))
                                return
                            }
                            if certificateIdentity == nil {
                                certificateIdentity = .some(await self.certificateIdentity(of: connection.channel))
                            }
                            // A client that leaves its answers unread gets no new call started.
                            await budget.waitForRoom()
                            guard await state.admit() else {
                                await send(
                                    Self.encode(
                                        callID: request.callID,
                                        error: CallError(.unavailable, "the server is shutting down; retry elsewhere")))
                                continue
                            }
                            let identity = certificateIdentity ?? nil
                            calls.addTask {
                                defer { state.release() }
                                let response = await self.respond(
                                    to: request, certificateIdentity: identity, logger: connectionLogger)
                                // The slot comes back once the answer has reached the socket: a
                                // draining connection closes when its last slot does.
                                await send(response)
                            }
                        }
                    } catch let error as FrameError {
                        connectionLogger.debug("closing: bad frame", metadata: ["error": "\(error)"])
                        let code: StatusCode =
                            if case .payloadTooLarge = error.kind { .resourceExhausted } else { .invalidArgument }
                        await send(Self.encode(callID: 0, error: CallError(code, error.description)))
                    }
                }
            }
        } catch {
            connectionLogger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// The identity proved by the connection's client certificate, if it presented a verified one.
    private func certificateIdentity(of channel: any Channel) async -> CallerIdentity? {
        guard case .tls(let tls) = configuration.transportSecurity, tls.clientCAPath != nil,
            let certificate = try? await channel.nioSSL_peerCertificate().get(),
            let der = try? certificate.toDERBytes()
        else { return nil }
        return authenticator.identity(certificateDER: der)
    }

    /// Runs one call through routing, authentication, the role check, its deadline and its
    /// handler, and returns the response frame's payload; counts it and its duration in the
    /// metrics (`demandscreen_calls_total{method, code}`, `demandscreen_call_duration_seconds{method}`;
    /// an unknown method counts as `unknown`, so that callers cannot grow the label set).
    private func respond(
        to request: Demandscreen_V1_RequestFrame,
        certificateIdentity: CallerIdentity?,
        logger: Logger
    ) async -> ByteBuffer {
        let started = ContinuousClock.now
        let route = router.route(for: request.method)
        let methodLabel = route == nil ? "unknown" : request.method
        var code = StatusCode.ok
        defer {
            Counter(label: "demandscreen_calls_total", dimensions: [("method", methodLabel), ("code", code.name)]).increment()
            let elapsed = (ContinuousClock.now - started).components
            CoreMetrics.Timer(label: "demandscreen_call_duration_seconds", dimensions: [("method", methodLabel)])
                .recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
        }
        let deadline = request.timeoutMs > 0 ? started + .milliseconds(Int(request.timeoutMs)) : nil
        var logger = logger
        logger[metadataKey: "call"] = "\(request.callID)"
        logger[metadataKey: "method"] = "\(request.method)"
        do {
            guard let route else {
                throw CallError(.unimplemented, "unknown method '\(request.method)'")
            }
            var caller: CallerIdentity?
            if case .roles(let roles) = route.access {
                let identity = try authenticator.identify(
                    authorization: request.metadata["authorization"], certificateIdentity: certificateIdentity)
                guard roles.contains(identity.role) else {
                    throw CallError(
                        .permissionDenied,
                        "role '\(identity.role.rawValue)' may not call \(request.method); allowed: "
                            + roles.map(\.rawValue).sorted().joined(separator: ", "))
                }
                caller = identity
                logger[metadataKey: "caller"] = "\(identity)"
            }
            let ticket: CallLimiter.Ticket
            switch callLimiter.admit(identity: caller.map { "\($0.credential.rawValue):\($0.name)" }) {
            case .success(let admitted): ticket = admitted
            case .failure(let refused):
                accounting.callRefused(refused.reason)
                throw refused.callError
            }
            accounting.callAdmitted()
            defer {
                callLimiter.release(ticket)
                accounting.callFinished()
            }
            let context = CallContext(
                callID: request.callID,
                method: request.method,
                metadata: request.metadata,
                caller: caller,
                deadline: deadline,
                logger: logger)
            let message = try await Self.run(route.handler, request: request.message, context: context)
            var response = Demandscreen_V1_ResponseFrame()
            response.callID = request.callID
            response.message = message
            logger.debug("ok", metadata: ["duration": "\(ContinuousClock.now - started)"])
            return Self.encode(response)
        } catch {
            let callError = Self.callError(from: error)
            code = callError.code
            if callError.code == .internal {
                logger.error("call failed", metadata: ["error": "\(error)"])
            } else {
                logger.debug("call refused", metadata: ["status": "\(callError.code)", "reason": "\(callError.message)"])
            }
            return Self.encode(callID: request.callID, error: callError)
        }
    }

    /// Runs a handler, racing it against the deadline when there is one.
    private static func run(_ handler: @escaping MethodHandler, request: Data, context: CallContext) async throws -> Data {
        guard let deadline = context.deadline else {
            return try await handler(request, context)
        }
        return try await withThrowingTaskGroup(of: Data.self) { group in
            group.addTask { try await handler(request, context) }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                throw CallError(.deadlineExceeded, "the call's deadline passed before it completed")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private static func callError(from error: any Error) -> CallError {
        switch error {
        case let error as any CallErrorConvertible: error.callError
        case is CancellationError: CallError(.cancelled, "the call was cancelled")
        default: CallError(.internal, "internal error", cause: nil)
        }
    }

    static func encode(callID: UInt64, error: CallError) -> ByteBuffer {
        var response = Demandscreen_V1_ResponseFrame()
        response.callID = callID
        response.statusCode = error.code.rawValue
        response.statusMessage = error.message
        response.metadata = error.metadata
        return encode(response)
    }

    static func encode(_ response: Demandscreen_V1_ResponseFrame) -> ByteBuffer {
        // Serializing a message built here from valid fields cannot fail.
        let bytes: [UInt8] = (try? response.serializedBytes()) ?? []
        return ByteBuffer(bytes: bytes)
    }
}
