import DemandScreenWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite struct FrameCodecTests {
    static func frame(_ payload: [UInt8], flags: UInt8 = 0) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(flags)
        buffer.writeInteger(UInt32(payload.count))
        buffer.writeBytes(payload)
        return buffer
    }

    @Test func decodesSplitWholeAndBatchedFrames() throws {
        // The verifier feeds the input byte by byte, all at once and in random chunks.
        let payloads: [[UInt8]] = [Array("first".utf8), [], Array(repeating: 0xAB, count: 3_000), Array("last".utf8)]
        var all = ByteBuffer()
        for payload in payloads { all.writeImmutableBuffer(Self.frame(payload)) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(all, payloads.map { ByteBuffer(bytes: $0) })],
            decoderFactory: { FrameDecoder(maximumPayloadLength: 4_000) })
    }

    @Test func rejectsOversizeLengthBeforeBuffering() throws {
        let decoder = FrameDecoder(maximumPayloadLength: 16)
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(17))  // no payload bytes follow: the header alone is refused
        #expect(throws: FrameError(.payloadTooLarge(length: 17, maximum: 16))) {
            _ = try decoder.nextPayload(from: &buffer)
        }
    }

    @Test(arguments: [
        (UInt8(0x01), FrameError.Kind.compressionNotSupported), (0x02, .reservedFlagsSet(flags: 0x02)),
        (0x80, .reservedFlagsSet(flags: 0x80)),
    ])
    func rejectsFlags(flags: UInt8, expected: FrameError.Kind) throws {
        let decoder = FrameDecoder()
        var buffer = Self.frame(Array("x".utf8), flags: flags)
        #expect(throws: FrameError(expected)) { _ = try decoder.nextPayload(from: &buffer) }
    }

    @Test func garbageIsRejectedAtTheHeader() throws {
        let decoder = FrameDecoder()
        var buffer = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(throws: FrameError.self) { _ = try decoder.nextPayload(from: &buffer) }
    }

    @Test func waitsForTheWholeFrameAndConsumesNothingMeanwhile() throws {
        let decoder = FrameDecoder()
        let whole = Self.frame(Array("hello".utf8))
        var partial = whole.getSlice(at: 0, length: 7)!
        #expect(try decoder.nextPayload(from: &partial) == nil)
        #expect(partial.readableBytes == 7)
    }

    @Test func truncatedStreamAtEndIsAnError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var partial = Self.frame(Array("hello".utf8))
        partial.moveWriterIndex(to: 6)
        try channel.writeInbound(partial)
        #expect(throws: FrameError(.truncated(bufferedBytes: 6))) { try channel.finish() }
    }

    @Test func encoderWritesHeaderThenPayload() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
        try channel.writeOutbound(ByteBuffer(string: "abc"))
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(written.readableBytesView) == [0, 0, 0, 0, 3] + Array("abc".utf8))
        _ = try channel.finish()
    }
}
