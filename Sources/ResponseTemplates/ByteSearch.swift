import Foundation

/// Substring search on UTF-8 bytes. UTF-8 is self-synchronising, so a byte match of one valid
/// string inside another is a match of whole Unicode scalars; and it is exact (no Unicode
/// canonical equivalence or locale), which is what a check on already-normalised text needs.
/// Foundation's `String.contains` compares grapheme clusters and costs tens of times more.
enum ByteSearch {
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        guard needle.count <= haystack.count else { return false }
        return haystack.withUnsafeBytes { text in
            needle.withUnsafeBytes { pattern in
                // memchr finds each candidate first byte; memcmp checks the rest.
                let base = text.baseAddress!
                let lastStart = text.count - pattern.count
                var offset = 0
                while offset <= lastStart,
                    let found = memchr(base + offset, Int32(first), lastStart - offset + 1)
                {
                    let start = base.distance(to: UnsafeRawPointer(found))
                    if memcmp(found, pattern.baseAddress!, pattern.count) == 0 { return true }
                    offset = start + 1
                }
                return false
            }
        }
    }
}
