import CMeCab
import Foundation
import Synchronization

/// Japanese morphological analysis through MeCab with IPADIC (Debian's `libmecab-dev` and
/// `mecab-ipadic-utf8`): tokens with their base form, the base form in hiragana, part of speech
/// and place in the caller's text.
///
/// The dictionary (MeCab's model) is loaded once and shared; it is thread-safe. Each analysis
/// borrows a tagger and lattice from a pool (one per analysis running at once, kept for the next),
/// so calls on many threads never share one.
public final class JapaneseAnalyzer: Sendable {
    /// Debian's IPADIC in UTF-8, named explicitly: `/etc/mecabrc` points at whichever dictionary
    /// package was installed last.
    public static let defaultDictionary = "/var/lib/mecab/dic/ipadic-utf8"

    /// Text is analysed in pieces of at most this many scalars, cut after a sentence end where
    /// there is one, so that a very long utterance costs memory in proportion to a piece.
    static let pieceLength = 2_048

    private let model: ModelHandle
    private let workers: Mutex<[Worker]>
    public let dictionary: String

    /// Loads the dictionary at `dictionary`; the error names the path and MeCab's reason.
    public init(dictionary: String = JapaneseAnalyzer.defaultDictionary) throws(MorphologyError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dictionary, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MorphologyError("the MeCab dictionary folder \(dictionary) does not exist (install mecab-ipadic-utf8)")
        }
        guard FileManager.default.isReadableFile(atPath: dictionary + "/sys.dic") else {
            throw MorphologyError("the MeCab dictionary \(dictionary)/sys.dic cannot be read")
        }
        // `-r /dev/null` keeps MeCab from reading a mecabrc that may name another dictionary; the
        // arguments go as a list, so that a path with spaces stays one argument.
        let words: [String] = ["mecab", "-r", "/dev/null", "-d", dictionary]
        var arguments: [UnsafeMutablePointer<CChar>?] = words.map { word in strdup(word) }
        defer {
            for argument in arguments { free(argument) }
        }
        guard let model = mecab_model_new(Int32(arguments.count), &arguments) else {
            let reason = mecab_strerror(nil).map { String(cString: $0) } ?? "unknown error"
            throw MorphologyError("MeCab could not load the dictionary \(dictionary): \(reason)")
        }
        self.model = ModelHandle(model)
        self.workers = Mutex([])
        self.dictionary = dictionary
        // A dictionary in another encoding or layout loads but reads nothing: 殺す must come back
        // as a verb that is its own base form.
        let probe = analyze("殺す")
        guard probe.count == 1, probe[0].lemma == "殺す", probe[0].partOfSpeech == .verb else {
            throw MorphologyError("the MeCab dictionary \(dictionary) is not IPADIC in UTF-8 (install mecab-ipadic-utf8)")
        }
    }

    /// The tokens of `text`, each with its range in `text`'s Unicode scalars.
    public func analyze(_ text: String) -> [Token] {
        analyze(AnalysisText(text), range: nil)
    }

    func analyze(_ text: AnalysisText, range: Range<Int>?) -> [Token] {
        let whole = range ?? 0..<text.scalars.count
        guard !whole.isEmpty else { return [] }
        let worker = workers.withLock { $0.popLast() } ?? Worker(model: model.pointer)
        defer { workers.withLock { $0.append(worker) } }
        var tokens: [Token] = []
        var start = whole.lowerBound
        while start < whole.upperBound {
            let end = Self.pieceEnd(in: text.scalars, from: start, limit: whole.upperBound)
            worker.analyze(text, start..<end, into: &tokens)
            start = end
        }
        return tokens
    }

    /// How many words MeCab finds in `text`, without building tokens: MeCab's own cost, the
    /// reference the engine's speed is measured against.
    public func wordCount(_ text: String) -> Int {
        let worker = workers.withLock { $0.popLast() } ?? Worker(model: model.pointer)
        defer { workers.withLock { $0.append(worker) } }
        var text = text
        return text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { bytes in
                guard let base = bytes.baseAddress else { return 0 }
                mecab_lattice_set_sentence2(worker.lattice, base, bytes.count)
                defer { mecab_lattice_clear(worker.lattice) }
                guard mecab_parse_lattice(worker.tagger, worker.lattice) != 0 else { return 0 }
                var count = 0
                var node = mecab_lattice_get_bos_node(worker.lattice)
                while let current = node {
                    let stat = Int32(current.pointee.stat)
                    if stat == MECAB_NOR_NODE || stat == MECAB_UNK_NODE { count += 1 }
                    node = current.pointee.next
                }
                return count
            }
        }
    }

    /// Where the piece that starts at `start` ends: after the last sentence end within
    /// `pieceLength` scalars, else at that length.
    static func pieceEnd(in scalars: [Unicode.Scalar], from start: Int, limit: Int) -> Int {
        let hardEnd = min(limit, start + pieceLength)
        guard hardEnd < limit else { return hardEnd }
        var position = hardEnd
        while position > start + pieceLength / 2 {
            switch scalars[position - 1] {
            case "。", "！", "？", "!", "?", "\n", "、": return position
            default: position -= 1
            }
        }
        return hardEnd
    }

    deinit {
        workers.withLock { $0.removeAll() }
    }
}

