import ScreeningEngine
import Testing

@Suite struct TextNormalizerTests {
    func folded(_ text: String) -> String {
        String(decoding: NormalizedText(text).bytes, as: UTF8.self)
    }

    /// Each folded byte's original scalars.
    static func byteSpans(_ normalized: NormalizedText) -> [Range<Int>] {
        (0..<normalized.count).map { normalized.sourceRange(ofBytes: $0..<($0 + 1)) }
    }

    /// `count` texts of 1 to `mostPieces` pieces drawn from `pieces` by a generator started at
    /// `seed`: a fixed seed gives the same texts every run.
    static func seededMixes(of pieces: [String], count: Int, mostPieces: UInt64, seed: UInt64) -> [String] {
        var state = seed
        return (0..<count).map { _ in
            var text = ""
            for _ in 0..<(1 + Int(state % mostPieces)) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                text += pieces[Int(state >> 33) % pieces.count]
            }
            return text
        }
    }

    @Test(arguments: [
        ("コロス", "ころす"),  // katakana → hiragana
        ("ｺﾛｽ", "ころす"),  // half-width katakana
        ("ｶﾞｲﾄﾞ", "がいど"),  // half-width with voiced marks combine
        ("ﾎﾟｲﾝﾄ", "ぽいんと"),
        ("ＳＮＳで拡散", "snsで拡散"),  // full-width Latin, case
        ("こ ろ す", "ころす"),  // spaces inside a Japanese word
        ("殺.す", "殺す"),  // symbols inside a word
        ("しばくぞーーー", "しばくぞ"),  // elongation marks
        ("殺すぞ〜〜", "殺すぞ"),
        ("ころすっっっ", "ころすっ"),  // runs of small っ
        ("I'LL  KILL   you", "ill kill you"),  // casing, runs of spaces between words
        ("I’ll kill you", "ill kill you"),  // typographic apostrophe
        ("Im not leaving", "im not leaving"),  // a contraction typed without its apostrophe
        ("sooooo bad", "so bad"),  // runs of three or more
        ("kill", "kill"),  // doubled letters stay
        ("ＫＩＬＬ you", "kill you"),  // full-width capitals
        ("Ok, I'M COMING", "ok im coming"),  // punctuation between words becomes one space
        // The edges of the ranges the Japanese loop compares as UTF-8 bytes: hiragana U+3041–309F
        // and kanji U+4E00–9FFF as they are, katakana U+30A1–30F6 as hiragana, the characters
        // just outside each left to the general path.
        ("ぁゟァヶヷヺ", "ぁゟぁゖヷヺ"),
        ("一鿿㐀龥", "一鿿㐀龥"),
        ("コ\u{3000}ロ、ス・ぞ〜ー", "ころすぞ"),  // CJK punctuation and ・ separate; 〜 ー are dropped
        ("々〆〇〻", "々〆〇〻"),  // CJK letters among the punctuation
    ])
    func folds(input: String, expected: String) {
        #expect(folded(input) == expected)
    }

    /// Each folded byte's original scalars, for the inline paths (ASCII words, kana and kanji)
    /// and their hand-overs to the general one (repeats, separators, dropped marks).
    @Test(arguments: [
        ("a  b", "a b", [0..<1, 1..<2, 3..<4]),  // the space stands for the first separator
        ("ab'c", "abc", [0..<1, 1..<2, 3..<4]),
        ("So,,, sooo", "so so", [0..<1, 1..<2, 2..<3, 6..<7, 7..<10]),  // the run keeps all its o's
        ("AAAaaa", "a", [0..<6]),
        ("a ~ a", "a a", [0..<1, 1..<2, 4..<5]),
        ("ココココ", "こ", [0..<4, 0..<4, 0..<4]),
        ("こ こ こ", "こ", [0..<5, 0..<5, 0..<5]),  // a run across dropped separators
        ("あ…い", "あい", [0..<1, 0..<1, 0..<1, 2..<3, 2..<3, 2..<3]),
        ("x…y", "x y", [0..<1, 1..<2, 2..<3]),
        ("、、、あ", "あ", [3..<4, 3..<4, 3..<4]),
        ("see  me", "see me", [0..<1, 1..<2, 2..<3, 3..<4, 5..<6, 6..<7]),  // a double letter, then back to the ASCII loop
        ("日本 ab", "日本ab", [0..<1, 0..<1, 0..<1, 1..<2, 1..<2, 1..<2, 3..<4, 4..<5]),  // no space after Japanese
        ("ab 日本", "ab日本", [0..<1, 1..<2, 3..<4, 3..<4, 3..<4, 4..<5, 4..<5, 4..<5]),  // nor before it
        // Compatibility characters fill the room set aside (13 bytes in, 30 out) just before an
        // ASCII letter that follows a pending separator: the fold starts again with more room.
        (
            "㍿㍿㎉、x", "株式会社株式会社kcal x",
            Array(repeating: 0..<1, count: 12) + Array(repeating: 1..<2, count: 12) + Array(repeating: 2..<3, count: 4) + [3..<4, 4..<5]
        ),
        // 〇 is a numeral
        ("二〇二〇年", "二〇二〇年", [0..<1, 0..<1, 0..<1, 1..<2, 1..<2, 1..<2, 2..<3, 2..<3, 2..<3, 3..<4, 3..<4, 3..<4, 4..<5, 4..<5, 4..<5]),
        ("日本、abc", "日本abc", [0..<1, 0..<1, 0..<1, 1..<2, 1..<2, 1..<2, 3..<4, 4..<5, 5..<6]),  // punctuation between scripts
        ("コッッ。ー", "こっ", [0..<1, 0..<1, 0..<1, 1..<3, 1..<3, 1..<3]),  // katakana, a run of small っ, then punctuation
        (
            "日本English語", "日本english語",
            [0..<1, 0..<1, 0..<1, 1..<2, 1..<2, 1..<2, 2..<3, 3..<4, 4..<5, 5..<6, 6..<7, 7..<8, 8..<9, 9..<10, 9..<10, 9..<10]
        ),
    ])
    func foldsWithOffsets(input: String, expected: String, sources: [Range<Int>]) {
        let normalized = NormalizedText(input)
        #expect(String(decoding: normalized.bytes, as: UTF8.self) == expected)
        #expect(Self.byteSpans(normalized) == sources)
    }

    @Test func offsetsPointIntoTheOriginalText() {
        let text = "はい、ｺ ﾛ ｽぞーー！"
        let normalized = NormalizedText(text)
        let target = Array("ころすぞ".utf8)
        let bytes = normalized.bytes
        let start = try! #require((0...(bytes.count - target.count)).first { Array(bytes[$0..<($0 + target.count)]) == target })
        let range = normalized.sourceRange(ofBytes: start..<(start + target.count))
        let scalars = Array(text.unicodeScalars)
        let excerpt = String(String.UnicodeScalarView(scalars[range]))
        #expect(excerpt == "ｺ ﾛ ｽぞ")
    }

    @Test func compatibilityCharactersThatLengthenTheTextFoldWhole() {
        // ㍻ (3 bytes) folds to 平成 (6 bytes): more than the room first set aside.
        let text = String(repeating: "㍻", count: 40)
        let normalized = NormalizedText(text)
        #expect(String(decoding: normalized.bytes, as: UTF8.self) == String(repeating: "平成", count: 40))
        #expect(normalized.sourceRange(ofBytes: (normalized.count - 6)..<normalized.count) == 39..<40)
    }

    @Test func refoldingAShorterTextKeepsNothingOfTheLongerOne() {
        var normalized = NormalizedText("I will find out where you live, believe me")
        normalized.refold("ｺﾛｽ")
        #expect(String(decoding: normalized.bytes, as: UTF8.self) == "ころす")
        #expect(!normalized.sourceIsASCII)
        #expect(normalized.excerpt(of: "ｺﾛｽ", scalars: normalized.sourceRange(ofBytes: 0..<normalized.count)) == "ｺﾛｽ")
        normalized.refold("Where YOU live")
        #expect(normalized.sourceIsASCII)
        #expect(normalized.excerpt(of: "Where YOU live", scalars: normalized.sourceRange(ofBytes: 6..<9)) == "YOU")
    }

    /// Texts that fold longer than the room first set aside for them, in every mix of the paths:
    /// folded in the tightest buffer and in a roomy one, they must come out the same, byte for
    /// byte and offset for offset (a fold that wrote past the tight buffer leaves a count beyond
    /// it, and reading its bytes traps).
    @Test func tightAndRoomyBuffersFoldAlike() {
        // ㍿ folds to 株式会社 (3 bytes to 12): two or more of them pass the room set aside.
        let pieces = [
            "㍿", "㍿", "㍿", "㎉", "①", "、", "、", "。", "・", " ", "x", "x", "ab", "ll", "'", "ｺ", "ﾞ", "こ", "コ", "っ", "日",
            "々", "ー", "…", "Ａ", "!",
        ]
        for text in Self.seededMixes(of: pieces, count: 20000, mostPieces: 24, seed: 0x9E37_79B9_7F4A_7C15) {
            let tight = NormalizedText(text)
            var roomy = NormalizedText(reservingCapacity: 1000)
            roomy.refold(text)
            #expect(tight.bytes == roomy.bytes, "\(text)")
            #expect(Self.byteSpans(tight) == Self.byteSpans(roomy))
        }
    }

    /// ASCII folding checked against a model of its rules written plainly, one scalar at a time:
    /// letters and digits lower-cased, a run of separators one space between two words (standing
    /// for the first of them) and nothing at either end, apostrophes and ~ dropped, a doubled
    /// letter kept and a run of three or more one letter standing for the whole run. Random
    /// English-like texts, so that the folder's eight-bytes-at-a-time path (plain words and single
    /// spaces) meets every way out of it: doubled and tripled letters at and across its edges,
    /// capitals, punctuation, double spaces, apostrophes.
    @Test func asciiFoldsAsItsRulesSay() {
        let pieces = [
            "the", "customer", "Called", "AGAIN", "I'm", "bill", "lll", "Aaa", "oo", "address", "1000", "9", "x", "L", "l",
            " ", " ", " ", " ", "  ", ", ", ". ", "!", "-", "~", "'", "\t", "(", ")", "$87.50",
        ]
        for text in Self.seededMixes(of: pieces, count: 20000, mostPieces: 32, seed: 0x2545_F491_4F6C_DD1D) {
            let normalized = NormalizedText(text)
            let model = Self.asciiModel(text)
            #expect(normalized.bytes == model.bytes, "\(text)")
            #expect(Self.byteSpans(normalized) == model.spans, "\(text)")
        }
    }

    private static func asciiModel(_ text: String) -> (bytes: [UInt8], spans: [Range<Int>]) {
        var bytes: [UInt8] = []
        var spans: [Range<Int>] = []
        var run = 0
        var pendingSeparator: Int?
        for (index, byte) in text.utf8.enumerated() {
            let lowered = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            let isWord = (lowered >= 0x61 && lowered <= 0x7A) || (lowered >= 0x30 && lowered <= 0x39)
            guard isWord else {
                if lowered != 0x27 && lowered != 0x7E && pendingSeparator == nil { pendingSeparator = index }
                continue
            }
            if let separator = pendingSeparator {
                pendingSeparator = nil
                if !bytes.isEmpty {
                    bytes.append(0x20)
                    spans.append(separator..<(separator + 1))
                }
            }
            if lowered == bytes.last {
                run += 1
                if run >= 3 {
                    if run == 3 {
                        bytes.removeLast()
                        spans.removeLast()
                    }
                    spans[spans.count - 1] = spans[spans.count - 1].lowerBound..<(index + 1)
                    continue
                }
            } else {
                run = 1
            }
            bytes.append(lowered)
            spans.append(index..<(index + 1))
        }
        return (bytes, spans)
    }

    @Test func droppedElongationMarksMapToNothing() {
        let text = "ぞーー"
        let normalized = NormalizedText(text)
        #expect(normalized.sourceRange(ofBytes: 0..<normalized.bytes.count) == 0..<1)
    }
}
