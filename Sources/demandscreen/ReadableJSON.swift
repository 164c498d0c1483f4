/// Rewrites the `\uXXXX` escapes that swift-protobuf's JSON encoder writes for every non-ASCII
/// character back into the characters themselves, so that Japanese text reads as Japanese. The
/// result is the same JSON value; escapes of control characters, quotes and backslashes stay.
func readableJSON(_ json: String) -> String {
    var output = String.UnicodeScalarView()
    var scalars = Array(json.unicodeScalars)[...]
    var pendingHighSurrogate: UInt32?
    while let scalar = scalars.popFirst() {
        guard scalar == "\\", let next = scalars.first else {
            output.append(scalar)
            continue
        }
        guard next == "u", scalars.count >= 5,
            let value = UInt32(String(String.UnicodeScalarView(scalars.dropFirst().prefix(4))), radix: 16)
        else {
            // Any other escape (\\, \", \n, ...) is copied as it is.
            output.append(scalar)
            output.append(scalars.removeFirst())
            continue
        }
        let escape = "\\u" + String(String.UnicodeScalarView(scalars.dropFirst().prefix(4)))
        scalars = scalars.dropFirst(5)
        if (0xD800...0xDBFF).contains(value) {
            pendingHighSurrogate = value
            continue
        }
        if (0xDC00...0xDFFF).contains(value), let high = pendingHighSurrogate {
            pendingHighSurrogate = nil
            let combined = 0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)
            if let character = Unicode.Scalar(combined) { output.append(character) }
            continue
        }
        if value < 0x20 || value == 0x22 || value == 0x5C || value == 0x7F || Unicode.Scalar(value) == nil {
            output.append(contentsOf: escape.unicodeScalars)
        } else {
            output.append(Unicode.Scalar(value)!)
        }
    }
    return String(output)
}
