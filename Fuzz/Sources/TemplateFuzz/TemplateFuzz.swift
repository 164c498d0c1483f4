import CLibFuzzer
import Foundation
import ResponseTemplates

/// A template file: the first line is its path in the operator's folder (e.g.
/// `en/needs-review.written.mustache`), the rest its bytes, through every check the loader
/// applies to one file. It must pass or throw a TemplateSetError, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplate(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = Data(UnsafeBufferPointer(start: start, count: count))
    let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
    let path = String(decoding: bytes[..<newline], as: UTF8.self)
    let contents = newline < bytes.endIndex ? bytes[(newline + 1)...] : Data()
    do {
        try ResponseTemplateSet.checkTemplateFile(relativePath: path, contents: Data(contents))
    } catch {
        _ = error.description
    }
    return 0
}

/// The entry point of a debug build (see Package.swift): libFuzzer's driver.
@_cdecl("TemplateFuzz_main")
public func templateFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzTemplate($0, $1) }
}
