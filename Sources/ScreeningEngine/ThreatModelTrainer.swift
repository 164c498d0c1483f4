import Foundation

/// Trains a `ThreatModel` on labeled contacts: logistic regression per output (threat,
/// violence, exposure, coercion) over binary features, L2-regularized, each class weighted by the inverse of
/// its share (rare threats count as much as common complaints), by full-batch gradient descent
/// with AdaGrad steps from zero. Deterministic: the same examples give the same model.
public enum ThreatModelTrainer {
    /// One labeled contact: its features (`ContactFeatures`, each once) and what it holds.
    public struct Example: Sendable {
        public var features: [UInt64]
        public var violence: Bool
        public var exposure: Bool
        public var coercion: Bool
        public var threat: Bool { violence || exposure }

        public init(features: [UInt64], violence: Bool, exposure: Bool, coercion: Bool) {
            self.features = features
            self.violence = violence
            self.exposure = exposure
            self.coercion = coercion
        }
    }

    /// Features seen in fewer examples than this are left out (a word of one contact says
    /// nothing about the next).
    public static let minimumExamplesPerFeature = 2

    public static func train(
        _ examples: [Example], regularization: Double = 1, iterations: Int = 400, trainedOn: ThreatModel.TrainingSet
    ) -> ThreatModel {
        // Features as indices of a vocabulary of those common enough, in order of their hashes.
        var counts: [UInt64: Int] = [:]
        for example in examples {
            for feature in example.features { counts[feature, default: 0] += 1 }
        }
        let vocabulary = counts.filter { $0.value >= minimumExamplesPerFeature }.keys.sorted()
        let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($0.element, $0.offset) })
        let rows = examples.map { $0.features.compactMap { index[$0] } }

        var weights = [SIMD4<Float>](repeating: .zero, count: vocabulary.count)
        var bias = SIMD4<Float>.zero
        for (lane, label) in [\Example.threat, \Example.violence, \Example.exposure, \Example.coercion].enumerated() {
            let labels = examples.map { $0[keyPath: label] }
            let solution = fit(
                rows: rows, labels: labels, features: vocabulary.count, regularization: regularization, iterations: iterations)
            for feature in vocabulary.indices { weights[feature][lane] = Float(solution.weights[feature]) }
            bias[lane] = Float(solution.bias)
        }
        var model: [UInt64: SIMD4<Float>] = [:]
        for (feature, hash) in vocabulary.enumerated() {
            // Four decimals are more than the model's precision; weights that round to zero are dropped.
            let rounded = (weights[feature] * 10_000).rounded(.toNearestOrEven) / 10_000
            if rounded != .zero { model[hash] = rounded }
        }
        return ThreatModel(bias: (bias * 10_000).rounded(.toNearestOrEven) / 10_000, weights: model, trainedOn: trainedOn)
    }

    /// One logistic regression: minimizes Σ cᵢ·logloss(yᵢ, σ(b + Σ wⱼ)) + λ/2·|w|², cᵢ the weight
    /// of example i's class.
    static func fit(
        rows: [[Int]], labels: [Bool], features: Int, regularization: Double, iterations: Int
    ) -> (weights: [Double], bias: Double) {
        let positives = labels.filter { $0 }.count
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else {
            // One class only: the bias says it, the words nothing.
            return ([Double](repeating: 0, count: features), positives > 0 ? 10 : -10)
        }
        let classWeight = (
            positive: Double(labels.count) / Double(2 * positives), negative: Double(labels.count) / Double(2 * negatives)
        )
        var weights = [Double](repeating: 0, count: features)
        var bias = 0.0
        var squaredGradients = [Double](repeating: 0, count: features)
        var squaredBiasGradients = 0.0
        var gradient = [Double](repeating: 0, count: features)
        let rate = 0.5
        for _ in 0..<iterations {
            for feature in 0..<features { gradient[feature] = regularization * weights[feature] }
            var biasGradient = 0.0
            for (row, label) in zip(rows, labels) {
                var sum = bias
                for feature in row { sum += weights[feature] }
                let probability = 1 / (1 + exp(-sum))
                let error = (probability - (label ? 1 : 0)) * (label ? classWeight.positive : classWeight.negative)
                biasGradient += error
                for feature in row { gradient[feature] += error }
            }
            for feature in 0..<features where gradient[feature] != 0 {
                squaredGradients[feature] += gradient[feature] * gradient[feature]
                weights[feature] -= rate * gradient[feature] / squaredGradients[feature].squareRoot()
            }
            squaredBiasGradients += biasGradient * biasGradient
            if squaredBiasGradients > 0 { bias -= rate * biasGradient / squaredBiasGradients.squareRoot() }
        }
        return (weights, bias)
    }
}
