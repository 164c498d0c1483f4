import CLibFuzzer
import DemandScreenWire
import NIOCore
import SwiftProtobuf

/// The payloads (or the error) a decoder yields for `chunks` arriving one after another.
private func decode(_ chunks: [ArraySlice<UInt8>], maximum: Int) -> (payloads: [[UInt8]], error: FrameError?) {
    let decoder = FrameDecoder(maximumPayloadLength: maximum)
    var buffer = ByteBuffer()
    var payloads: [[UInt8]] = []
    for chunk in chunks {
        buffer.writeBytes(chunk)
        do {
            while true {
                let before = buffer
                guard let payload = try decoder.nextPayload(from: &buffer) else {
                    // An incomplete frame consumes nothing.
                    precondition(buffer == before, "nextPayload consumed bytes of an incomplete frame")
                    break
                }
                precondition(payload.readableBytes <= maximum, "a payload over the maximum was returned")
                payloads.append(Array(payload.readableBytesView))
                // What the server does next with a payload.
                _ = try? Demandscreen_V1_RequestFrame(serializedBytes: Array(payload.readableBytesView))
            }
        } catch let error as FrameError {
            _ = error.description
            return (payloads, error)
        } catch {
            preconditionFailure("nextPayload threw something other than a FrameError: \(error)")
        }
    }
    return (payloads, nil)
}

/// The first byte picks the maximum payload length (so that small inputs reach the oversize
/// check) and where the rest is split in two; the rest is the byte stream. Decoding it whole and
/// in two pieces must give the same frames and the same error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    guard let control = bytes.first else { return 0 }
    let stream = bytes[1...]
    let maximum = [0, 1, 16, 64, 1024, FrameFormat.defaultMaximumPayloadLength][Int(control & 0x07) % 6]
    let whole = decode([stream], maximum: maximum)
    let split = stream.startIndex + (Int(control >> 3) * stream.count) / 31
    let pieces = decode([stream[..<split], stream[split...]], maximum: maximum)
    precondition(whole.payloads == pieces.payloads, "the frames depend on how the bytes arrived")
    precondition(whole.error == pieces.error, "the error depends on how the bytes arrived")
    return 0
}

/// The entry point of a debug build (see Package.swift): libFuzzer's driver.
@_cdecl("FrameDecoderFuzz_main")
public func frameDecoderFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzFrameDecoder($0, $1) }
}
