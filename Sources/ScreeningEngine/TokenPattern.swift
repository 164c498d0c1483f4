public import DemandScreenAPI
import Foundation

/// A rule over an utterance's tokens (in the spirit of spaCy's rule-based Matcher), as a policy
/// writes it: `tokens` is a sequence of elements separated by spaces.
///
/// - `word` — a token whose base form or kana reading is the word's (殺す meets 殺して, ころして,
///   コロス; kill meets killing, k1lled). A word that the analyzer splits (ぶっ殺す, "blow up")
///   must match as that many tokens in a row.
/// - `=word` — a token written exactly so, kana folded (=来い: the imperative, not 来る).
/// - `_` — any one token.
/// - `@concept` — any entry of a concept class defined once under `concepts`.
/// - `a|@b|c` — any one of the alternatives.
/// - `x?` — optional; `~N` — up to N tokens of anything, within one sentence; `~~N` — the same
///   across sentences of the utterance.
/// - `!x` — the next token is not `x` (nothing consumed): `@harm !@negation`.
///
/// A pattern with `then` is met when `then` follows `tokens` in the same utterance or the
/// caller's next one (a waiting place, then a weapon). A pattern with `cancels: true` raises no
/// signal: it takes away every hit that overlaps it (ゴキブリを殺す, "he said"), or only the hits of
/// its `signal` when it names one. With `reach` it marks a reported clause, someone else's words
/// however long: from its match to the end of its sentence (he said, …), taking away the hits
/// that begin there, or from the sentence's start to its match (…って言われた), taking away the
/// hits that end there; `until` names where the caller takes over (so, but; 、) and the clause stops.
/// A pattern with a `hint` group is one cue of an insinuated threat (a staff member's routine known,
/// a dark car park, "my brothers… a word"): it raises its threat only beside a cue of another group
/// in the caller's words and where the threat model finds a threat likely (`ScreeningEngine`).
public struct TokenPatternRule: Sendable, Hashable {
    /// How far a cancelling pattern takes hits away.
    public enum Reach: String, Sendable, Hashable, CaseIterable {
        /// The tokens it matched.
        case match
        /// From its match to the end of its sentence: the clause a report verb introduces.
        case toSentenceEnd = "to-sentence-end"
        /// From the start of its sentence to its match: the clause a quotative verb closes.
        case fromSentenceStart = "from-sentence-start"
    }

    public var id: String
    /// The signal raised; for a cancelling pattern, the one it cancels (`.signalUnspecified`: all).
    public var signal: SignalKind
    public var severity: Severity
    public var tokens: TokenPatternSyntax
    public var then: TokenPatternSyntax?
    public var cancels: Bool
    /// For a cancelling pattern, how far it takes hits away (`PolicyLoader` refuses a reach on
    /// any other).
    public var reach: Reach
    /// With a `reach` other than `.match`: where the clause stops short of the sentence's end (or
    /// start).
    public var until: TokenPatternSyntax?
    /// Raises its signal only where the threat model's probability reaches `threatModel.confirm`.
    public var confirmedByModel: Bool
    /// The group of cues this pattern is one of: it raises its signal only beside a hit of another
    /// group's pattern of the same signal in the contact, where the threat model's probability
    /// reaches `threatModel.confirm`.
    public var hint: String?

    public init(
        id: String, signal: SignalKind, severity: Severity, tokens: TokenPatternSyntax, then: TokenPatternSyntax? = nil,
        cancels: Bool = false, reach: Reach = .match, until: TokenPatternSyntax? = nil, confirmedByModel: Bool = false,
        hint: String? = nil
    ) {
        self.id = id
        self.signal = signal
        self.severity = severity
        self.tokens = tokens
        self.then = then
        self.cancels = cancels
        self.reach = reach
        self.until = until
        self.confirmedByModel = confirmedByModel
        self.hint = hint
    }
}

/// A token pattern over the agent's words: a site's fixed warning about what the caller just said
/// (ただいまのご発言は記録し、警察に相談いたします).
public struct AgentWarning: Sendable, Hashable {
    public var id: String
    public var tokens: TokenPatternSyntax

