import CLibFuzzer
import DemandScreenAPI
import DemandScreenWire
import Foundation
import ScreeningEngine
import SwiftProtobuf

/// What the server and the Screen handler do with a frame's payload: parse the RequestFrame,
/// parse its message as a DemandRecord, validate it and describe the error the caller would get.
/// The whole input is also tried as a DemandRecord directly, so that the fuzzer reaches the
/// record's fields without first finding the envelope's. A record that parses must serialize and
/// parse back to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequest(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Data(UnsafeBufferPointer(start: start, count: count))
    if let frame = try? Demandscreen_V1_RequestFrame(serializedBytes: bytes) {
        _ = frame.metadata["authorization"]
        _ = frame.method.utf8.count
        screen(frame.message)
    }
    screen(bytes)
    return 0
}

private func screen(_ message: Data) {
    guard let record = try? DemandRecord(serializedBytes: message) else { return }
    do {
        try record.validate()
    } catch {
        _ = error.callError.message
    }
    do {
        let again = try DemandRecord(serializedBytes: try record.serializedBytes() as [UInt8])
        precondition(again == record, "a DemandRecord does not survive serializing and parsing")
    } catch {
        preconditionFailure("a parsed DemandRecord does not serialize and parse back: \(error)")
    }
}

/// The entry point of a debug build (see Package.swift): libFuzzer's driver.
@_cdecl("RequestFuzz_main")
public func requestFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzRequest($0, $1) }
}
