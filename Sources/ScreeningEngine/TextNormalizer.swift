import Foundation

/// A transcript utterance folded into one matching form, with a map from every byte of that
/// form back to the original text, so that a match found in the folded text is reported at the
/// right place in what the customer said.
///
/// The folding, applied the same way to the policy's terms:
/// - Unicode compatibility forms (NFKC): half-width katakana and full-width Latin become their
///   ordinary forms; ASCII is lower-cased.
/// - Katakana becomes hiragana, so コロス, ｺﾛｽ and ころす are one word.
/// - Spaces, punctuation and symbols inside a word disappear between Japanese characters
///   (こ ろ す, 殺.す) and become a single space between Latin letters or digits.
/// - Apostrophes disappear (I'll, Ill and I’ll are one word).
/// - Elongation marks (ー, 〜, ~) disappear; a run of small っ becomes one, and a run of three
///   or more of the same character becomes one (ころすぞーーー, soooo).
public struct NormalizedText: Sendable {
    /// The folded text as UTF-8.
    public fileprivate(set) var bytes: [UInt8] = []
    /// For each byte, the index (in Unicode scalars) of the first original scalar it came from.
    public fileprivate(set) var sourceStart: [Int32] = []
    /// For each byte, one past the index of the last original scalar it came from.
    public fileprivate(set) var sourceEnd: [Int32] = []

    public init(_ text: String) {
        refold(text)
    }

    /// Folds `text` into this value, reusing its storage.
    public mutating func refold(_ text: String) {
        bytes.removeAll(keepingCapacity: true)
        sourceStart.removeAll(keepingCapacity: true)
        sourceEnd.removeAll(keepingCapacity: true)
        var folder = TextFolder()
        folder.fold(text, into: &self)
    }

    /// The folded form of a policy term, with no offsets.
    public static func fold(term: String) -> [UInt8] {
        NormalizedText(term).bytes
    }

    /// The original scalar range behind the folded bytes `range`.
    public func sourceRange(ofBytes range: Range<Int>) -> Range<Int> {
        Int(sourceStart[range.lowerBound])..<Int(sourceEnd[range.upperBound - 1])
    }

    /// Whether the folded byte at `index` is an ASCII letter or digit (a word character).
    @inline(__always)
    public func isWordByte(at index: Int) -> Bool {
        guard index >= 0, index < bytes.count else { return false }
        let byte = bytes[index]
        return (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
    }

    fileprivate mutating func append(_ scalar: Unicode.Scalar, from start: Int, to end: Int) {
        let value = scalar.value
        if value < 0x80 {
            bytes.append(UInt8(value))
            sourceStart.append(Int32(start))
            sourceEnd.append(Int32(end))
            return
        }
        for unit in UTF8.encode(scalar)! {
            bytes.append(unit)
            sourceStart.append(Int32(start))
            sourceEnd.append(Int32(end))
        }
    }
}

/// The state of one folding pass: what was emitted last, for separators and runs.
private struct TextFolder {
    private enum Kind { case none, word, other }

    private var last: Unicode.Scalar?
    private var lastKind: Kind = .none
    private var runLength = 0
    private var runStartByte = 0
    private var runWidth = 1
    private var pendingSeparator: Int?

    mutating func fold(_ text: String, into output: inout NormalizedText) {
        let capacity = text.utf8.count + 8
        output.bytes.reserveCapacity(capacity)
        output.sourceStart.reserveCapacity(capacity)
        output.sourceEnd.reserveCapacity(capacity)
        var scalars = text.unicodeScalars.makeIterator()
        var lookahead = scalars.next()
        var index = 0
        while let scalar = lookahead {
            lookahead = scalars.next()
            // Half-width katakana with a following (half-width) voiced or semi-voiced mark.
            if let base = Self.halfWidthKatakana(scalar) {
                if let mark = lookahead, let voiced = Self.voiced(base, mark: mark) {
                    emit(Self.hiragana(voiced), from: index, to: index + 2, into: &output)
                    lookahead = scalars.next()
                    index += 2
                } else {
                    emit(Self.hiragana(base), from: index, to: index + 1, into: &output)
                    index += 1
                }
                continue
            }
            if let folded = Self.foldSimple(scalar) {
                emit(folded, from: index, to: index + 1, into: &output)
            } else {
                for folded in Self.foldCompatibility(scalar) {
                    emit(folded, from: index, to: index + 1, into: &output)
                }
            }
            index += 1
        }
    }

