public import DemandScreenAPI
public import Foundation
public import Morphology

/// The words of a caller's talk as numbers: each token's key (an English word's Snowball stem, a
/// Japanese word's base form with katakana as hiragana), each pair of adjacent keys, and each pair
/// of adjacent characters of the Japanese words (kana and kanji, after the analyzer's folding,
/// katakana as hiragana: a slang or dialect form that MeCab splits oddly still shares its
/// characters with the forms it was taught),
/// hashed (FNV-1a, 53 bits so that a hash survives any JSON reader). Symbols and words inside
/// quotation marks other than single quotes (someone else's words: 「次は殺すぞ」って言われた) are left out, and break a pair.
public enum ContactFeatures {
    static let mask: UInt64 = (1 << 53) - 1

    /// A feature and the caller's scalars it was read from (its first place in the utterance).
    public struct Located: Sendable {
        public var feature: UInt64
        public var source: Range<Int>
    }

    /// The features of one utterance, `tokens` its analysis, each once, with where each was read.
    /// Linear in the tokens and the quotation marks.
    public static func located(_ text: String, tokens: [Token]) -> [Located] {
        located(text, tokens: tokens, quotations: UtteranceAnalysis.quotationRanges(in: text))
    }

    /// As `located(_:tokens:)`, with the utterance's quotation marks already scanned.
    static func located(_ text: String, tokens: [Token], quotations: [UtteranceAnalysis.Quotation]) -> [Located] {
        // Single quotes are also apostrophes: the model trusts only the other marks.
        let quoted = quotations.filter { !$0.isSingleQuote }.map(\.range)
        var nextQuote = 0
        var seen: Set<UInt64> = []
        seen.reserveCapacity(tokens.count * 2)
        var located: [Located] = []
        located.reserveCapacity(tokens.count * 2)
        func add(_ feature: UInt64, _ source: Range<Int>) {
            if seen.insert(feature).inserted { located.append(Located(feature: feature, source: source)) }
        }
        var previous: (key: String, source: Range<Int>)?
        var previousCharacter: (scalar: Unicode.Scalar, source: Range<Int>)?
        for token in tokens {
            // Tokens come in the order of the text, and so do the quotations.
            let start = token.source.lowerBound
            while nextQuote < quoted.count && quoted[nextQuote].upperBound <= start { nextQuote += 1 }
            let inQuotation = nextQuote < quoted.count && quoted[nextQuote].contains(start)
            guard token.partOfSpeech != .symbol, !inQuotation else {
                previous = nil
                previousCharacter = nil
                continue
            }
            let ascii = token.lemma.utf8.allSatisfy { $0 < 0x80 }
            let key = ascii ? token.lemma : token.alternate
            add(hash(key) & mask, token.source)
            if let previous { add(hash(key, after: previous.key) & mask, previous.source.lowerBound..<token.source.upperBound) }
            previous = (key, token.source)
            // Character pairs run through the Japanese words (kana or kanji); any other word ends the run.
            guard token.surface.unicodeScalars.contains(where: Kana.isKanaOrKanji) else {
                previousCharacter = nil
                continue
            }
            for scalar in token.surface.unicodeScalars {
                let folded = Kana.hiragana(scalar)
                if let before = previousCharacter {
                    add(hash(before.scalar, folded) & mask, before.source.lowerBound..<token.source.upperBound)
                }
                previousCharacter = (folded, token.source)
            }
        }
        return located
    }

    /// The features of one utterance, each once.
    public static func of(_ text: String, analyzer: TextAnalyzer) -> [UInt64] {
        located(text, tokens: analyzer.analyze(text)).map(\.feature)
    }

    /// The features of a record's customer utterances, each once: what the model weighs.
    public static func of(_ record: DemandRecord, analyzer: TextAnalyzer) -> [UInt64] {
        var features: Set<UInt64> = []
        for utterance in record.utterances where utterance.speaker == .customer {
            features.formUnion(of(utterance.text, analyzer: analyzer))
        }
        return features.sorted()
    }

    /// A key's hash, or a pair's: the previous key, a unit separator, the key.
    static func hash(_ key: String, after previous: String? = nil) -> UInt64 {
        var hash = FNV1a()
        if let previous {
            hash.add(previous.utf8)
            hash.add(CollectionOfOne(0x1F))
        }
        hash.add(key.utf8)
        return hash.value
    }

