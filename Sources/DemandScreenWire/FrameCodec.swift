public import NIOCore

/// The limits and layout of a DemandScreen frame: 1 byte of flags, a 4-byte big-endian
/// payload length, then the payload (a protobuf `RequestFrame` or `ResponseFrame`).
public enum FrameFormat {
    /// The bytes before the payload.
    public static let headerLength = 5
    /// The default bound on a payload, 4 MiB.
    public static let defaultMaximumPayloadLength = 4 * 1024 * 1024
    /// Bit 0 of the flags byte: the payload is compressed. No compression is defined, so a set
    /// bit is rejected; every other bit is reserved and must be 0 too.
    public static let compressedFlag: UInt8 = 0x01
}

/// Why a byte stream is not a sequence of valid frames. The connection cannot continue after one.
public struct FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with the frame.
    public enum Kind: Hashable, Sendable {
        /// The length field exceeds the maximum payload length.
        case payloadTooLarge(length: Int, maximum: Int)
        /// The compressed flag is set; this protocol defines no compression.
        case compressionNotSupported
        /// A reserved flag bit is set.
        case reservedFlagsSet(flags: UInt8)
        /// The stream ended in the middle of a frame.
        case truncated(bufferedBytes: Int)
    }

    public var kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .payloadTooLarge(let length, let maximum):
            return "frame payload of \(length) bytes exceeds the maximum of \(maximum) bytes"
        case .compressionNotSupported:
            return "frame has the compressed flag (bit 0) set, but compression is not supported"
        case .reservedFlagsSet(let flags):
            return "frame flags byte 0x\(String(flags, radix: 16)) has reserved bits set"
        case .truncated(let bufferedBytes):
            return "connection ended in the middle of a frame (\(bufferedBytes) bytes buffered)"
        }
    }
}

/// Splits an inbound byte stream into frame payloads, rejecting bad flags and oversize lengths
/// before buffering the payload.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let maximumPayloadLength: Int

    public init(maximumPayloadLength: Int = FrameFormat.defaultMaximumPayloadLength) {
        self.maximumPayloadLength = maximumPayloadLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let payload = try nextPayload(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(payload))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        if try decode(context: context, buffer: &buffer) == .continue { return .continue }
        if buffer.readableBytes > 0 {
            throw FrameError(.truncated(bufferedBytes: buffer.readableBytes))
        }
        return .needMoreData
    }

    /// Reads one whole frame's payload, or returns nil and consumes nothing when the frame is
    /// not complete yet. Validates the header as soon as it is complete.
    public func nextPayload(from buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let flags = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)
        else { return nil }
        if flags & FrameFormat.compressedFlag != 0 {
            throw FrameError(.compressionNotSupported)
        }
        if flags != 0 {
            throw FrameError(.reservedFlagsSet(flags: flags))
        }
        guard length <= maximumPayloadLength else {
            throw FrameError(.payloadTooLarge(length: Int(length), maximum: maximumPayloadLength))
        }
        guard buffer.readableBytes >= FrameFormat.headerLength + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: FrameFormat.headerLength)
        return buffer.readSlice(length: Int(length))
    }
}

/// Writes each outbound payload as one frame (flags 0, big-endian length, payload).
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = ByteBuffer

    public init() {}

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        Self.writeFrame(payload: data, to: &out)
    }

    /// Appends one frame holding `payload` to `out`.
    public static func writeFrame(payload: ByteBuffer, to out: inout ByteBuffer) {
        out.reserveCapacity(minimumWritableBytes: FrameFormat.headerLength + payload.readableBytes)
        out.writeInteger(UInt8(0))
        out.writeInteger(UInt32(payload.readableBytes))
        out.writeImmutableBuffer(payload)
    }
}
