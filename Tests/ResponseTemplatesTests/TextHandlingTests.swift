import Testing

@testable import ResponseTemplates

/// The byte-level text handling under the response writer: substring search on UTF-8 and the
/// tidying of rendered lines.
@Suite struct TextHandlingTests {
    @Test(arguments: [
        ("当社の責任です", "責任", true),
        ("責任", "責任", true),
        ("abcabd", "abd", true),
        ("aaab", "aab", true),
        ("end of text", "text", true),
        ("start", "st", true),
        ("abc", "abcd", false),
        ("abc", "", true),
        ("", "a", false),
        // 任 and 仕 share leading UTF-8 bytes: only whole scalars match.
        ("仕事", "任", false),
        ("our faul", "our fault", false),
    ])
    func byteSearch(haystack: String, needle: String, found: Bool) {
        #expect(ByteSearch.contains(Array(haystack.utf8), Array(needle.utf8)) == found)
    }

    @Test func tidyDropsTrailingBlanksAndRepeatedEmptyLines() {
        let text = "\n\n件名 \t\n\n\n本文です。\u{3000}\r\n  字下げは残す\n\n\n"
        #expect(ResponseWriter.tidy(text) == "件名\n\n本文です。\n  字下げは残す")
    }

    @Test func tidyKeepsATextWithoutLineBreaks() {
        #expect(ResponseWriter.tidy("一行だけ  ") == "一行だけ")
        #expect(ResponseWriter.tidy("") == "")
    }
}
