import DemandScreenAPI
import DemandScreenClient
import DemandScreenDaemon
import DemandScreenRPC
import DemandScreenTestSupport
import DemandScreenWire
import Foundation
import NIOCore
import NIOSSL
import ScreeningEngine
import SwiftProtobuf
import Testing

/// Hostile input against the real TLS server on loopback: what the caller gets for each class of
/// bad input (the README's "Hostile input" table), and that the server keeps serving a bystander
/// connection afterwards. Rows covered elsewhere:
/// - unknown method: ProtocolTests.unknownMethodIsUnimplementedAndTheConnectionGoesOn
/// - a garbage envelope, oversize length and the compressed flag over plaintext:
///   ProtocolTests.unparseableFramesCloseOnlyTheirConnection (repeated here over TLS)
/// - a missing claimant id: ProtocolTests.badMessagesFailOnlyTheirCall
/// - a client certificate from an unknown CA: RoleTests.aCertificateFromAnotherCAIsRefusedAtTheHandshake
/// - TLS 1.2 to a 1.3-only server: RoleTests.tlsBelowTheMinimumIsRefused
@Suite struct BadInputTests {
    /// A server on loopback with TLS 1.2+ (the most permissive setting) and client certificates
    /// against the test CA, with a bystander connection that must answer before and after `body`.
    func withServer(
        maximumPayloadLength: Int = 64 * 1024,
        _ body: @Sendable (_ port: Int, _ pki: TestPKI) async throws -> Void
    ) async throws {
        let pki = try TestPKI()
        try await withTestServer(transportSecurity: pki.tls(minimumVersion: .tlsv12), maximumPayloadLength: maximumPayloadLength) {
            port, _ in
            try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: pki)) { bystander in
                #expect(try await bystander.call("/test.Echo/Fast", message: Data("before".utf8)).status == .ok)
                try await body(port, pki)
                #expect(try await bystander.call("/test.Echo/Fast", message: Data("after".utf8)).status == .ok)
            }
            // And a new connection is served too.
            let status = try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: pki)) { client in
                try await client.call("/test.Echo/Fast", message: Data("new".utf8)).status
            }
            #expect(status == .ok)
        }
    }

    func recordBytes(_ record: DemandRecord) throws -> Data { try record.serializedBytes() }

    /// The status of one Screen call with `message`, over TLS.
    func screen(_ message: Data, port: Int, pki: TestPKI) async throws -> (status: StatusCode, message: String) {
        try await DemandScreenConnection.withConnection(to: clientConfiguration(port: port, pki: pki)) { client in
            let response = try await client.call(MethodName.screen, message: message)
            return (response.status, response.statusMessage)
        }
    }

    // MARK: Frames

    @Test func aTruncatedFrameWaitsForItsRestAndAConnectionEndingMidFrameIsClosed() async throws {
        try await withServer { port, pki in
            let frame = try requestFrame(callID: 5, method: "/test.Echo/Fast", message: Data("whole".utf8))
            try await RawConnection.withTLS(port: port, pki: pki) { session in
                try await session.write(frame.getSlice(at: 0, length: 3)!)
                try await Task.sleep(for: .milliseconds(100))
                try await session.write(frame.getSlice(at: 3, length: 8)!)
                try await Task.sleep(for: .milliseconds(100))
                try await session.write(frame.getSlice(at: 11, length: frame.readableBytes - 11)!)
                let response = try #require(try await session.nextResponse())
                #expect(response.callID == 5)
                #expect(response.statusCode == 0)
                #expect(response.message == Data("whole".utf8))
            }
            // A client that leaves with half a frame sent: the server drops the connection.
            try await RawConnection.withTLS(port: port, pki: pki) { session in
                try await session.write(frame.getSlice(at: 0, length: 12)!)
            }
        }
    }

    @Test(arguments: [
        ("oversize length", StatusCode.resourceExhausted),
        ("reserved flag", .invalidArgument),
        ("compressed flag", .invalidArgument),
        ("garbage envelope", .invalidArgument),
        ("envelope with invalid UTF-8", .invalidArgument),
    ])
    func anUnparseableFrameGetsCallIDZeroAndClosesOnlyItsConnection(kind: String, expected: StatusCode) async throws {
        try await withServer(maximumPayloadLength: 1024) { port, pki in
            var bad = ByteBuffer()
            switch kind {
            case "oversize length":
                bad.writeInteger(UInt8(0))
                bad.writeInteger(UInt32(1025))
            case "reserved flag":
                bad = try requestFrame(callID: 7, method: "/test.Echo/Fast")
                bad.setInteger(UInt8(0x80), at: 0)
            case "compressed flag":
                bad = try requestFrame(callID: 7, method: "/test.Echo/Fast")
                bad.setInteger(UInt8(1), at: 0)
            case "garbage envelope":
                FrameEncoder.writeFrame(payload: ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF]), to: &bad)
            default:
                // method (field 2) holding bytes that are not UTF-8.
                FrameEncoder.writeFrame(payload: ByteBuffer(bytes: [0x08, 0x07, 0x12, 0x03, 0xC3, 0x28, 0xFF]), to: &bad)
            }
            try await RawConnection.withTLS(port: port, pki: pki) { session in
                try await session.write(bad)
                let error = try #require(try await session.nextResponse())
                #expect(error.callID == 0)
                #expect(error.statusCode == expected.rawValue, "\(error.statusMessage)")
                #expect(!error.statusMessage.isEmpty)
                #expect(await session.closedByServer())
            }
        }
    }

    @Test func aTenMegabyteTranscriptIsRefusedAtTheFrameLimit() async throws {
        // The daemon's default limits.maxFrameBytes.
        let limit = FrameFormat.defaultMaximumPayloadLength
        try await withServer(maximumPayloadLength: limit) { port, pki in
            var record = sampleRecord()
            record.utterances[0].text = String(repeating: "金を払え。", count: 10 * 1024 * 1024 / 15)
            let frame = try requestFrame(callID: 9, method: MethodName.screen, message: try record.serializedBytes())
            #expect(frame.readableBytes > 10_000_000)
            try await RawConnection.withTLS(port: port, pki: pki) { session in
                // The server answers once it has the header; the first 16 KB are sent so that
                // it is not left with unread bytes when it closes.
                try await session.write(frame.getSlice(at: 0, length: 16 * 1024)!)
                let error = try #require(try await session.nextResponse())
                #expect(error.callID == 0)
                #expect(error.statusCode == StatusCode.resourceExhausted.rawValue)
                #expect(error.statusMessage.contains("exceeds the maximum of \(limit) bytes"))
                #expect(await session.closedByServer())
            }
        }
    }

    // MARK: Messages (a good envelope: only the call fails)

    @Test func badRecordsFailOnlyTheirCall() async throws {
        try await withServer(maximumPayloadLength: 1 << 20) { port, pki in
            // Wrong field types: record_id (field 1, a string) as a varint; utterances (field 7) as a
            // fixed32. SwiftProtobuf keeps a known field with the wrong wire type as an unknown
            // field, so the field reads as empty and validation names it.
            var result = try await screen(Data([0x08, 0x01]), port: port, pki: pki)
            #expect(result.status == .invalidArgument)
            #expect(result.message.contains("recordId: is required"))
            result = try await screen(Data([0x3D, 0x01, 0x02, 0x03, 0x04]), port: port, pki: pki)
            #expect(result.status == .invalidArgument)

            // Invalid UTF-8 in a string field (an utterance's text).
            var bytes = try recordBytes(sampleRecord())
            let text = Data(sampleRecord().utterances[0].text.utf8)
            let at = try #require(bytes.range(of: text))
            bytes.replaceSubrange(at.lowerBound..<(at.lowerBound + 2), with: [0xC3, 0x28])
            result = try await screen(bytes, port: port, pki: pki)
            #expect(result.status == .invalidArgument)
            #expect(result.message.contains("DemandRecord"))

            // Empty required fields, each named.
            var record = sampleRecord()
            record.recordID = ""
            result = try await screen(try record.serializedBytes(), port: port, pki: pki)
            #expect(result.status == .invalidArgument)
            #expect(result.message == "invalid DemandRecord: recordId: is required")
            record = sampleRecord()
            record.utterances[0].speaker = .unspecified
            result = try await screen(try record.serializedBytes(), port: port, pki: pki)
            #expect(result.status == .invalidArgument)
            #expect(result.message.contains("utterances[0].speaker"))

            // Huge repeated fields: one utterance over the limit.
            record = sampleRecord()
            record.utterances = Array(repeating: record.utterances[0], count: DemandRecord.maximumUtterances + 1)
            result = try await screen(try record.serializedBytes(), port: port, pki: pki)
            #expect(result.status == .invalidArgument)
            #expect(result.message.contains("utterances: has 5001 entries"))

            // Deep nesting: 20 000 nested groups of an unknown field inside the record. SwiftProtobuf
            // refuses to skip groups nested past its depth limit.
            var nested = try recordBytes(sampleRecord())
            nested.append(contentsOf: Array(repeating: UInt8(15 << 3 | 3), count: 20_000))
            nested.append(contentsOf: Array(repeating: UInt8(15 << 3 | 4), count: 20_000))
            result = try await screen(nested, port: port, pki: pki)
            #expect(result.status == .invalidArgument)
            #expect(result.message.contains("DemandRecord"))

            // Deeply nested length-delimited fields: a known message field (incident, 8) holding
            // itself 10 000 times; unknown inside Incident, so skipped without recursion.
            var inner = Data()
            for _ in 0..<10_000 {
                var wrapped = Data([8 << 3 | 2])
                var length = inner.count
                repeat {
                    wrapped.append(UInt8(length & 0x7F) | (length > 0x7F ? 0x80 : 0))
                    length >>= 7
                } while length > 0
                inner = wrapped + inner
            }
            result = try await screen(try recordBytes(sampleRecord()) + inner, port: port, pki: pki)
            #expect(result.status != .internal && result.status != .unknown, "\(result.message)")
        }
    }

    @Test func anEnvelopeWithAWrongFieldTypeReadsTheFieldAsEmpty() async throws {
        try await withServer { port, pki in
            // method (field 2, a string) sent as a varint: an unknown field to SwiftProtobuf, so
            // the call has no method; the connection goes on.
            var bad = ByteBuffer()
            FrameEncoder.writeFrame(payload: ByteBuffer(bytes: [0x08, 0x07, 0x10, 0x2A]), to: &bad)
            try await RawConnection.withTLS(port: port, pki: pki) { session in
                try await session.write(bad)
                let response = try #require(try await session.nextResponse())
                #expect(response.callID == 7)
                #expect(response.statusCode == StatusCode.unimplemented.rawValue)
                try await session.write(try requestFrame(callID: 8, method: "/test.Echo/Fast"))
                #expect(try await session.nextResponse()?.statusCode == 0)
            }
        }
    }

    // MARK: Transport

    @Test func anExpiredOrUnknownClientCertificateFailsTheHandshake() async throws {
        try await withServer { port, pki in
            let now = Date()
            let expired = try pki.clientCertificate(
                role: "agent", validity: now.addingTimeInterval(-30 * 86400)..<now.addingTimeInterval(-86400))
            let stranger = try DevelopmentCertificateAuthority(commonName: "Somebody else's CA")
            let unknown = try pki.clientCertificate(role: "agent", from: stranger)
            let valid = try pki.clientCertificate(role: "agent")
            for certificate in [expired, unknown] {
                #expect(await rawHealthCall(port: port, pki: pki, certificate: certificate) == nil)
            }
            #expect(await rawHealthCall(port: port, pki: pki, certificate: valid) == .ok)
        }
    }

    @Test func plaintextToTheTLSPortGetsNoFrame() async throws {
        try await withServer { port, _ in
            let bytes = try await RawConnection.withPlaintext(port: port) { session in
                try await session.write(try requestFrame(callID: 1, method: MethodName.healthCheck))
                return await session.readUntilClosed()
            }
            // At most a TLS alert record (content type 21), never a response frame.
            if let first = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) {
                #expect(first == 21)
            }
        }
    }

    @Test func tls11FailsTheHandshake() async throws {
        try await withServer { port, pki in
            #expect(await rawHealthCall(port: port, pki: pki, minimumVersion: .tlsv1, maximumVersion: .tlsv11) == nil)
            #expect(await rawHealthCall(port: port, pki: pki, maximumVersion: .tlsv12) == .ok)
        }
    }

    /// The status of a health check over a raw TLS connection, or nil when the connection fails
    /// (a refused handshake).
    func rawHealthCall(
        port: Int, pki: TestPKI, certificate: (certificate: String, key: String)? = nil,
        minimumVersion: TLSVersion = .tlsv12, maximumVersion: TLSVersion? = nil
    ) async -> StatusCode? {
        do {
            return try await RawConnection.withTLS(
                port: port, pki: pki, certificate: certificate, minimumVersion: minimumVersion, maximumVersion: maximumVersion
            ) { session in
                try await session.write(try requestFrame(callID: 1, method: MethodName.healthCheck, token: nil))
                return try await session.nextResponse().map { StatusCode(rawValue: $0.statusCode) }
            }
        } catch {
            return nil
        }
    }
}