    /// Emits one folded scalar that came from the original scalars `start..<end`.
    private mutating func emit(_ scalar: Unicode.Scalar, from start: Int, to end: Int, into output: inout NormalizedText) {
        switch Self.classify(scalar) {
        case .drop:
            return
        case .separator:
            if pendingSeparator == nil { pendingSeparator = start }
            return
        case .character(let isWord):
            if let separatorIndex = pendingSeparator {
                pendingSeparator = nil
                if isWord && lastKind == .word {
                    runStartByte = output.bytes.count
                    output.append(" ", from: separatorIndex, to: separatorIndex + 1)
                    last = " "
                    runLength = 1
                    runWidth = 1
                }
            }
            if scalar == last {
                runLength += 1
                // A run of small っ becomes one; a run of three or more of anything else becomes one.
                if scalar == "っ" || runLength > 3 {
                    output.extendLast(to: end)
                    return
                }
                if runLength == 3 {
                    output.truncate(toByteCount: runStartByte + runWidth, extendingLastTo: end)
                    return
                }
            } else {
                last = scalar
                runLength = 1
                runStartByte = output.bytes.count
                runWidth = UTF8.width(scalar)
            }
            output.append(scalar, from: start, to: end)
            lastKind = isWord ? .word : .other
        }
    }

    private enum Class { case drop, separator, character(isWord: Bool) }

    private static func classify(_ scalar: Unicode.Scalar) -> Class {
        let value = scalar.value
        if value < 0x80 {
            switch value {
            case 0x61...0x7A, 0x30...0x39: return .character(isWord: true)
            case 0x27, 0x7E: return .drop  // apostrophes (I'll = Ill = ill), ~ as elongation
            default: return .separator
            }
        }
        switch value {
        case 0x30FC, 0x301C, 0x2015, 0x2014: return .drop  // ー 〜 ― —: elongation and dashes
        case 0x3005: return .character(isWord: false)  // 々
        case 0x3000...0x303F, 0x30FB, 0xFF61...0xFF65: return .separator  // CJK and half-width punctuation
        case 0x3041...0x309F, 0x4E00...0x9FFF, 0x3400...0x4DBF, 0xF900...0xFAFF:
            return .character(isWord: false)
        default:
            break
        }
        let properties = scalar.properties
        if properties.isWhitespace || properties.generalCategory.isPunctuationOrSymbol {
            return .separator
        }
        if properties.generalCategory == .nonspacingMark || properties.generalCategory == .enclosingMark {
            return .drop
        }
        return .character(isWord: properties.isAlphabetic && value < 0x250)
    }

    /// NFKC and case folding for the common scalars (ASCII, full-width forms, kana, kanji), which
    /// fold to exactly one scalar; nil for the rest.
    @inline(__always)
    private static func foldSimple(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        let value = scalar.value
        if value < 0x80 {
            return value >= 0x41 && value <= 0x5A ? Unicode.Scalar(value + 0x20)! : scalar
        }
        if value >= 0xFF01 && value <= 0xFF5E {  // full-width ASCII
            return foldSimple(Unicode.Scalar(value - 0xFEE0)!)
        }
        switch value {
        case 0x2019, 0x2018: return "'"  // typographic apostrophes
        case 0x3000: return " "
        case 0x30A1...0x30F6: return Unicode.Scalar(value - 0x60)!  // katakana → hiragana
        case 0x3001...0x30A0, 0x30F7...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF: return scalar
        default: return nil
        }
    }

