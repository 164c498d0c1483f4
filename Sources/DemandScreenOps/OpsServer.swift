public import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
public import Prometheus
public import ServiceLifecycle

/// What `/readyz` reports: whether the daemon takes calls now, and the facts an operator needs
/// to see why not (the store, how it syncs, the problem).
public struct OpsReadiness: Sendable {
    public var ready: Bool
    /// `name: value` lines, in order.
    public var facts: [(name: String, value: String)]

    public init(ready: Bool, facts: [(name: String, value: String)]) {
        self.ready = ready
        self.facts = facts
    }
}

/// The operators' HTTP port, plain HTTP/1.1 for probes and scrapers on loopback or an internal
/// network (it serves no customer data):
/// - `GET /healthz`: 200 while the process answers (liveness);
/// - `GET /readyz`: 200 when the daemon takes calls, 503 when it does not, with the facts behind it;
/// - `GET /metrics`: the Prometheus text of `registry`, with `demandscreen_ready` (1 or 0) added.
/// Anything else is 404; a method other than GET or HEAD is 405.
public final class OpsServer: Service, Sendable {
    private let host: String
    private let port: Int
    private let registry: PrometheusCollectorRegistry
    /// `demandscreen_ready`, set from `readiness` on every scrape.
    private let readyGauge: Gauge
    private let readiness: @Sendable () -> OpsReadiness
    private let logger: Logger
    private let bound: EventLoopPromise<SocketAddress>

    public init(
        host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger,
        readiness: @escaping @Sendable () -> OpsReadiness
    ) {
        self.host = host
        self.port = port
        self.registry = registry
        readyGauge = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "demandscreen", metricName: "ready", unitName: "", helpText: "1 when the daemon takes calls, 0 when it does not")
        )
        self.readiness = readiness
        self.logger = logger
        bound = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: SocketAddress.self)
    }

    /// The address the port listens on, once it does; throws if it could not bind.
    public func boundAddress() async throws -> SocketAddress {
        try await bound.futureResult.get()
    }

    public func run() async throws {
        typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
        let listener: NIOAsyncChannel<Connection, Never>
        do {
            listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        // Closed when dropped (see DemandScreenServer: swift-nio #2637, #3481).
                        return try Connection(synchronouslyWrapping: channel)
                    }
                }
        } catch {
            let failure = OpsServerStartError(description: "cannot listen for ops on \(host):\(port): \(error)")
            bound.fail(failure)
            throw failure
        }
        bound.succeed(listener.channel.localAddress!)
        // Its answers are immediate: on shutdown it simply stops, closing kept-alive connections
        // (the cancellation that does so is not a failure).
        do {
            try await cancelWhenGracefulShutdown {
                try await listener.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await connection in inbound {
                            group.addTask { await self.serve(connection) }
                        }
                    }
                }
            }
        } catch  where Task.isShuttingDownGracefully {
            return
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let request): head = request
                    case .body: continue
                    case .end:
                        guard let request = head else { continue }
                        let (status, contentType, body) = respond(to: request)
                        var headers = HTTPHeaders([("content-type", contentType), ("content-length", "\(body.utf8.count)")])
                        if !request.isKeepAlive { headers.add(name: "connection", value: "close") }
                        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
                        if request.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body)))) }
                        try await outbound.write(.end(nil))
                        if !request.isKeepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("ops connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func respond(to request: HTTPRequestHead) -> (HTTPResponseStatus, String, String) {
        let text = "text/plain; charset=utf-8"
        guard request.method == .GET || request.method == .HEAD else {
            return (.methodNotAllowed, text, "only GET and HEAD are served here\n")
        }
        switch request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "" {
        case "/healthz":
            return (.ok, text, "ok\n")
        case "/readyz":
            let readiness = readiness()
            let lines = ["\(readiness.ready ? "ready" : "not ready")"] + readiness.facts.map { "\($0.name): \($0.value)" }
            return (readiness.ready ? .ok : .serviceUnavailable, text, lines.joined(separator: "\n") + "\n")
        case "/metrics":
            readyGauge.set(to: readiness().ready ? 1 : 0)
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", String(decoding: buffer, as: UTF8.self))
        default:
            return (.notFound, text, "not found; this port serves /healthz, /readyz and /metrics\n")
        }
    }
}

/// Why the ops port could not start.
public struct OpsServerStartError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
