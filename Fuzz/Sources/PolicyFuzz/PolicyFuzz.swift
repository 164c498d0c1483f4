import CLibFuzzer
import Foundation
import ScreeningEngine

/// A policy file's bytes as the daemon reads them (UTF-8 text), through ScreeningPolicy(yaml:):
/// it must load or throw a PolicyError, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Data(UnsafeBufferPointer(start: start, count: count))
    guard let text = String(data: bytes, encoding: .utf8) else { return 0 }
    do {
        _ = try ScreeningPolicy(yaml: text)
    } catch {
        _ = error.description
    }
    return 0
}

/// The entry point of a debug build (see Package.swift): libFuzzer's driver.
@_cdecl("PolicyFuzz_main")
public func policyFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzPolicy($0, $1) }
}
