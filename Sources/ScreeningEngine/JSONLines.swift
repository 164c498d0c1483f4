/// A JSON-lines text read line by line, as `demandscreen` reads record and training files and as
/// the threat model's training fingerprint counts them: split on the byte 0x0A, blanks and a
/// carriage return trimmed, blank lines skipped.
public enum JSONLines {
    /// Each line's text with its line number (from 1). On UTF-8 bytes: splitting a large file by
    /// Characters costs more than screening it.
    public static func split(_ text: String) -> [(line: Int, json: String)] {
        let isBlank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        return text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            guard let first = line.firstIndex(where: { !isBlank($0) }) else { return nil }
            let last = line.lastIndex(where: { !isBlank($0) })!
            return (index + 1, String(Substring(line[first...last])))
        }
    }
}