    /// The rare path: other compatibility characters (①, ㈱, ligatures, accented Latin).
    private static func foldCompatibility(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        let folded = String(scalar).precomposedStringWithCompatibilityMapping.lowercased()
        return folded.unicodeScalars.map { hiragana($0) }
    }

    private static func hiragana(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        let value = scalar.value
        if value >= 0x30A1 && value <= 0x30F6 { return Unicode.Scalar(value - 0x60)! }
        return scalar
    }

    /// Half-width katakana U+FF66...U+FF9D in full-width form.
    private static func halfWidthKatakana(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        let value = scalar.value
        guard value >= 0xFF66 && value <= 0xFF9D else { return nil }
        return Unicode.Scalar(halfWidthTable[Int(value - 0xFF66)])
    }

    private static let halfWidthTable: [UInt32] = [
        0x30F2, 0x30A1, 0x30A3, 0x30A5, 0x30A7, 0x30A9, 0x30E3, 0x30E5, 0x30E7, 0x30C3,  // ｦｧｨｩｪｫｬｭｮｯ
        0x30FC, 0x30A2, 0x30A4, 0x30A6, 0x30A8, 0x30AA, 0x30AB, 0x30AD, 0x30AF, 0x30B1,  // ｰｱｲｳｴｵｶｷｸｹ
        0x30B3, 0x30B5, 0x30B7, 0x30B9, 0x30BB, 0x30BD, 0x30BF, 0x30C1, 0x30C4, 0x30C6,  // ｺｻｼｽｾｿﾀﾁﾂﾃ
        0x30C8, 0x30CA, 0x30CB, 0x30CC, 0x30CD, 0x30CE, 0x30CF, 0x30D2, 0x30D5, 0x30D8,  // ﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍ
        0x30DB, 0x30DE, 0x30DF, 0x30E0, 0x30E1, 0x30E2, 0x30E4, 0x30E6, 0x30E8, 0x30E9,  // ﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗ
        0x30EA, 0x30EB, 0x30EC, 0x30ED, 0x30EF, 0x30F3,  // ﾘﾙﾚﾛﾜﾝ
    ]

    /// The voiced (ﾞ) or semi-voiced (ﾟ) form of a full-width katakana, if it has one.
    private static func voiced(_ base: Unicode.Scalar, mark: Unicode.Scalar) -> Unicode.Scalar? {
        let value = base.value
        switch mark.value {
        case 0xFF9E, 0x3099, 0x309B:
            if value == 0x30A6 { return "\u{30F4}" }  // ヴ
            let voiceable = (0x30AB...0x30C2).contains(value) || (0x30C4...0x30C9).contains(value)
                || (0x30CF...0x30DD).contains(value)
            return voiceable ? Unicode.Scalar(value + 1) : nil
        case 0xFF9F, 0x309A, 0x309C:
            return (0x30CF...0x30DD).contains(value) && (value - 0x30CF) % 3 == 0 ? Unicode.Scalar(value + 2) : nil
        default:
            return nil
        }
    }
}

extension NormalizedText {
    fileprivate mutating func extendLast(to end: Int) {
        guard !sourceEnd.isEmpty else { return }
        let lastStart = sourceStart[sourceStart.count - 1]
        var index = sourceEnd.count - 1
        while index >= 0 && sourceStart[index] == lastStart {
            sourceEnd[index] = Int32(end)
            index -= 1
        }
    }

    fileprivate mutating func truncate(toByteCount count: Int, extendingLastTo end: Int) {
        bytes.removeLast(bytes.count - count)
        sourceStart.removeLast(sourceStart.count - count)
        sourceEnd.removeLast(sourceEnd.count - count)
        extendLast(to: end)
    }
}

extension Unicode.GeneralCategory {
    fileprivate var isPunctuationOrSymbol: Bool {
        switch self {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol,
            .control, .format:
            true
        default:
            false
        }
    }
}
