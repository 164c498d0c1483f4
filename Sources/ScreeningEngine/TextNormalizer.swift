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
    /// The folded bytes are the first `count` of `storage`; both buffers only grow, so that
    /// refolding utterance after utterance allocates nothing once they are large enough.
    private var storage: [UInt8] = []
    /// For each folded byte, the original scalars it came from.
    private var sources: [SourceSpan] = []
    /// How many folded bytes there are.
    public private(set) var count = 0
    /// Whether the original text is all ASCII, so that its scalar indices are its UTF-8 offsets.
    public private(set) var sourceIsASCII = true

    public init(_ text: String) {
        refold(text)
    }

    /// An empty text with room to fold texts of up to `utf8Count` bytes without growing.
    public init(reservingCapacity utf8Count: Int) {
        storage = [UInt8](repeating: 0, count: utf8Count + 16)
        sources = [SourceSpan](repeating: SourceSpan(start: 0, end: 0), count: utf8Count + 16)
    }

    /// The folded text as UTF-8 (a copy).
    public var bytes: [UInt8] { Array(storage[..<count]) }

    /// Calls `body` with the folded text as UTF-8, without copying it.
    public func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[..<count])) }
    }

    /// Folds `text` into this value, reusing its storage.
    public mutating func refold(_ text: String) {
        var text = text
        // Folding never lengthens ASCII, kana or kanji; only rare compatibility characters
        // (㍻ → 平成) can, and then the fold starts again with more room.
        var room = text.utf8.count + 16
        while true {
            if storage.count < room {
                storage = [UInt8](repeating: 0, count: room)
                sources = [SourceSpan](repeating: SourceSpan(start: 0, end: 0), count: room)
            }
            let folded: (count: Int, scalars: Int)? = text.withUTF8 { utf8 in
                storage.withUnsafeMutableBufferPointer { bytes in
                    sources.withUnsafeMutableBufferPointer { sources in
                        var folder = TextFolder(bytes: bytes, sources: sources)
                        let scalars = folder.fold(utf8)
                        return folder.overflowed ? nil : (folder.count, scalars)
                    }
                }
            }
            if let folded {
                count = folded.count
                sourceIsASCII = folded.scalars == text.utf8.count
                return
            }
            room *= 4
        }
    }

    /// The folded form of a policy term, with no offsets.
    public static func fold(term: String) -> [UInt8] {
        NormalizedText(term).bytes
    }

    /// The original scalar range behind the folded bytes `range`.
    public func sourceRange(ofBytes range: Range<Int>) -> Range<Int> {
        Int(sources[range.lowerBound].start)..<Int(sources[range.upperBound - 1].end)
    }

    /// The original text's scalars `range`, as a string.
    public func excerpt(of text: String, scalars range: Range<Int>) -> String {
        if sourceIsASCII {
            let utf8 = text.utf8
            let start = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
            return String(text[start..<utf8.index(start, offsetBy: range.count)])
        }
        let scalars = text.unicodeScalars
        let start = scalars.index(scalars.startIndex, offsetBy: range.lowerBound)
        return String(scalars[start..<scalars.index(start, offsetBy: range.count)])
    }

    /// Whether the folded byte at `index` is an ASCII letter or digit (a word character).
    @inline(__always)
    public func isWordByte(at index: Int) -> Bool {
        guard index >= 0, index < count else { return false }
        return storage[index].isFoldedWordByte
    }
}

extension UInt8 {
    /// An ASCII letter lower-cased (other bytes as they are): how folding writes ASCII.
    @inline(__always)
    var foldedASCII: UInt8 { self &- 0x41 < 26 ? self | 0x20 : self }

    /// Whether this folded byte is a lower-case ASCII letter or a digit: a word character, the
    /// kind that separators turn into one space between and that Latin terms match whole.
    @inline(__always)
    var isFoldedWordByte: Bool { self &- 0x61 < 26 || self &- 0x30 < 10 }
}

/// The half-open range of original scalars that one folded byte came from.
private struct SourceSpan {
    var start: Int32
    var end: Int32
}

