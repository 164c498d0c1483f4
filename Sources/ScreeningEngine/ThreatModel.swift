public import DemandScreenAPI
public import Foundation
public import Morphology

/// The words of a caller's talk as numbers: each token's key (an English word's Snowball stem, a
/// Japanese word's base form with katakana as hiragana) and each pair of adjacent keys, hashed
/// (FNV-1a, 53 bits so that a hash survives any JSON reader). Symbols and words inside quotation
/// marks (someone else's words: 「次は殺すぞ」って言われた) are left out, and break a pair.
public enum ContactFeatures {
    static let mask: UInt64 = (1 << 53) - 1
    private static let offset: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x100_0000_01b3

    /// The features of one utterance, `tokens` its analysis, each once.
    public static func of(_ text: String, tokens: [Token]) -> [UInt64] {
        let quoted = UtteranceAnalysis.quotationRanges(in: text).map(\.range)
        var features: Set<UInt64> = []
        features.reserveCapacity(tokens.count * 2)
        var previous: String?
        for token in tokens {
            guard token.partOfSpeech != .symbol, !quoted.contains(where: { $0.contains(token.source.lowerBound) }) else {
                previous = nil
                continue
            }
            let key = token.lemma.utf8.allSatisfy { $0 < 0x80 } ? token.lemma : token.alternate
            features.insert(hash(key) & mask)
            if let previous { features.insert(hash(key, after: previous) & mask) }
            previous = key
        }
        return Array(features)
    }

    /// The features of one utterance, each once.
    public static func of(_ text: String, analyzer: TextAnalyzer) -> [UInt64] {
        of(text, tokens: analyzer.analyze(text))
    }

    /// The features of a record's customer utterances, each once: what the model weighs.
    public static func of(_ record: DemandRecord, analyzer: TextAnalyzer) -> [UInt64] {
        var features: Set<UInt64> = []
        for utterance in record.utterances where utterance.speaker == .customer {
            features.formUnion(of(utterance.text, analyzer: analyzer))
        }
        return features.sorted()
    }

    static func hash(_ key: String, after previous: String? = nil) -> UInt64 {
        var hash = offset
        func add(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* prime
        }
        if let previous {
            for byte in previous.utf8 { add(byte) }
            add(0x1F)
        }
        for byte in key.utf8 { add(byte) }
        return hash
    }
}

/// A linear model of menace over a contact's features (`ContactFeatures`), trained on labeled
/// contacts (`ThreatModelTrainer`, `demandscreen model train`): the probability that the caller
/// threatens at all, and which kind (violence or exposure) is likelier. It reads threats that no
/// token pattern phrases; the policy's `threatModel` thresholds decide when it raises a signal.
public struct ThreatModel: Sendable {
    /// The model's three outputs, each a probability.
    public struct Scores: Sendable {
        public var threat: Double
        public var violence: Double
        public var exposure: Double
    }

    /// What the model was trained on: enough to tell a stale model from the corpus it came from.
    public struct TrainingSet: Codable, Sendable, Equatable {
        public var contacts: Int
        public var threats: Int
        /// FNV-1a (64 bits, hex) over the training records' lines, in the order read.
        public var fingerprint: String

        public init(contacts: Int, threats: Int, fingerprint: String) {
            self.contacts = contacts
            self.threats = threats
            self.fingerprint = fingerprint
        }
    }

    /// FNV-1a (64 bits) over the training lines, each ended by a newline: a model's
    /// `TrainingSet.fingerprint`.
    public struct Fingerprint: Sendable {
        private var hash: UInt64 = 0xcbf2_9ce4_8422_2325

        public init() {}

        public mutating func add(_ line: String) {
            for byte in line.utf8 { mix(byte) }
            mix(0x0A)
        }

        private mutating func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }

        public var hex: String { String(hash, radix: 16) }
    }

    /// Weights per output: threat, violence, exposure (the fourth lane unused).
    var bias: SIMD4<Float>
    var weights: [UInt64: SIMD4<Float>]
    public let trainedOn: TrainingSet

    init(bias: SIMD4<Float>, weights: [UInt64: SIMD4<Float>], trainedOn: TrainingSet) {
        self.bias = bias
        self.weights = weights
        self.trainedOn = trainedOn
    }

    /// The probabilities for a contact whose customer utterances have these features (each once).
    public func scores(_ features: some Sequence<UInt64>) -> Scores {
        var sum = bias
        for feature in features {
            if let weight = weights[feature] { sum += weight }
        }
        func sigmoid(_ value: Float) -> Double { 1 / (1 + exp(-Double(value))) }
        return Scores(threat: sigmoid(sum[0]), violence: sigmoid(sum[1]), exposure: sigmoid(sum[2]))
    }

    /// How much one utterance's features add to the threat output: the utterance that adds the
    /// most is the model's evidence.
    func threatWeight(of features: [UInt64]) -> Float {
        features.reduce(0) { $0 + (weights[$1]?[0] ?? 0) }
    }

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
        /// Hash (decimal) → the weights of threat, violence and exposure.
        var weights: [String: [Float]]
    }

    static let featureDescription = "FNV-1a (53 bits) of token keys and adjacent pairs"

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
        guard file.format == 1, file.features == Self.featureDescription else {
            throw ThreatModelError("format \(file.format) of '\(file.features)' is not this engine's (1, '\(Self.featureDescription)')")
        }
        guard file.bias.count == 3 else { throw ThreatModelError("bias must have 3 values, has \(file.bias.count)") }
        var weights: [UInt64: SIMD4<Float>] = [:]
        weights.reserveCapacity(file.weights.count)
        for (key, values) in file.weights {
            guard let hash = UInt64(key), hash <= ContactFeatures.mask, values.count == 3 else {
                throw ThreatModelError("weights[\"\(key)\"]: expected a 53-bit hash with 3 weights")
            }
            weights[hash] = SIMD4(values[0], values[1], values[2], 0)
        }
        self.init(bias: SIMD4(file.bias[0], file.bias[1], file.bias[2], 0), weights: weights, trainedOn: file.trainedOn)
    }

    /// The model as JSON, its weights in order of their hashes (so that one training gives one file).
    public func json() -> Data {
        let file = File(
            format: 1, features: Self.featureDescription, trainedOn: trainedOn, bias: [bias[0], bias[1], bias[2]],
            weights: Dictionary(uniqueKeysWithValues: weights.map { (String($0.key), [$0.value[0], $0.value[1], $0.value[2]]) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // A dictionary of Codable values always encodes.
        return try! encoder.encode(file)
    }
}

/// A threat model that cannot be read.
public struct ThreatModelError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
