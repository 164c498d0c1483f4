import Foundation

/// The caller's text prepared for the analyzers, with the original scalar behind every scalar.
///
/// A lighter folding than the phrase matcher's: the analyzers need real words, so katakana stays
/// katakana and case stays for English. It applies NFKC to compatibility forms (half-width
/// katakana with its voicing marks, full-width Latin and digits), keeps an elongation mark only
/// after katakana (ぞーーー → ぞ, バール stays; a run keeps two of it) and drops wave dashes, keeps
/// two of a run of three or more of the same character but a digit (っっっ, ！！！, killll), drops
/// spaces between two Japanese characters (こ ろ す → ころす) and invisible format characters,
/// folds curly apostrophes, and turns a line break into a sentence end (。).
struct AnalysisText {
    /// The prepared scalars.
    private(set) var scalars: [Unicode.Scalar] = []
    /// For each prepared scalar, the index of the original scalar it came from.
    private(set) var origins: [Int] = []

    init(_ text: String) {
        scalars.reserveCapacity(text.unicodeScalars.count)
        origins.reserveCapacity(text.unicodeScalars.count)
        var pendingSpace: (scalar: Unicode.Scalar, origin: Int)?
        for (index, original) in text.unicodeScalars.enumerated() {
            // Invisible marks people put inside words (殺\u{200B}す, ki\u{AD}ll) are dropped.
            if Self.isInvisible(original) { continue }
            for scalar in Self.compatibilityForm(of: original) {
                if Self.isSpace(scalar) {
                    if pendingSpace == nil { pendingSpace = (" ", index) }
                    continue
                }
                if let space = pendingSpace {
                    pendingSpace = nil
                    let between = (scalars.last.map(Kana.isKanaOrKanji) ?? false) && Kana.isKanaOrKanji(scalar)
                    if !between && !scalars.isEmpty { append(space.scalar, origin: space.origin) }
                }
                // Voicing marks join the kana before them (ｺﾞ → ゴ).
                if scalar == "\u{3099}" || scalar == "\u{309A}", let last = scalars.last {
                    let joined = (String(last) + String(scalar)).precomposedStringWithCanonicalMapping.unicodeScalars
                    if joined.count == 1, let composed = joined.first {
                        scalars[scalars.count - 1] = composed
                        continue
                    }
                }
                if scalar == "ー" || scalar == "〜" || scalar == "~" {
                    // Meaningful in katakana words (バール, メール); noise elsewhere.
                    if scalar == "ー", let last = scalars.last, Self.isKatakana(last) { append(scalar, origin: index) }
                    continue
                }
                // A third of the same character in a row is dropped (っっっ, ！！！, killll), not digits.
                if scalars.count >= 2, scalars[scalars.count - 1] == scalar, scalars[scalars.count - 2] == scalar,
                    !(0x30...0x39).contains(scalar.value)
                {
                    continue
                }
                append(scalar, origin: index)
            }
        }
    }

    private mutating func append(_ scalar: Unicode.Scalar, origin: Int) {
        scalars.append(scalar)
        origins.append(origin)
    }

    /// The prepared scalars `range` as a string.
    func string(_ range: Range<Int>) -> String {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[range])
        return String(result)
    }

    /// The original scalars behind the prepared scalars `range`.
    func sourceRange(_ range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else {
            let at = range.lowerBound < origins.count ? origins[range.lowerBound] : (origins.last.map { $0 + 1 } ?? 0)
            return at..<at
        }
        return origins[range.lowerBound]..<(origins[range.upperBound - 1] + 1)
    }

    /// NFKC for the compatibility blocks only (half-width and full-width forms, the ideographic
    /// space), and the canonical form of CJK compatibility ideographs and the other singletons
    /// (the Ohm, Kelvin and Angstrom signs), so that a word spelled with them meets the same word:
    /// the matcher compares keys by their bytes. Everything else as it is, without going through
    /// Foundation.
    private static func compatibilityForm(of scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        switch scalar.value {
        case 0x3000: return [" "]
        // A line break ends a sentence; curly apostrophes are apostrophes (don’t).
        case 0x0A, 0x0D, 0x2028, 0x2029: return ["。"]
        case 0x2018, 0x2019: return ["'"]
        case 0xFF01...0xFF5E: return [Unicode.Scalar(scalar.value - 0xFEE0)!]
        case 0xFF61...0xFFEF:
            return Array(String(scalar).precomposedStringWithCompatibilityMapping.unicodeScalars)
        case 0xF900...0xFAFF, 0x2F800...0x2FA1F, 0x2126, 0x212A, 0x212B:
            return Array(String(scalar).precomposedStringWithCanonicalMapping.unicodeScalars)
        default: return [scalar]
        }
    }

    /// Zero-width and format characters: the soft hyphen, zero-width spaces and joiners, marks of
    /// direction, the word joiner, the byte-order mark, variation selectors.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0xAD, 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x2064, 0xFEFF, 0xFE00...0xFE0F: return true
        default: return false
        }
    }

    /// Whitespace, checked without Unicode's property tables for the common scalars.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20, 0x09...0x0D: return true
        case 0..<0x80, 0x3040...0x9FFF: return false
        default: return scalar.properties.isWhitespace
        }
    }

    static func isKatakana(_ scalar: Unicode.Scalar) -> Bool { (0x30A1...0x30FA).contains(scalar.value) }

    static func isLatinLetter(_ scalar: Unicode.Scalar) -> Bool {
        (0x41...0x5A).contains(scalar.value) || (0x61...0x7A).contains(scalar.value)
    }
}