/// One folding pass, writing into preallocated buffers: what was emitted last, for separators
/// and runs.
private struct TextFolder {
    private enum Kind { case none, word, other }

    private let bytes: UnsafeMutableBufferPointer<UInt8>
    private let sources: UnsafeMutableBufferPointer<SourceSpan>
    /// Bytes written so far.
    private(set) var count = 0
    /// Set when the output did not fit; what was written is then incomplete.
    private(set) var overflowed = false
    /// The last folded scalar's value; `noScalar` before the first.
    private var last = noScalar
    private static let noScalar = UInt32.max
    private var lastKind: Kind = .none
    private var runLength = 0
    private var runStartByte = 0
    private var runWidth = 1
    private var pendingSeparator: Int?

    init(bytes: UnsafeMutableBufferPointer<UInt8>, sources: UnsafeMutableBufferPointer<SourceSpan>) {
        self.bytes = bytes
        self.sources = sources
    }

    /// Folds valid UTF-8 (a Swift string's) and returns how many scalars it has.
    ///
    /// ASCII and ordinary Japanese (kana, kanji, CJK punctuation, ー 〜) take the two register
    /// loops below, which do what `emit` would do with them; everything else, and every repeat,
    /// goes through `emit`.
    mutating func fold(_ utf8: UnsafeBufferPointer<UInt8>) -> Int {
        var position = 0
        var index = 0
        while position < utf8.count {
            let byte = utf8[position]
            if byte < 0x80 {
                if foldASCIIRun(utf8, at: &position, index: &index) { continue }
                // A repeat of the last letter (or the buffer nearly full): the general path.
                emit(Unicode.Scalar(byte.foldedASCII), from: index, to: index + 1)
                position += 1
                index += 1
                continue
            }
            if byte >= 0xE3 && byte <= 0xE9, foldJapaneseRun(utf8, at: &position, index: &index) { continue }
            let scalar = Self.decode(utf8, at: &position)
            if let folded = Self.foldSimple(scalar) {
                emit(folded, from: index, to: index + 1)
                index += 1
            } else {
                foldRare(scalar, utf8, at: &position, index: &index)
            }
        }
        return index
    }