    /// A pair of characters' hash: a record separator (which no key holds), the two characters.
    static func hash(_ first: Unicode.Scalar, _ second: Unicode.Scalar) -> UInt64 {
        var hash = FNV1a()
        hash.add(CollectionOfOne(0x1E))
        hash.add(first.utf8)
        hash.add(second.utf8)
        return hash.value
    }
}

/// FNV-1a, 64 bits: the features' hash and the training set's fingerprint.
struct FNV1a: Sendable {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
    }
}

/// A linear model of menace over a contact's features (`ContactFeatures`), trained on labeled
/// contacts (`ThreatModelTrainer`, `demandscreen model train`): the probability that the caller
/// threatens at all, which kind (violence or exposure) is likelier, and the probability that the
/// caller coerces. It reads threats that no token pattern phrases, and doubts patterns' threats and
/// coercion it finds unlikely; the policy's `threatModel` thresholds decide when.
public struct ThreatModel: Sendable {
    /// The model's four outputs, each a probability.
    public struct Scores: Sendable {
        public var threat: Double
        public var violence: Double
        public var exposure: Double
        public var coercion: Double
    }

    /// What the model was trained on: enough to tell a stale model from the corpus it came from.
    public struct TrainingSet: Codable, Sendable, Equatable {
        public var contacts: Int
        public var threats: Int
        /// Contacts labeled SIGNAL_COERCION: with none, the coercion output has learned nothing and
        /// doubts nothing.
        public var coercion: Int
        /// FNV-1a (64 bits, hex) over the training records' lines, in the order read.
        public var fingerprint: String

        public init(contacts: Int, threats: Int, coercion: Int, fingerprint: String) {
            self.contacts = contacts
            self.threats = threats
            self.coercion = coercion
            self.fingerprint = fingerprint
        }

