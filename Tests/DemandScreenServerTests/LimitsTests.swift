import Configuration
import DemandScreenClient
import DemandScreenDaemon
import DemandScreenRPC
import DemandScreenServer
import DemandScreenWire
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization
import Testing

/// The limits against hostile or broken clients, each against a real server on loopback: the
/// limit refuses or closes, with the right status, while another client keeps being served. One
/// test at a time: several of them load the machine on purpose.
@Suite(.serialized) struct LimitsTests {
    // MARK: Connections

    @Test func connectionsBeyondTheMaximumAreClosedAtOnce() async throws {
        let pki = try TestPKI()
        try await withLimitedServer(transportSecurity: pki.tls(), limits: .init(maxConnections: 2)) { port, server in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: pki)) { (first) async throws in
                try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: pki)) { (second) async throws in
                    #expect(try await first.call("/test.Echo/Fast", message: Data("1".utf8)).status == .ok)
                    #expect(try await second.call("/test.Echo/Fast", message: Data("2".utf8)).status == .ok)
                    let started = ContinuousClock.now
                    await #expect(throws: (any Error).self) {
                        try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: pki)) { third in
                            try await third.call("/test.Echo/Fast", message: Data("3".utf8))
                        }
                    }
                    #expect(ContinuousClock.now - started < .seconds(3), "closed at once, not after a timeout")
                    #expect(try await first.call("/test.Echo/Fast", message: Data("1".utf8)).status == .ok)
                    #expect(try await second.call("/test.Echo/Fast", message: Data("2".utf8)).status == .ok)
                }
            }
            #expect(server.limitStatistics.connectionsRefused[.maxConnections] == 1)
        }
    }

    @Test func connectionsBeyondTheMaximumPerAddressAreClosedWhileOtherAddressesAreServed() async throws {
        let limits = ServerConfiguration.Limits(maxConnections: 10, maxConnectionsPerAddress: 1)
        try await withLimitedServer(transportSecurity: .insecurePlaintext, limits: limits) { port, server in
            try await RawConnection.withPlaintext(port: port, from: "127.0.0.1") { admitted in
                try await admitted.write(try requestFrame(callID: 1, method: "/test.Echo/Fast", message: Data("a".utf8)))
                #expect(try await admitted.nextResponse()?.statusCode == 0)
                try await RawConnection.withPlaintext(port: port, from: "127.0.0.1") { refused in
                    #expect(await refused.closedByServer())
                }
                try await RawConnection.withPlaintext(port: port, from: "127.0.0.2") { other in
                    try await other.write(try requestFrame(callID: 1, method: "/test.Echo/Fast", message: Data("b".utf8)))
                    #expect(try await other.nextResponse()?.statusCode == 0)
                }
                try await admitted.write(try requestFrame(callID: 2, method: "/test.Echo/Fast", message: Data("c".utf8)))
                #expect(try await admitted.nextResponse()?.statusCode == 0)
            }
            #expect(server.limitStatistics.connectionsRefused[.maxConnectionsPerAddress] == 1)
        }
    }

    // MARK: Calls in flight and rates

    @Test func callsBeyondTheTotalInFlightGetResourceExhaustedWithARetryHint() async throws {
        let limits = ServerConfiguration.Limits(calls: .init(maxCallsInFlight: 2))
        try await withLimitedServer(transportSecurity: .insecurePlaintext, limits: limits) { port, server in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: nil)) { busy in
                try await DemandScreenConnection.withConnection(
                    to: clientConfiguration(port: port, pki: nil, token: TestTokens.otherAgent)
                ) { other in
                    async let slow1 = busy.call("/test.Echo/Slow", message: Data("4000".utf8))
                    async let slow2 = busy.call("/test.Echo/Slow", message: Data("4000".utf8))
                    try await waitUntil { server.limitStatistics.callsInFlight == 2 }
                    let started = ContinuousClock.now
                    let refused = try await other.call("/test.Echo/Fast", message: Data("x".utf8))
                    #expect(refused.status == .resourceExhausted)
                    #expect(ContinuousClock.now - started < .seconds(3), "refused at once, not when a place is free")
                    #expect(refused.statusMessage.contains("limits.maxCallsInFlight"))
                    #expect(Int(refused.metadata[CallError.retryAfterKey] ?? "") ?? 0 > 0)
                    #expect(try await slow1.status == .ok)
                    #expect(try await slow2.status == .ok)
                    #expect(try await other.call("/test.Echo/Fast", message: Data("x".utf8)).status == .ok)
                }
            }
            #expect(server.limitStatistics.callsRefused[.callsInFlight] == 1)
            #expect(server.limitStatistics.callsInFlight == 0)
        }
    }

    @Test func oneIdentityBeyondItsInFlightLimitIsRefusedWhileAnotherIsServed() async throws {
        let limits = ServerConfiguration.Limits(calls: .init(maxCallsInFlight: 100, maxCallsInFlightPerIdentity: 2))
        try await withLimitedServer(transportSecurity: .insecurePlaintext, limits: limits) { port, server in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: nil)) { greedy in
                try await DemandScreenConnection.withConnection(
                    to: clientConfiguration(port: port, pki: nil, token: TestTokens.otherAgent)
                ) { other in
                    async let slow1 = greedy.call("/test.Echo/Slow", message: Data("4000".utf8))
                    async let slow2 = greedy.call("/test.Echo/Slow", message: Data("4000".utf8))
                    try await waitUntil { server.limitStatistics.callsInFlight == 2 }
                    let refused = try await greedy.call("/test.Echo/Fast", message: Data("x".utf8))
                    #expect(refused.status == .resourceExhausted)
                    #expect(refused.statusMessage.contains("limits.maxCallsInFlightPerIdentity"))
                    #expect(refused.metadata[CallError.retryAfterKey] != nil)
                    #expect(try await other.call("/test.Echo/Fast", message: Data("y".utf8)).status == .ok)
                    #expect(try await slow1.status == .ok)
                    #expect(try await slow2.status == .ok)
                    #expect(try await greedy.call("/test.Echo/Fast", message: Data("x".utf8)).status == .ok)
                }
            }
            #expect(server.limitStatistics.callsRefused[.identityCallsInFlight] == 1)
        }
    }

    @Test func oneIdentityOverItsRateIsRefusedWithTheWaitWhileAnotherIsServed() async throws {
        let limits = ServerConfiguration.Limits(calls: .init(callsPerSecondPerIdentity: 1, callBurstPerIdentity: 3))
        try await withLimitedServer(transportSecurity: .insecurePlaintext, limits: limits) { port, server in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: nil)) { fast in
                try await DemandScreenConnection.withConnection(
                    to: clientConfiguration(port: port, pki: nil, token: TestTokens.otherAgent)
                ) { other in
                    // Six at once against a burst of three at one per second.
                    let responses = try await withThrowingTaskGroup(of: DemandScreenConnection.Response.self) { group in
                        for _ in 0..<6 { group.addTask { try await fast.call("/test.Echo/Fast", message: Data("x".utf8)) } }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    #expect(responses.filter { $0.status == .ok }.count >= 3)
                    let refused = try #require(responses.first { $0.status != .ok })
                    #expect(refused.status == .resourceExhausted)
                    #expect(refused.statusMessage.contains("limits.callsPerSecondPerIdentity"))
                    let wait = try #require(Int(refused.metadata[CallError.retryAfterKey] ?? ""))
                    #expect(wait > 0 && wait <= 1000, "one token comes back in at most a second at 1/s")
                    #expect(try await other.call("/test.Echo/Fast", message: Data("y".utf8)).status == .ok)
                    try await Task.sleep(for: .milliseconds(wait + 20))
                    #expect(try await fast.call("/test.Echo/Fast", message: Data("x".utf8)).status == .ok)
                }
            }
            #expect(server.limitStatistics.callsRefused[.identityRate, default: 0] >= 1)
        }
    }

    @Test func tokenBucketRefillsAtItsRateUpToItsCapacity() {
        let start = ContinuousClock.now
        var bucket = TokenBucket(ratePerSecond: 10, capacity: 2, now: start)
        #expect(bucket.take(now: start) == nil)
        #expect(bucket.take(now: start) == nil)
        #expect(bucket.take(now: start) == .milliseconds(100))
        #expect(bucket.take(now: start + .milliseconds(100)) == nil)
        #expect(bucket.isFull(now: start + .seconds(10)))
        #expect(bucket.take(now: start + .seconds(10)) == nil)
        #expect(bucket.take(now: start + .seconds(10)) == nil)
        #expect(bucket.take(now: start + .seconds(10)) != nil, "never more than the capacity at once")
    }

    // MARK: Time

    @Test func halfOpenHandshakesAreClosedByTheHandshakeTimeout() async throws {
        let pki = try TestPKI()
        let count = 1000
        let limits = ServerConfiguration.Limits(
            maxConnections: count + 50, maxConnectionsPerAddress: count + 50, handshakeTimeout: .milliseconds(500))
        try await withLimitedServer(transportSecurity: pki.tls(), limits: limits) { port, server in
            let started = ContinuousClock.now
            var channels: [any Channel] = []
            for _ in 0..<(count / 100) {
                try await withThrowingTaskGroup(of: (any Channel).self) { group in
                    for _ in 0..<100 {
                        group.addTask {
                            try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                                .connect(host: "127.0.0.1", port: port).get()
                        }
                    }
                    for try await channel in group { channels.append(channel) }
                }
            }
            // Served meanwhile.
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: pki)) { (bystander) async throws in
                #expect(try await bystander.call("/test.Echo/Fast", message: Data("x".utf8)).status == .ok)
            }
            try await waitUntil(timeout: .seconds(60)) {
                server.limitStatistics.connectionsClosed[.handshakeTimeout, default: 0] >= count
            }
            for channel in channels { try? await channel.closeFuture.get() }
            let statistics = server.limitStatistics
            #expect(statistics.connectionsClosed[.handshakeTimeout] == count)
            #expect(statistics.peakOpenConnections <= count + 1)
            try await waitUntil { server.limitStatistics.openConnections == 0 }
            #expect(ContinuousClock.now - started < .seconds(60))
        }
    }

    @Test func idleConnectionsAreClosedButNotThoseWithCallsInFlight() async throws {
        let pki = try TestPKI()
        let limits = ServerConfiguration.Limits(idleTimeout: .seconds(1))
        try await withLimitedServer(transportSecurity: pki.tls(), limits: limits) { port, server in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: pki)) { idle in
                #expect(try await idle.call("/test.Echo/Fast", message: Data("x".utf8)).status == .ok)
                try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: pki)) { (busy) async throws in
                    // No frame for 3 s, but a call in flight: stays open.
                    #expect(try await busy.call("/test.Echo/Slow", message: Data("3000".utf8)).status == .ok)
                    #expect(try await busy.call("/test.Echo/Fast", message: Data("y".utf8)).status == .ok)
                }
                await #expect(throws: ClientError.self) {
                    try await idle.call("/test.Echo/Fast", message: Data("x".utf8))
                }
            }
            #expect(server.limitStatistics.connectionsClosed[.idleTimeout, default: 0] >= 1)
        }
    }

    @Test func aFrameThatDoesNotFinishClosesItsConnection() async throws {
        let limits = ServerConfiguration.Limits(frameTimeout: .milliseconds(300))
        try await withLimitedServer(transportSecurity: .insecurePlaintext, limits: limits) { port, server in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: nil)) { bystander in
                try await RawConnection.withPlaintext(port: port) { slowloris in
                    var frame = try requestFrame(callID: 1, method: "/test.Echo/Fast", message: Data("x".utf8))
                    let started = ContinuousClock.now
                    try await slowloris.write(frame.readSlice(length: 8)!)
                    for _ in 0..<3 {
                        try await Task.sleep(for: .milliseconds(100))
                        #expect(try await bystander.call("/test.Echo/Fast", message: Data("b".utf8)).status == .ok)
                        if let byte = frame.readSlice(length: 1) { try? await slowloris.write(byte) }
                    }
                    #expect(await slowloris.closedByServer())
                    #expect(ContinuousClock.now - started < .seconds(10))
                }
                #expect(try await bystander.call("/test.Echo/Fast", message: Data("b".utf8)).status == .ok)
            }
            #expect(server.limitStatistics.connectionsClosed[.frameTimeout] == 1)
        }
    }

    // MARK: Buffers

    @Test func clientsThatDoNotReadHaveBoundedBuffersAndAreClosed() async throws {
        let pki = try TestPKI()
        let clients = 100
        let callsEach = 64
        let answerBytes = 64 * 1024
        let bound = 64 * 1024
        let perConnection = 4
        let limits = ServerConfiguration.Limits(idleTimeout: .seconds(3), maxBufferedResponseBytes: bound)
        try await withLimitedServer(
            transportSecurity: pki.tls(), limits: limits, maximumConcurrentCallsPerConnection: perConnection
        ) { port, server in
            var requests = ByteBuffer()
            for callID in 1...callsEach {
                var frame = try requestFrame(callID: UInt64(callID), method: "/test.Echo/Big", message: Data("\(answerBytes)".utf8))
                requests.writeBuffer(&frame)
            }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.caPath))
            let context = try NIOSSLContext(configuration: tls)
            var channels: [any Channel] = []
            for _ in 0..<clients {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelOption(.socketOption(.so_rcvbuf), value: 8192)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                            try channel.pipeline.syncOperations.addHandler(StopReadingAfterHandshake())
                        }
                    }
                    .connect(host: "127.0.0.1", port: port).get()
                try await channel.writeAndFlush(requests).get()
                channels.append(channel)
            }
            // Each stops being read once its answers wait beyond the bound (unless the kernel's socket
            // buffers took them all, when it is merely idle).
            try await waitUntil(timeout: .seconds(20)) { server.limitStatistics.readsPaused >= clients / 2 }
            // Served meanwhile.
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: pki)) { reader in
                for _ in 0..<5 {
                    let response = try await reader.call("/test.Echo/Big", message: Data("\(answerBytes)".utf8))
                    #expect(response.status == .ok && response.message.count == answerBytes)
                }
            }
            // What waits in the server for one connection: the bound, plus the answers of the calls
            // it had in flight when it passed it, plus TLS framing.
            #expect(server.limitStatistics.peakBufferedResponseBytes <= bound + (perConnection + 1) * (answerBytes + 1024))
            // Closed once they have left their answers unread for the idle timeout.
            try await waitUntil(timeout: .seconds(20)) {
                let closed = server.limitStatistics.connectionsClosed
                return closed[.slowReader, default: 0] + closed[.idleTimeout, default: 0] >= clients
            }
            for channel in channels { try? await channel.close() }
            try await waitUntil { server.limitStatistics.openConnections == 0 }
            let statistics = server.limitStatistics
            #expect(statistics.connectionsClosed[.slowReader, default: 0] >= clients / 2)
            #expect(
                statistics.connectionsClosed[.slowReader, default: 0] + statistics.connectionsClosed[.idleTimeout, default: 0] == clients)
            #expect(statistics.callsInFlight == 0)
        }
    }

    // MARK: Fairness

    @Test func aFlooderCannotRaiseAnotherCallersLatency() async throws {
        let limits = ServerConfiguration.Limits(
            calls: .init(maxCallsInFlight: 64, maxCallsInFlightPerIdentity: 16, callsPerSecondPerIdentity: 500, callBurstPerIdentity: 100))
        try await withLimitedServer(transportSecurity: .insecurePlaintext, limits: limits) { port, server in
            // The median: on a loaded machine (the suites run in parallel) one scheduling pause
            // moves a p99 of 100 calls by hundreds of milliseconds; waiting behind a flood moves the median.
            let measure: @Sendable () async throws -> (median: Duration, failures: Int) = {
                try await DemandScreenConnection.withConnection(
                    to: clientConfiguration(port: port, pki: nil, token: TestTokens.otherAgent)
                ) { victim in
                    var times: [Duration] = []
                    var failures = 0
                    for _ in 0..<100 {
                        let started = ContinuousClock.now
                        let response = try await victim.call("/test.Echo/Slow", message: Data("2".utf8))
                        times.append(ContinuousClock.now - started)
                        if response.status != .ok { failures += 1 }
                    }
                    times.sort()
                    return (times[times.count / 2], failures)
                }
            }
            let unloaded = try await measure()
            #expect(unloaded.failures == 0)

            let stop = Shared(false)
            let flooderCodes = Shared<[StatusCode: Int]>([:])
            let loaded = try await withThrowingTaskGroup(of: Void.self) { group in
                // Deep pipelining with one token on several connections; a refused call is sent
                // again after 2 ms whatever the hint says.
                for _ in 0..<2 {
                    group.addTask {
                        try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: nil)) { flooder in
                            try await withThrowingTaskGroup(of: Void.self) { calls in
                                for _ in 0..<48 {
                                    calls.addTask {
                                        while !stop.value {
                                            let response = try await flooder.call("/test.Echo/Slow", message: Data("20".utf8))
                                            flooderCodes.update { $0[response.status, default: 0] += 1 }
                                            if response.status != .ok { try await Task.sleep(for: .milliseconds(2)) }
                                        }
                                    }
                                }
                                try await calls.waitForAll()
                            }
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                let loaded = try await measure()
                stop.update { $0 = true }
                try await group.waitForAll()
                return loaded
            }
            let codes = flooderCodes.value
            #expect(loaded.failures == 0, "the other caller's calls all succeed")
            #expect(codes[.resourceExhausted, default: 0] > 0, "the flooder is refused")
            #expect(codes[.ok, default: 0] > 0, "and still served within its share")
            let ceiling = max(unloaded.median * 4, .milliseconds(100))
            #expect(
                loaded.median <= ceiling,
                "median under flood \(loaded.median) vs unloaded \(unloaded.median); flooder: \(codes.map { "\($0.key.name)=\($0.value)" })"
            )
            #expect(server.limitStatistics.callsRefused[.callsInFlight, default: 0] == 0)
        }
    }

    // MARK: Configuration

    /// A flag's value as the daemon's command line passes it: whole numbers as numbers.
    static func content(_ value: String) -> ConfigContent {
        if let number = Int(value) { return .int(number) }
        return .string(value)
    }

    @Test(arguments: [
        ("limits.maxConnections", "0"),
        ("limits.maxConnectionsPerAddress", "many"),
        ("limits.maxCallsInFlight", "0"),
        ("limits.maxCallsInFlightPerIdentity", "-1"),
        ("limits.callsPerSecondPerIdentity", "fast"),
        ("limits.callBurstPerIdentity", "0"),
        ("limits.screensInProgress", "0"),
        ("limits.handshakeTimeoutSeconds", "0"),
        ("limits.idleTimeoutSeconds", "1.5"),
        ("limits.frameTimeoutSeconds", "99999"),
        ("limits.maxBufferedResponseBytes", "1"),
    ])
    func aBadLimitStopsTheStartNamingItsKey(key: String, value: String) async throws {
        let reader = try await DaemonConfiguration.reader(flags: [key: Self.content(value)], configFile: nil, environment: [:])
        do {
            _ = try DaemonConfiguration(reader: reader, environment: [:])
            Issue.record("\(key)=\(value) was accepted")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }

    @Test func limitsAreReadFromTheConfiguration() async throws {
        let reader = try await DaemonConfiguration.reader(
            flags: [
                "limits.maxConnections": .int(10), "limits.maxConnectionsPerAddress": .int(5), "limits.maxCallsInFlight": .int(64),
                "limits.maxCallsInFlightPerIdentity": .int(8), "limits.callsPerSecondPerIdentity": .int(50),
                "limits.handshakeTimeoutSeconds": .int(2), "limits.idleTimeoutSeconds": .int(60), "limits.frameTimeoutSeconds": .int(5),
                "limits.maxBufferedResponseBytes": .int(1_048_576), "limits.screensInProgress": .int(12),
            ],
            configFile: nil, environment: [:])
        let limits = try DaemonConfiguration(reader: reader, environment: [:]).limits
        #expect(limits.maxConnections == 10 && limits.maxConnectionsPerAddress == 5)
        #expect(
            limits.calls
                == .init(maxCallsInFlight: 64, maxCallsInFlightPerIdentity: 8, callsPerSecondPerIdentity: 50, callBurstPerIdentity: 50))
        #expect(limits.handshakeTimeout == .seconds(2) && limits.idleTimeout == .seconds(60) && limits.frameTimeout == .seconds(5))
        #expect(limits.maxBufferedResponseBytes == 1 << 20)
        #expect(try DaemonConfiguration(reader: reader, environment: [:]).screensInProgress == 12)
    }
}

/// Stops reading once the TLS handshake is done: a client that never reads its answers.
final class StopReadingAfterHandshake: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// A value shared by concurrent tasks.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    func update(_ change: (inout Value) -> Void) { mutex.withLock { change(&$0) } }
}

/// Waits until `condition` holds, checking every 20 ms; fails after `timeout`.
func waitUntil(
    timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation, _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("the condition did not hold within \(timeout)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