    /// The ASCII that starts at `position`, folded in one loop that keeps its state in registers
    /// and does what `emit` would do with each byte: letters lower-cased, a run of separators
    /// one space between two words (nothing after a Japanese character), apostrophes and ~
    /// dropped, a doubled letter kept. It stops before anything else, before the third of a letter
    /// in a row (folding runs is `emit`'s), and when the buffer is nearly full; false when it
    /// took no byte at all. Plain words and single spaces go eight bytes at a time.
    @inline(__always)
    private mutating func foldASCIIRun(_ utf8: UnsafeBufferPointer<UInt8>, at position: inout Int, index: inout Int) -> Bool {
        let output = bytes.baseAddress.unsafelyUnwrapped
        let spans = sources.baseAddress.unsafelyUnwrapped
        // It writes at most one byte per byte it takes, but for the space of a separator pending
        // from before it started (one byte more, once): taking no more bytes than there is room
        // for, less that one, keeps it inside the buffer.
        let end = min(utf8.count, position &+ (bytes.count &- count &- 1))
        // In ASCII a byte is a scalar: the scalar index is the byte position plus a constant.
        let scalarOffset = index &- position
        var written = count
        var previous = last
        // The length of the run of `previous` that ends the output; only read when a letter
        // repeats it, which makes it an ASCII letter's run.
        var run = runLength
        var afterWord = lastKind == .word
        var separator = pendingSeparator ?? -1
        var at = position
        let text = UnsafeRawPointer(utf8.baseAddress.unsafelyUnwrapped)
        Self.asciiClasses.withUnsafeBufferPointer { classes in
            while at < end {
                // Eight bytes at a time where folding is lower-casing and nothing more.
                if separator < 0 && end &- at >= 8 {
                    let eight = UInt64(littleEndian: text.loadUnaligned(fromByteOffset: at, as: UInt64.self))
                    let plain = Self.plainPrefix(of: eight, after: previous, afterWord: afterWord)
                    if plain.count > 0 {
                        UnsafeMutableRawPointer(output + written).storeBytes(of: plain.lowered.littleEndian, as: UInt64.self)
                        let scalar = Int32(truncatingIfNeeded: at &+ scalarOffset)
                        for offset in 0..<Int32(8) {
                            spans[written &+ Int(offset)] = SourceSpan(start: scalar &+ offset, end: scalar &+ offset &+ 1)
                        }
                        written &+= plain.count
                        at &+= plain.count
                        previous = UInt32(truncatingIfNeeded: plain.lowered >> (8 &* UInt64(plain.count &- 1))) & 0xFF
                        run = plain.endsDoubled ? 2 : 1
                        afterWord = true
                        continue
                    }
                }
                let folded = classes[Int(utf8[at])]
                if folded >= Self.firstWordByte {
                    if separator >= 0 {
                        // After a separator the last character is never this one.
                        if afterWord {
                            output[written] = 0x20
                            spans[written] = SourceSpan(
                                start: Int32(truncatingIfNeeded: separator), end: Int32(truncatingIfNeeded: separator &+ 1))
                            written &+= 1
                        }
                        separator = -1
                        run = 1
                    } else if UInt32(folded) == previous {
                        // A doubled letter stays (ll, ee); a third is a run for `emit` to fold.
                        guard run == 1 else { break }
                        run = 2
                    } else {
                        run = 1
                    }
                    let scalar = Int32(truncatingIfNeeded: at &+ scalarOffset)
                    output[written] = folded
                    spans[written] = SourceSpan(start: scalar, end: scalar &+ 1)
                    written &+= 1
                    previous = UInt32(folded)
                    afterWord = true
                } else if folded == Self.separatorClass {
                    if separator < 0 { separator = at &+ scalarOffset }
                } else if folded == Self.notASCII {
                    break
                }  // else dropped (apostrophes and ~)
                at &+= 1
            }
        }
        guard at != position else { return false }
        endLoop(written: written, last: previous, run: run, width: 1, kind: .word, separator: separator)
        index = at &+ scalarOffset
        position = at
        return true
    }

    /// How many of eight bytes of text (the first in the lowest byte), from the first, fold to
    /// themselves lower-cased, each with its own source span: letters and digits, and single
    /// spaces between them (a space between two words folds to one space, its own); the first a
    /// letter or digit that does not repeat `previous`, or a space after a word; the last a letter
    /// or digit; no letter the third in a row. With the eight lower-cased, and whether the last
    /// letter is doubled.
    /// Bit-parallel: in each byte's top bit, whether the byte is at least c is the top bit of the
    /// byte's low seven bits plus 0x80 - c, which cannot carry into the next byte.
    @inline(__always)
    private static func plainPrefix(of eight: UInt64, after previous: UInt32, afterWord: Bool) -> (
        count: Int, lowered: UInt64, endsDoubled: Bool
    ) {
        let tops: UInt64 = 0x8080_8080_8080_8080
        let lowSevens: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let sevenBits = eight & lowSevens
        let ascii = ~eight & tops
        @inline(__always) func atLeast(_ byte: UInt64) -> UInt64 { (sevenBits &+ 0x0101_0101_0101_0101 &* (0x80 &- byte)) & tops }
        let upper = atLeast(0x41) & ~atLeast(0x5B) & ascii
        let wordBytes = (atLeast(0x30) & ~atLeast(0x3A) | upper | atLeast(0x61) & ~atLeast(0x7B)) & ascii
        let spaces = atLeast(0x20) & ~atLeast(0x21) & ascii
        let lowered = eight | upper >> 2
        guard wordBytes & 0x80 != 0 && UInt32(truncatingIfNeeded: lowered) & 0xFF != previous || afterWord && spaces & 0x80 != 0
        else { return (0, 0, false) }
        // Whether each byte (but the first) equals the one before it.
        let difference = lowered ^ lowered << 8
        let repeats = ~((difference & lowSevens &+ lowSevens) | difference | lowSevens) & ~0x80
        let stops = tops & ~(wordBytes | spaces) | spaces & spaces << 8 | repeats & repeats << 8
        var count = stops == 0 ? 8 : stops.trailingZeroBitCount >> 3
        if spaces >> (8 &* UInt64(count &- 1)) & 0x80 != 0 { count &-= 1 }
        guard count > 0 else { return (0, 0, false) }
        let endsDoubled = repeats >> (8 &* UInt64(count &- 1)) & 0x80 != 0
        return (count, lowered, endsDoubled)
    }