        /// An older release's file (format 1) has no coercion count: read as none, so that the
        /// file is refused for its format, by name.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            contacts = try container.decode(Int.self, forKey: .contacts)
            threats = try container.decode(Int.self, forKey: .threats)
            coercion = try container.decodeIfPresent(Int.self, forKey: .coercion) ?? 0
            fingerprint = try container.decode(String.self, forKey: .fingerprint)
        }
    }

    /// FNV-1a (64 bits) over the training lines, each ended by a newline: a model's
    /// `TrainingSet.fingerprint`.
    public struct Fingerprint: Sendable {
        private var hash = FNV1a()

        public init() {}

        public mutating func add(_ line: String) {
            hash.add(line.utf8)
            hash.add(CollectionOfOne(0x0A))
        }

        /// Every line of a JSON-lines text, as `JSONLines.split` reads them.
        public mutating func add(jsonLines text: String) -> Int {
            let lines = JSONLines.split(text)
            for line in lines { add(line.json) }
            return lines.count
        }

        public var hex: String { String(hash.value, radix: 16) }
    }

    /// Weights per output: threat, violence, exposure, coercion.
    var bias: SIMD4<Float>
    var weights: [UInt64: SIMD4<Float>]
    public let trainedOn: TrainingSet

    init(bias: SIMD4<Float>, weights: [UInt64: SIMD4<Float>], trainedOn: TrainingSet) {
        self.bias = bias
        self.weights = weights
        self.trainedOn = trainedOn
    }

    /// The probabilities for a contact whose customer utterances have these features (each once).
    /// Summed in Double, so that the order of the features does not move the result.
    public func scores(_ features: some Sequence<UInt64>) -> Scores {
        var sum = SIMD4<Double>(bias)
        for feature in features {
            if let weight = weights[feature] { sum += SIMD4<Double>(weight) }
        }
        func sigmoid(_ value: Double) -> Double { 1 / (1 + exp(-value)) }
        return Scores(threat: sigmoid(sum[0]), violence: sigmoid(sum[1]), exposure: sigmoid(sum[2]), coercion: sigmoid(sum[3]))
    }

    /// The model's outputs, in the order of its weights.
    enum Output: Int {
        case threat, violence, exposure, coercion
    }

    /// What one feature adds to an output.
    func weight(of feature: UInt64, toward output: Output) -> Double {
        Double(weights[feature]?[output.rawValue] ?? 0)
    }

    /// The evidence rule of the model's signals (`model.threat p=0.91`): what no token pattern said.
    public static let evidenceRule = "model.threat"

    /// A probability as evidence shows it: thousandths, rounded down, so that it compares with the
    /// policy's thresholds (hundredths) as the probability itself does (0.0399 below 0.04 shows 0.039).
    public static func shown(_ probability: Double) -> String {
        String(format: "%.3f", (probability * 1000).rounded(.down) / 1000)
    }

    /// What every doubt the model appends to a rule begins with: evidence so marked is for a
    /// supervisor to weigh.
    public static let doubtedMarker = ", doubted by "

    /// Whether this evidence is the model's own reading (a threat no pattern phrased).
    public static func reads(_ evidence: Evidence) -> Bool {
        evidence.rule.hasPrefix(evidenceRule)
    }

    /// Whether the model doubts this evidence (its rule carries `doubtedMarker`).
    public static func doubts(_ evidence: Evidence) -> Bool {
        evidence.rule.contains(doubtedMarker)
    }

    /// Appended to the rule of a threat the model doubts (`threat.en.intent-to-harm, doubted by
    /// model.threat p=0.01`).
    public static let doubtedNote = doubtedMarker + evidenceRule + " p="

    /// The coercion output's name in evidence (`model.coercion p=0.004`).
    public static let coercionRule = "model.coercion"

    /// Appended to the rule of coercion the model doubts (`coercion.en.not-leaving, doubted by
    /// model.coercion p=0.01`).
    public static let coercionDoubtedNote = doubtedMarker + coercionRule + " p="

    /// The model that ships with the engine, trained on the development corpus
    /// (`Scripts/train-threat-model.sh`).
    public static let builtIn: ThreatModel = {
        guard let url = Bundle.module.url(forResource: "threat-model", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else { preconditionFailure("the engine's resources have no threat-model.json") }
        do {
            return try ThreatModel(json: data)
        } catch {
            preconditionFailure("the built-in threat model does not load: \(error)")
        }
    }()

    private struct File: Codable {
        var format: Int
        var features: String
        var trainedOn: TrainingSet
        var bias: [Float]
        /// Hash (decimal) → the weights of threat, violence, exposure and coercion.
        var weights: [String: [Float]]
    }

    static let featureDescription = "FNV-1a (53 bits) of token keys, adjacent key pairs and adjacent kana and kanji"

    /// The file format: 2 has a fourth output, coercion (format 1 had three).
    static let format = 2

    /// Reads a model file written by `demandscreen model train`, naming the file when it cannot.
    public init(file: String) throws(ThreatModelError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ThreatModelError("cannot read \(file): \(error.localizedDescription)")
        }
        do {
            try self.init(json: data)
        } catch {
            throw ThreatModelError("\(file): \(error.description)")
        }
    }

    /// Reads a model written by `json()`; says what is wrong with one that is not.
    public init(json data: Data) throws(ThreatModelError) {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw ThreatModelError("not a threat model: \(error)")
        }
        guard file.format == Self.format, file.features == Self.featureDescription else {
            throw ThreatModelError(
                "format \(file.format) of '\(file.features)' is not this engine's (\(Self.format), '\(Self.featureDescription)'): train it again"
            )
        }
        guard file.bias.count == 4 else { throw ThreatModelError("bias must have 4 values, has \(file.bias.count)") }
        var weights: [UInt64: SIMD4<Float>] = [:]
        weights.reserveCapacity(file.weights.count)
        for (key, values) in file.weights {
            guard let hash = UInt64(key), String(hash) == key, hash <= ContactFeatures.mask, values.count == 4 else {
                throw ThreatModelError("weights[\"\(key)\"]: expected a 53-bit hash with 4 weights")
            }
            weights[hash] = SIMD4(values[0], values[1], values[2], values[3])
        }
        self.init(bias: SIMD4(file.bias[0], file.bias[1], file.bias[2], file.bias[3]), weights: weights, trainedOn: file.trainedOn)
    }

    /// The model as JSON, its keys sorted (so that one training gives one file). Fails on a
    /// weight that is not a number (a training that diverged).
    public func json() throws(ThreatModelError) -> Data {
        let file = File(
            format: Self.format, features: Self.featureDescription, trainedOn: trainedOn, bias: [bias[0], bias[1], bias[2], bias[3]],
            weights: Dictionary(
                uniqueKeysWithValues: weights.map { (String($0.key), [$0.value[0], $0.value[1], $0.value[2], $0.value[3]]) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return try encoder.encode(file)
        } catch {
            throw ThreatModelError("the model cannot be written: \(error)")
        }
    }
}

/// A threat model that cannot be read.
public struct ThreatModelError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
