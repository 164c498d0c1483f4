public import DemandScreenRPC
public import DemandScreenWire
public import Foundation
import NIOCore
import NIOPosix
import NIOSSL
public import SwiftProtobuf
import Synchronization

/// One connection to a DemandScreen server on which any number of calls run at once
/// (pipelined); each call's answer is matched to it by call id, in whatever order it comes.
///
/// Open one with `DemandScreenConnection.withConnection(to:_:)`; it closes when the body returns.
public final class DemandScreenConnection: Sendable {
    /// A call's answer: its status, and the response message when the status is OK.
    public struct Response: Sendable {
        public var status: StatusCode
        public var statusMessage: String
        public var message: Data
        public var metadata: [String: String]
    }

    private struct Pending {
        var nextCallID: UInt64 = 1
        var waiting: [UInt64: CheckedContinuation<Response, any Error>] = [:]
        /// Set once the connection has ended; every later call fails with it.
        var ended: ClientError?
    }

    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let bearerToken: String?
    private let pending = Mutex(Pending())

    private init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, bearerToken: String?) {
        self.outbound = outbound
        self.bearerToken = bearerToken
    }

    /// Connects, runs `body` with the connection, then closes it.
    public static func withConnection<Result: Sendable>(
        to configuration: ClientConfiguration,
        _ body: (DemandScreenConnection) async throws -> Result
    ) async throws -> Result {
        let channel = try await connect(configuration)
        return try await channel.executeThenClose { inbound, outbound in
            let connection = DemandScreenConnection(outbound: outbound, bearerToken: configuration.bearerToken)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await connection.readResponses(inbound) }
                defer { group.cancelAll() }
                return try await body(connection)
            }
        }
    }

    /// Sends one call and waits for its answer. Throws `ClientError` only when the connection
    /// fails; a call the server refuses comes back as a `Response` with its status.
    public func call(
        _ method: String,
        message: Data,
        metadata: [String: String] = [:],
        timeoutMilliseconds: UInt32 = 0
    ) async throws -> Response {
        var request = Demandscreen_V1_RequestFrame()
        request.method = method
        request.metadata = metadata
        if let bearerToken, request.metadata["authorization"] == nil {
            request.metadata["authorization"] = "Bearer \(bearerToken)"
        }
        request.timeoutMs = timeoutMilliseconds
        request.message = message
        return try await withCheckedThrowingContinuation { continuation in
            let registered: Result<UInt64, ClientError> = pending.withLock { pending in
                if let ended = pending.ended { return .failure(ended) }
                let callID = pending.nextCallID
                pending.nextCallID += 1
                pending.waiting[callID] = continuation
                return .success(callID)
            }
            switch registered {
            case .failure(let error):
                continuation.resume(throwing: error)
            case .success(let callID):
                request.callID = callID
                let payload: [UInt8]
                do {
                    payload = try request.serializedBytes()
                } catch {
                    fail(callID: callID, ClientError("cannot encode the request: \(error)"))
                    return
                }
                let buffer = ByteBuffer(bytes: payload)
                Task { [outbound] in
                    do {
                        try await outbound.write(buffer)
                    } catch {
                        self.fail(callID: callID, ClientError("cannot send the call: \(error)"))
                    }
                }
            }
        }
    }

    /// Sends `message` and decodes the response as `Response`, or throws a `CallError` with the
    /// server's status.
    public func unary<Request: SwiftProtobuf.Message, Reply: SwiftProtobuf.Message>(
        _ method: String,
        _ message: Request,
        as replyType: Reply.Type,
        timeoutMilliseconds: UInt32 = 0
    ) async throws -> Reply {
        let response = try await call(method, message: try message.serializedBytes(), timeoutMilliseconds: timeoutMilliseconds)
        guard response.status == .ok else { throw CallError(response.status, response.statusMessage) }
        return try Reply(serializedBytes: response.message)
    }

    private func fail(callID: UInt64, _ error: ClientError) {
        let continuation = pending.withLock { $0.waiting.removeValue(forKey: callID) }
        continuation?.resume(throwing: error)
    }

    private func readResponses(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>) async {
        var ending = ClientError("the server closed the connection")
        do {
            for try await payload in inbound {
                guard let frame = try? Demandscreen_V1_ResponseFrame(serializedBytes: [UInt8](payload.readableBytesView)) else {
                    ending = ClientError("the server sent a frame that is not a ResponseFrame")
                    break
                }
                if frame.callID == 0 {
                    let status = StatusCode(rawValue: frame.statusCode)
                    ending = ClientError("the server closed the connection: \(status.name): \(frame.statusMessage)")
                    continue
                }
                let continuation = pending.withLock { $0.waiting.removeValue(forKey: frame.callID) }
                continuation?.resume(
                    returning: Response(
                        status: StatusCode(rawValue: frame.statusCode),
                        statusMessage: frame.statusMessage,
                        message: frame.message,
                        metadata: frame.metadata))
            }
        } catch {
            ending = ClientError("the connection failed: \(error)")
        }
        let waiting = pending.withLock { pending in
            pending.ended = ending
            let waiting = pending.waiting
            pending.waiting = [:]
            return waiting
        }
        for continuation in waiting.values { continuation.resume(throwing: ending) }
    }

    private static func connect(_ configuration: ClientConfiguration) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        var sslContext: NIOSSLContext?
        if case .tls(let caPath, let certificatePath, let keyPath) = configuration.transportSecurity {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            tls.maximumTLSVersion = configuration.maximumTLSVersion
            tls.certificateVerification = .fullVerification
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
            } catch {
                throw ClientError("cannot read the CA certificate at \(caPath): \(error)")
            }
            if let certificatePath, let keyPath {
                do {
                    tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) }
                    tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
                } catch {
                    throw ClientError("cannot read the client certificate \(certificatePath) or key \(keyPath): \(error)")
                }
            }
            do {
                sslContext = try NIOSSLContext(configuration: tls)
            } catch {
                throw ClientError("cannot set up TLS: \(error)")
            }
        }
        let tlsContext = sslContext
        let hostname = Self.isIPAddress(configuration.host) ? nil : configuration.host
        let maximumPayloadLength = configuration.maximumPayloadLength
        do {
            return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if let tlsContext {
                            try pipeline.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: hostname))
                        }
                        try pipeline.addHandler(
                            ByteToMessageHandler(FrameDecoder(maximumPayloadLength: maximumPayloadLength)))
                        try pipeline.addHandler(MessageToByteHandler(FrameEncoder()))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ClientError("cannot connect to \(configuration.host):\(configuration.port): \(error)")
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