    /// What a register loop leaves for `emit`: when it wrote characters, the last one (`width`
    /// bytes, of `kind`) and the length of its run, which ends the output (the loops stop before
    /// a run grows past what they fold alike); and the separator pending at its end (-1 for none).
    @inline(__always)
    private mutating func endLoop(written: Int, last previous: UInt32, run: Int, width: Int, kind: Kind, separator: Int) {
        if written != count {
            last = previous
            runLength = run
            runStartByte = written &- run &* width
            runWidth = width
            lastKind = kind
            count = written
        }
        pendingSeparator = separator >= 0 ? separator : nil
    }

    /// For each byte, what `foldASCIIRun` does with it: a letter (lower-cased) or digit is
    /// written as this value; the other classes are below `firstWordByte`.
    private static let asciiClasses: [UInt8] = (0..<256).map { value in
        let byte = UInt8(value)
        guard byte < 0x80 else { return notASCII }
        let lowered = byte.foldedASCII
        if lowered.isFoldedWordByte { return lowered }
        return lowered == 0x27 || lowered == 0x7E ? droppedClass : separatorClass
    }
    private static let separatorClass: UInt8 = 0
    private static let droppedClass: UInt8 = 1
    private static let notASCII: UInt8 = 2
    private static let firstWordByte: UInt8 = 0x30

    /// The Japanese that starts at `position` (three-byte characters), folded in one loop that
    /// keeps its state in registers and does what `emit` would do with each character: hiragana
    /// and common kanji as they are, katakana as hiragana, CJK punctuation a separator (which
    /// disappears between Japanese characters), ー and 〜 dropped. It stops before anything else,
    /// before a character that repeats the last one (runs are `emit`'s), and before taking more
    /// input than there is room left for output; false when it took no character at all.
    @inline(__always)
    private mutating func foldJapaneseRun(_ utf8: UnsafeBufferPointer<UInt8>, at position: inout Int, index: inout Int) -> Bool {
        let output = bytes.baseAddress.unsafelyUnwrapped
        let spans = sources.baseAddress.unsafelyUnwrapped
        // Three bytes out for three in at most, and no space for a pending separator (none goes
        // before a Japanese character): taking no more bytes than there is room for keeps it
        // inside the buffer, with no byte spare as the ASCII loop needs.
        let end = min(utf8.count, position &+ (bytes.count &- count))
        var written = count
        // The last character as its UTF-8 bytes packed into one integer (the first the highest):
        // UTF-8 keeps the code points' order, so hiragana and kanji are ranges of these too, and
        // the loop compares and copies them without decoding and encoding them again.
        var previous = Self.packedUTF8(last)
        var separator = pendingSeparator ?? -1
        var scalarIndex = index
        var at = position
        while at &+ 3 <= end {
            let lead = utf8[at]
            guard lead >= 0xE3 && lead <= 0xE9 else { break }
            var packed = UInt32(lead) << 16 | UInt32(utf8[at &+ 1]) << 8 | UInt32(utf8[at &+ 2])
            // U+3041–309F, U+4E00–9FFF
            var character = packed &- 0xE38181 <= 0xE3829F &- 0xE38181 || packed &- 0xE4B880 <= 0xE9BFBF &- 0xE4B880
            if !character && packed &- 0xE382A1 <= 0xE383B6 &- 0xE382A1 {  // katakana U+30A1–30F6 → hiragana
                packed = Self.packedUTF8(Self.scalarValue(packed) &- 0x60)
                character = true
            }
            if character {
                guard packed != previous else { break }
                let span = SourceSpan(start: Int32(truncatingIfNeeded: scalarIndex), end: Int32(truncatingIfNeeded: scalarIndex &+ 1))
                output[written] = UInt8(truncatingIfNeeded: packed >> 16)
                output[written &+ 1] = UInt8(truncatingIfNeeded: packed >> 8)
                output[written &+ 2] = UInt8(truncatingIfNeeded: packed)
                spans[written] = span
                spans[written &+ 1] = span
                spans[written &+ 2] = span
                written &+= 3
                previous = packed
                separator = -1
            } else if packed == 0xE383BC || packed == 0xE3809C {
                // ー 〜: elongation, dropped.
            } else if packed &- 0xE38080 <= 0xE380BF &- 0xE38080 && !Self.isCJKLetter(Self.scalarValue(packed)) || packed == 0xE383BB {
                // CJK punctuation (U+3000–303F) and ・ separate (々 〆 〇 〻 are characters: `emit`'s).
                if separator < 0 { separator = scalarIndex }
            } else {
                break
            }
            at &+= 3
            scalarIndex &+= 1
        }
        guard at != position else { return false }
        endLoop(written: written, last: Self.scalarValue(previous), run: 1, width: 3, kind: .other, separator: separator)
        index = scalarIndex
        position = at
        return true
    }

