/// Kana folding for comparing spellings, and what counts as Japanese script.
public enum Kana {
    /// Katakana (ァ–ヶ) as hiragana; everything else as it is. Latin letters lower-cased.
    public static func hiragana(_ text: String) -> String {
        // Most text has nothing to fold: no copy then.
        guard text.unicodeScalars.contains(where: { (0x30A1...0x30F6).contains($0.value) || (0x41...0x5A).contains($0.value) })
        else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { result.append(hiragana(scalar)) }
        return String(result)
    }

    /// One character folded as in a text: katakana as hiragana, Latin capitals lower-cased.
    public static func hiragana(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar.value {
        case 0x30A1...0x30F6: Unicode.Scalar(scalar.value - 0x60)!
        case 0x41...0x5A: Unicode.Scalar(scalar.value + 0x20)!
        default: scalar
        }
    }

    /// Hiragana, katakana (half-width too), 々 and 〆, and the CJK ideographs (with extension A and
    /// the compatibility ones): what makes a text Japanese.
    public static func isKanaOrKanji(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3005, 0x3006, 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0xFF66...0xFF9F: true
        default: false
        }
    }

    /// Whether the text has a scalar for which `isKanaOrKanji` holds, read on the UTF-8 bytes:
    /// every such scalar takes three bytes led by E3–E9 or EF, and English text costs one check
    /// per eight bytes.
    public static func containsKanaOrKanji(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { utf8 in
            var position = 0
            while position < utf8.count {
                // Eight ASCII bytes at a time (no top bit set): none of them is kana or kanji.
                if utf8.count &- position >= 8
                    && UnsafeRawPointer(utf8.baseAddress.unsafelyUnwrapped).loadUnaligned(fromByteOffset: position, as: UInt64.self)
                        & 0x8080_8080_8080_8080 == 0
                {
                    position &+= 8
                    continue
                }
                let lead = utf8[position]
                position &+= 1
                guard (0xE3...0xE9).contains(lead) || lead == 0xEF, position &+ 1 < utf8.count else { continue }
                let value = UInt32(lead & 0x0F) << 12 | UInt32(utf8[position] & 0x3F) << 6 | UInt32(utf8[position &+ 1] & 0x3F)
                if let scalar = Unicode.Scalar(value), isKanaOrKanji(scalar) { return true }
            }
            return false
        }
    }
}