    public init(id: String, tokens: TokenPatternSyntax) {
        self.id = id
        self.tokens = tokens
    }
}

/// A pattern's elements as parsed from its text; concepts are still names.
public struct TokenPatternSyntax: Sendable, Hashable {
    public enum Item: Sendable, Hashable {
        case word(String)
        case surface(String)
        case any
        case concept(String)
    }

    public enum Element: Sendable, Hashable {
        /// One of the alternatives, or nothing when optional.
        case match([Item], optional: Bool)
        /// Up to this many tokens, within a sentence unless `acrossSentences`, none of them one of
        /// `except` (`~10!i|we`: the subject does not change in between).
        case gap(Int, acrossSentences: Bool, except: [Item])
        /// The next token is none of these (zero-width).
        case not([Item])
    }

    public var text: String
    public var elements: [Element]

    /// Parses `text`; the error says which element is wrong.
    public init(_ text: String) throws(PatternSyntaxError) {
        self.text = text
        var elements: [Element] = []
        for part in text.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            var piece = Substring(part)
            if piece.first == "~" {
                let across = piece.hasPrefix("~~")
                let parts = piece.dropFirst(across ? 2 : 1).split(separator: "!", maxSplits: 1, omittingEmptySubsequences: false)
                let (length, except) = (parts[0], parts.count > 1 ? parts[1] : nil)
                guard let count = Int(length), (0...40).contains(count), except?.isEmpty != true else {
                    throw PatternSyntaxError("'\(piece)': a gap is ~N or ~~N with N from 0 to 40, then optionally !words it does not cross")
                }
                let excluded = try except.map { (words) throws(PatternSyntaxError) in try Self.items(of: words, in: part) } ?? []
                elements.append(.gap(count, acrossSentences: across, except: excluded))
                continue
            }
            var negated = false
            if piece.first == "!" {
                negated = true
                piece = piece.dropFirst()
            }
            var optional = false
            if piece.count > 1 && piece.last == "?" {
                optional = true
                piece = piece.dropLast()
            }
            let items = try Self.items(of: piece, in: part)
            if negated {
                guard !optional else { throw PatternSyntaxError("'\(part)': a negated element cannot be optional") }
                elements.append(.not(items))
            } else {
                elements.append(.match(items, optional: optional))
            }
        }
        guard elements.contains(where: { if case .match(_, false) = $0 { true } else { false } }) else {
            throw PatternSyntaxError("the pattern must have at least one element that is not optional, a gap or negated")
        }
        if case .gap = elements.first { throw PatternSyntaxError("a pattern cannot start with a gap") }
        if case .gap = elements.last { throw PatternSyntaxError("a pattern cannot end with a gap") }
        self.elements = elements
    }

    /// The alternatives of one element (`a|@concept|=written|_`); `part` names it in an error.
    private static func items(of piece: Substring, in part: Substring) throws(PatternSyntaxError) -> [Item] {
        var items: [Item] = []
        for alternative in piece.split(separator: "|", omittingEmptySubsequences: false) {
            if alternative == "_" {
                items.append(.any)
            } else if alternative.first == "@" {
                let name = alternative.dropFirst()
                guard !name.isEmpty else { throw PatternSyntaxError("'\(part)': '@' must be followed by a concept name") }
                items.append(.concept(String(name)))
            } else if alternative.first == "=" {
                guard alternative.count > 1 else { throw PatternSyntaxError("'\(part)': '=' must be followed by a word") }
                items.append(.surface(String(alternative.dropFirst())))
            } else {
                guard !alternative.isEmpty else { throw PatternSyntaxError("'\(part)': an empty alternative") }
                items.append(.word(String(alternative).replacingOccurrences(of: "_", with: " ")))
            }
        }
        return items
    }

    /// Every item of every element, in order.
    var items: [Item] {
        elements.flatMap { element -> [Item] in
            switch element {
            case .match(let items, _), .not(let items), .gap(_, _, let items): items
            }
        }
    }

    /// The concept names the pattern refers to.
    var conceptNames: [String] {
        items.compactMap { if case .concept(let name) = $0 { name } else { nil } }
    }
}

/// What is wrong with a pattern's text.
public struct PatternSyntaxError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