    /// A scalar of three UTF-8 bytes (U+0800–FFFF) as its bytes packed into one integer, the
    /// first the highest; any other value as one that no three bytes pack to.
    @inline(__always)
    private static func packedUTF8(_ value: UInt32) -> UInt32 {
        guard value &- 0x800 <= 0xFFFF &- 0x800 else { return UInt32.max }
        return (0xE0 | value >> 12) << 16 | (0x80 | (value >> 6) & 0x3F) << 8 | (0x80 | value & 0x3F)
    }

    /// The scalar value of three UTF-8 bytes packed by `packedUTF8`; `noScalar` for its "none".
    @inline(__always)
    private static func scalarValue(_ packed: UInt32) -> UInt32 {
        guard packed != UInt32.max else { return noScalar }
        return (packed >> 16 & 0x0F) << 12 | (packed >> 8 & 0x3F) << 6 | packed & 0x3F
    }

    /// Half-width katakana (with a following voiced or semi-voiced mark, which it absorbs) and
    /// the other compatibility characters; kept out of the loop so that it stays tight.
    @inline(never)
    private mutating func foldRare(_ scalar: Unicode.Scalar, _ utf8: UnsafeBufferPointer<UInt8>, at position: inout Int, index: inout Int) {
        if let base = Self.halfWidthKatakana(scalar) {
            var next = position
            if next < utf8.count, let voiced = Self.voiced(base, mark: Self.decode(utf8, at: &next)) {
                emit(Self.hiragana(voiced), from: index, to: index + 2)
                position = next
                index += 2
            } else {
                emit(Self.hiragana(base), from: index, to: index + 1)
                index += 1
            }
            return
        }
        for folded in Self.foldCompatibility(scalar) {
            emit(folded, from: index, to: index + 1)
        }
        index += 1
    }

    /// The scalar whose UTF-8 starts at `position`, moving `position` past it.
    @inline(__always)
    private static func decode(_ utf8: UnsafeBufferPointer<UInt8>, at position: inout Int) -> Unicode.Scalar {
        let lead = UInt32(utf8[position])
        if lead < 0x80 {
            position += 1
            return Unicode.Scalar(UInt8(lead))
        }
        @inline(__always) func continuation(_ offset: Int) -> UInt32 { UInt32(utf8[position + offset]) & 0x3F }
        let value: UInt32
        if lead < 0xE0 {
            value = (lead & 0x1F) << 6 | continuation(1)
            position += 2
        } else if lead < 0xF0 {
            value = (lead & 0x0F) << 12 | continuation(1) << 6 | continuation(2)
            position += 3
        } else {
            value = (lead & 0x07) << 18 | continuation(1) << 12 | continuation(2) << 6 | continuation(3)
            position += 4
        }
        return Unicode.Scalar(value).unsafelyUnwrapped
    }

