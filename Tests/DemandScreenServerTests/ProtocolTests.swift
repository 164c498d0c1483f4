import DemandScreenAPI
import DemandScreenClient
import DemandScreenRPC
import DemandScreenServer
import DemandScreenTestSupport
import DemandScreenWire
import Foundation
import Logging
import NIOCore
import SwiftProtobuf
import Synchronization
import Testing

/// The wire protocol against a real server on loopback: pipelining, deadlines, unknown methods,
/// per-call errors and connection-level errors.
@Suite struct ProtocolTests {
    @Test func pipelinedCallsAnswerInCompletionOrder() async throws {
        let pki = try TestPKI()
        try await withTestServer(transportSecurity: pki.tls()) { port, _ in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: pki)) { client in
                let order = CompletionLog()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // Long enough that the fast calls finish first even on a loaded machine.
                        let response = try await client.call("/test.Echo/Slow", message: Data("3000".utf8))
                        #expect(response.status == .ok)
                        #expect(String(decoding: response.message, as: UTF8.self) == "3000")
                        order.append("slow")
                    }
                    try await Task.sleep(for: .milliseconds(50))
                    for index in 0..<20 {
                        group.addTask {
                            let response = try await client.call("/test.Echo/Fast", message: Data("fast-\(index)".utf8))
                            #expect(String(decoding: response.message, as: UTF8.self) == "fast-\(index)")
                            order.append("fast")
                        }
                    }
                    try await group.waitForAll()
                }
                let finished = order.entries
                #expect(finished.count == 21)
                #expect(finished.last == "slow", "the slow call sent first must answer after the fast ones")
            }
        }
    }

    @Test func manyFramesInOneWriteAreAllAnswered() async throws {
        try await withTestServer(transportSecurity: .insecurePlaintext) { port, _ in
            try await RawConnection.withPlaintext(port: port) { session in
                var batch = ByteBuffer()
                for callID in 1...50 as ClosedRange<UInt64> {
                    var frame = try requestFrame(callID: callID, method: "/test.Echo/Fast", message: Data("\(callID)".utf8))
                    batch.writeBuffer(&frame)
                }
                try await session.write(batch)
                var seen: Set<UInt64> = []
                for _ in 1...50 {
                    let response = try #require(try await session.nextResponse())
                    #expect(response.statusCode == 0)
                    #expect(String(decoding: response.message, as: UTF8.self) == "\(response.callID)")
                    seen.insert(response.callID)
                }
                #expect(seen == Set(1...50))
            }
        }
    }

    @Test func aPassedDeadlineGivesDeadlineExceeded() async throws {
        try await withTestServer(transportSecurity: .insecurePlaintext) { port, _ in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: nil)) { client in
                let started = ContinuousClock.now
                // A handler that would take a minute: the answer comes at the deadline, or within a
                // machine's worst stall of it, never after the handler's minute.
                let response = try await client.call("/test.Echo/Slow", message: Data("60000".utf8), timeoutMilliseconds: 100)
                #expect(response.status == .deadlineExceeded)
                #expect(ContinuousClock.now - started < .seconds(30), "the handler must be cancelled, not awaited")
                let next = try await client.call("/test.Echo/Slow", message: Data("10".utf8), timeoutMilliseconds: 2000)
                #expect(next.status == .ok)
            }
        }
    }

    @Test func unknownMethodIsUnimplementedAndTheConnectionGoesOn() async throws {
        try await withTestServer(transportSecurity: .insecurePlaintext) { port, _ in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: nil)) { client in
                let response = try await client.call("/demandscreen.v1.Screening/Nope", message: Data())
                #expect(response.status == .unimplemented)
                #expect(response.statusMessage.contains("/demandscreen.v1.Screening/Nope"))
                #expect(try await client.call("/test.Echo/Fast", message: Data("x".utf8)).status == .ok)
            }
        }
    }

    @Test func badMessagesFailOnlyTheirCall() async throws {
        try await withTestServer(transportSecurity: .insecurePlaintext) { port, _ in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: nil)) { client in
                var missing = sampleRecord()
                missing.claimantID = ""
                let invalid = try await client.call(MethodName.screen, message: try missing.serializedBytes())
                #expect(invalid.status == .invalidArgument)
                #expect(invalid.statusMessage.contains("claimantId"))
                #expect(invalid.statusMessage.contains("required"))

                let garbage = try await client.call(MethodName.screen, message: Data([0xFF, 0xFF, 0xFF, 0x0F]))
                #expect(garbage.status == .invalidArgument)
                #expect(garbage.statusMessage.contains("DemandRecord"))

                let ok = try await client.call(MethodName.screen, message: try sampleRecord().serializedBytes())
                #expect(ok.status == .ok)
                let result = try ScreeningResult(serializedBytes: ok.message)
                #expect(result.recordID == "r-1")
                #expect(result.verdict == .legitimateClaim)
            }
        }
    }

    @Test(arguments: [
        ("oversize", StatusCode.resourceExhausted),
        ("compressed", .invalidArgument),
        ("garbage", .invalidArgument),
        ("not-an-envelope", .invalidArgument),
    ])
    func unparseableFramesCloseOnlyTheirConnection(kind: String, expected: StatusCode) async throws {
        try await withTestServer(transportSecurity: .insecurePlaintext, maximumPayloadLength: 1024) { port, _ in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: nil)) { bystander in
                #expect(try await bystander.call("/test.Echo/Fast", message: Data("before".utf8)).status == .ok)
                try await RawConnection.withPlaintext(port: port) { session in
                    var bad = ByteBuffer()
                    switch kind {
                    case "oversize":
                        bad.writeInteger(UInt8(0))
                        bad.writeInteger(UInt32(1025))
                    case "compressed":
                        bad = try requestFrame(callID: 7, method: "/test.Echo/Fast")
                        bad.setInteger(UInt8(1), at: 0)
                    case "garbage":
                        bad.writeString("GET / HTTP/1.1\r\n\r\n")
                    default:
                        bad.writeInteger(UInt8(0))
                        bad.writeInteger(UInt32(4))
                        bad.writeBytes([0xFF, 0xFF, 0xFF, 0xFF])
                    }
                    try await session.write(bad)
                    let error = try #require(try await session.nextResponse())
                    #expect(error.callID == 0)
                    #expect(error.statusCode == expected.rawValue)
                    #expect(!error.statusMessage.isEmpty)
                    #expect(await session.closedByServer())
                }
                #expect(try await bystander.call("/test.Echo/Fast", message: Data("after".utf8)).status == .ok)
            }
        }
    }

    @Test func healthAnswersTheStandardCheck() async throws {
        try await withTestServer(transportSecurity: .insecurePlaintext) { port, _ in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: nil, token: nil)) { client in
                let health = try await client.unary(MethodName.healthCheck, HealthCheckRequest(), as: HealthCheckResponse.self)
                #expect(health.status == .notServing, "nothing marked this test server ready")
                var other = HealthCheckRequest()
                other.service = "some.other.Service"
                let response = try await client.call(MethodName.healthCheck, message: try other.serializedBytes())
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func gracefulShutdownLetsCallsInFlightAnswer() async throws {
        try await withTestServer(transportSecurity: .insecurePlaintext) { port, shutdown in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: nil)) { client in
                async let slow = client.call("/test.Echo/Slow", message: Data("3000".utf8))
                // The server reads a connection's frames in order: once a call sent after the slow
                // one has answered, the slow one is in flight (a fixed sleep is not enough on a
                // loaded machine).
                try await Task.sleep(for: .milliseconds(50))
                #expect(try await client.call("/test.Echo/Fast", message: Data("after".utf8)).status == .ok)
                await shutdown()
                let response = try await slow
                #expect(response.status == .ok)
            }
            await #expect(throws: ClientError.self) {
                try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: nil)) { client in
                    try await client.call("/test.Echo/Fast", message: Data())
                }
            }
        }
    }

    @Test func plaintextIsRefusedOffLoopback() async throws {
        #expect(ServerConfiguration.isLoopback(host: "127.0.0.1"))
        #expect(ServerConfiguration.isLoopback(host: "::1"))
        #expect(!ServerConfiguration.isLoopback(host: "0.0.0.0"))
        #expect(!ServerConfiguration.isLoopback(host: "10.0.0.1"))
        let server = DemandScreenServer(
            configuration: ServerConfiguration(host: "0.0.0.0", port: 0, transportSecurity: .insecurePlaintext),
            router: testRouter(), authenticator: Authenticator(tokens: []), logger: .init(label: "test"))
        await #expect(throws: ServerStartError.self) { try await server.run() }
    }
}

/// The order in which concurrent calls finished.
final class CompletionLog: Sendable {
    private let log = Mutex<[String]>([])
    func append(_ entry: String) { log.withLock { $0.append(entry) } }
    var entries: [String] { log.withLock { $0 } }
}