/// The loaded model, destroyed with the analyzer.
private final class ModelHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { mecab_model_destroy(pointer) }
}

/// A tagger and its lattice: used by one analysis at a time (the pool hands it out).
private final class Worker: @unchecked Sendable {
    let tagger: OpaquePointer
    let lattice: OpaquePointer
    /// Dictionary words already read, by their feature text's address in the loaded dictionary
    /// (one entry per word form, so its surface, lemma and reading never change): most tokens of
    /// an utterance are words seen before, and reading the CSV again costs more than MeCab's parse.
    private var known: [UnsafePointer<CChar>: Token] = [:]
    private static let knownLimit = 20_000

    init(model: OpaquePointer) {
        tagger = mecab_model_new_tagger(model)
        lattice = mecab_model_new_lattice(model)
    }

    deinit {
        mecab_lattice_destroy(lattice)
        mecab_destroy(tagger)
    }

    func analyze(_ text: AnalysisText, _ range: Range<Int>, into tokens: inout [Token]) {
        // The piece as UTF-8, with the prepared scalar each byte starts.
        var bytes: [CChar] = []
        var scalarAt: [Int32] = []
        bytes.reserveCapacity(range.count * 3 + 1)
        scalarAt.reserveCapacity(range.count * 3 + 1)
        for index in range {
            for unit in UTF8.encode(text.scalars[index])! {
                bytes.append(CChar(bitPattern: unit))
                scalarAt.append(Int32(index))
            }
        }
        scalarAt.append(Int32(range.upperBound))
        let count = bytes.count
        bytes.append(0)
        bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            mecab_lattice_set_sentence2(lattice, base, count)
            defer { mecab_lattice_clear(lattice) }
            guard mecab_parse_lattice(tagger, lattice) != 0 else { return }
            var node = mecab_lattice_get_bos_node(lattice)
            while let current = node {
                let stat = Int32(current.pointee.stat)
                if stat == MECAB_NOR_NODE || stat == MECAB_UNK_NODE, current.pointee.length > 0,
                    let surfacePointer = current.pointee.surface
                {
                    let offset = surfacePointer - base
                    let length = Int(current.pointee.length)
                    if offset >= 0 && offset + length <= count {
                        let first = Int(scalarAt[offset])
                        let last = Int(scalarAt[offset + length])
                        let source = text.sourceRange(first..<last)
                        if stat == MECAB_NOR_NODE, let featurePointer = current.pointee.feature, var token = known[featurePointer] {
                            token.source = source
                            tokens.append(token)
                        } else {
                            let feature = current.pointee.feature.map { String(cString: $0) } ?? ""
                            var token = Self.token(feature: feature, surface: text.string(first..<last))
                            token.source = source
                            if stat == MECAB_NOR_NODE, let featurePointer = current.pointee.feature {
                                if known.count >= Self.knownLimit { known.removeAll(keepingCapacity: true) }
                                known[featurePointer] = token
                            }
                            tokens.append(token)
                        }
                    }
                }
                node = current.pointee.next
            }
        }
    }

    /// A token from IPADIC's feature CSV: POS, POS details 1–3, conjugation type and form, base
    /// form, reading, pronunciation (unknown words have the first seven only).
    static func token(feature: String, surface: String) -> Token {
        let fields = feature.split(separator: ",", omittingEmptySubsequences: false)
        let base = fields.count > 6 && fields[6] != "*" ? String(fields[6]) : surface
        let partOfSpeech = PartOfSpeech(ipadic: fields.first ?? "", second: fields.count > 1 ? fields[1] : "")
        let reading = fields.count > 7 && fields[7] != "*" ? Kana.hiragana(String(fields[7])) : Kana.hiragana(surface)
        return Token(
            lemma: base, alternate: Kana.hiragana(base), surface: surface, reading: reading, partOfSpeech: partOfSpeech,
            source: 0..<0)
    }
}