    /// Emits one folded scalar that came from the original scalars `start..<end`.
    @inline(__always)
    private mutating func emit(_ scalar: Unicode.Scalar, from start: Int, to end: Int) {
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
                    runStartByte = count
                    append(" ", from: separatorIndex, to: separatorIndex + 1)
                    last = 0x20
                    runLength = 1
                    runWidth = 1
                }
            }
            if scalar.value == last {
                runLength += 1
                // A run of small っ becomes one; a run of three or more of anything else becomes one.
                if scalar == "っ" || runLength > 3 {
                    extendLast(to: end)
                    return
                }
                if runLength == 3 {
                    count = min(count, runStartByte + runWidth)
                    extendLast(to: end)
                    return
                }
            } else {
                last = scalar.value
                runLength = 1
                runStartByte = count
                runWidth = UTF8.width(scalar)
            }
            append(scalar, from: start, to: end)
            lastKind = isWord ? .word : .other
        }
    }

    @inline(__always)
    private mutating func append(_ scalar: Unicode.Scalar, from start: Int, to end: Int) {
        let span = SourceSpan(start: Int32(start), end: Int32(end))
        let value = scalar.value
        if value < 0x80 {
            guard count < bytes.count else {
                overflowed = true
                return
            }
            bytes[count] = UInt8(value)
            sources[count] = span
            count += 1
            return
        }
        let encoded = UTF8.encode(scalar).unsafelyUnwrapped
        guard count + encoded.count <= bytes.count else {
            overflowed = true
            return
        }
        for unit in encoded {
            bytes[count] = unit
            sources[count] = span
            count += 1
        }
    }

    /// Widens the source span of the last emitted scalar (all its bytes) to end at `end`.
    private func extendLast(to end: Int) {
        guard count > 0 else { return }
        let lastStart = sources[count - 1].start
        var index = count - 1
        while index >= 0 && sources[index].start == lastStart {
            sources[index].end = Int32(end)
            index -= 1
        }
    }

    private enum Class {
        case drop, separator
        case character(isWord: Bool)
    }

    /// The letters of the CJK symbols block, which write words, not punctuation: 々 (repeat), 〆,
    /// 〇 (zero, as in 二〇二〇年) and 〻.
    @inline(__always)
    private static func isCJKLetter(_ value: UInt32) -> Bool {
        value &- 0x3005 <= 2 || value == 0x303B
    }

    @inline(__always)
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
        case _ where isCJKLetter(value): return .character(isWord: false)
        case 0x3000...0x303F, 0x30FB, 0xFF61...0xFF65: return .separator  // CJK and half-width punctuation
        case 0x3041...0x309F, 0x4E00...0x9FFF, 0x3400...0x4DBF, 0xF900...0xFAFF:
            return .character(isWord: false)
        default:
            return classifyByProperties(scalar)
        }
    }

    /// The rare path of `classify`: scalars outside ASCII, kana and the common kanji blocks.
    private static func classifyByProperties(_ scalar: Unicode.Scalar) -> Class {
        let value = scalar.value
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
        var value = scalar.value
        if value >= 0xFF01 && value <= 0xFF5E {  // full-width ASCII
            value -= 0xFEE0
        }
        if value < 0x80 {
            return Unicode.Scalar(UInt8(value >= 0x41 && value <= 0x5A ? value + 0x20 : value))
        }
        switch value {
        case 0x2019, 0x2018: return "'"  // typographic apostrophes
        case 0x2026: return "."  // … is "..." in NFKC: separators, which one stands for
        case 0x2014, 0x2015: return scalar  // — ―: dashes, dropped
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
            let voiceable =
                (0x30AB...0x30C2).contains(value) || (0x30C4...0x30C9).contains(value)
                || (0x30CF...0x30DD).contains(value)
            return voiceable ? Unicode.Scalar(value + 1) : nil
        case 0xFF9F, 0x309A, 0x309C:
            return (0x30CF...0x30DD).contains(value) && (value - 0x30CF) % 3 == 0 ? Unicode.Scalar(value + 2) : nil
        default:
            return nil
        }
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
