public import DemandScreenAPI
import Foundation

/// What a person decided a record should come out as: the reference for measuring the engine.
public struct RecordLabel: Sendable, Hashable {
    public var recordID: String
    public var verdict: Verdict
    public var signals: Set<SignalKind>

    public init(recordID: String, verdict: Verdict, signals: Set<SignalKind>) {
        self.recordID = recordID
        self.verdict = verdict
        self.signals = signals
    }

    /// Reads the JSON form `{"recordId": …, "verdict": "VERDICT_…", "signals": ["SIGNAL_…"]}`.
    /// `recordID` fills in a missing `recordId` (labels written inline with their record).
    public init(json: [String: Any], recordID fallback: String? = nil) throws(LabelError) {
        guard let id = (json["recordId"] as? String) ?? fallback, !id.isEmpty else {
            throw LabelError("label has no recordId")
        }
        guard let verdictName = json["verdict"] as? String, let verdict = Verdict(protoName: verdictName),
            verdict != .unspecified
        else {
            throw LabelError("label for '\(id)': verdict must be one of \(Verdict.protoNames.dropFirst().joined(separator: ", "))")
        }
        var signals: Set<SignalKind> = []
        for name in json["signals"] as? [String] ?? [] {
            guard let kind = SignalKind(protoName: name), kind != .signalUnspecified else {
                throw LabelError("label for '\(id)': unknown signal '\(name)'")
            }
            signals.insert(kind)
        }
        self.init(recordID: id, verdict: verdict, signals: signals)
    }
}

/// A label that cannot be read, saying why.
public struct LabelError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How the engine's results compare with labels: the verdict confusion matrix, per-signal
/// precision and recall, and the false-positive rate that matters most (legitimate claims judged
/// unjust).
public struct EvaluationReport: Sendable {
    public static let verdicts: [Verdict] = [.legitimateClaim, .needsReview, .unjustDemand]

    /// `confusion[expected]![predicted]` = count.
    public private(set) var confusion: [Verdict: [Verdict: Int]] = [:]
    public private(set) var truePositives: [SignalKind: Int] = [:]
    public private(set) var falsePositives: [SignalKind: Int] = [:]
    public private(set) var falseNegatives: [SignalKind: Int] = [:]
    public private(set) var total = 0
    /// Records whose verdict or signals differ from their label, for a reviewer.
    public private(set) var mismatches: [(label: RecordLabel, result: ScreeningResult)] = []

    public init() {}

    public mutating func add(_ result: ScreeningResult, label: RecordLabel) {
        total += 1
        confusion[label.verdict, default: [:]][result.verdict, default: 0] += 1
        let found = Set(result.signals.map(\.kind))
        let expected = label.signals
        for kind in found.intersection(expected) { truePositives[kind, default: 0] += 1 }
        for kind in found.subtracting(expected) { falsePositives[kind, default: 0] += 1 }
        for kind in expected.subtracting(found) { falseNegatives[kind, default: 0] += 1 }
        if result.verdict != label.verdict || found != expected { mismatches.append((label, result)) }
    }

    public var accuracy: Double {
        let correct = Self.verdicts.reduce(0) { $0 + (confusion[$1]?[$1] ?? 0) }
        return total == 0 ? 0 : Double(correct) / Double(total)
    }

    /// Legitimate claims judged unjust, over all legitimate claims.
    public var legitimateJudgedUnjustRate: Double {
        let legitimate = confusion[.legitimateClaim]?.values.reduce(0, +) ?? 0
        return legitimate == 0 ? 0 : Double(confusion[.legitimateClaim]?[.unjustDemand] ?? 0) / Double(legitimate)
    }

    public func precision(_ kind: SignalKind) -> Double? {
        let found = (truePositives[kind] ?? 0) + (falsePositives[kind] ?? 0)
        return found == 0 ? nil : Double(truePositives[kind] ?? 0) / Double(found)
    }

    public func recall(_ kind: SignalKind) -> Double? {
        let expected = (truePositives[kind] ?? 0) + (falseNegatives[kind] ?? 0)
        return expected == 0 ? nil : Double(truePositives[kind] ?? 0) / Double(expected)
    }

    /// Recall over both kinds of threat (violence and exposure) together.
    public var threatRecall: Double? {
        let kinds: [SignalKind] = [.signalThreatViolence, .signalThreatExposure]
        let hits = kinds.reduce(0) { $0 + (truePositives[$1] ?? 0) }
        let expected = hits + kinds.reduce(0) { $0 + (falseNegatives[$1] ?? 0) }
        return expected == 0 ? nil : Double(hits) / Double(expected)
    }

    /// The report as text: the confusion matrix, the rates, and per-signal precision and recall.
    public var text: String {
        func short(_ verdict: Verdict) -> String { String(verdict.protoName.dropFirst("VERDICT_".count)) }
        func percent(_ value: Double?) -> String { value.map { String(format: "%5.1f%%", $0 * 100) } ?? "    -" }
        var lines = [
            "records: \(total)", "",
            "expected \\ judged".padding(toLength: 22, withPad: " ", startingAt: 0)
                + Self.verdicts.map { short($0).padding(toLength: 18, withPad: " ", startingAt: 0) }.joined(),
        ]
        for expected in Self.verdicts {
            lines.append(
                short(expected).padding(toLength: 22, withPad: " ", startingAt: 0)
                    + Self.verdicts.map { String(confusion[expected]?[$0] ?? 0).padding(toLength: 18, withPad: " ", startingAt: 0) }
                    .joined())
        }
        lines.append("")
        lines.append("verdict accuracy: \(percent(accuracy))")
        lines.append("legitimate claims judged unjust (false-positive rate): \(percent(legitimateJudgedUnjustRate))")
        lines.append("threat recall (violence + exposure): \(percent(threatRecall))")
        lines.append("")
        lines.append("signal".padding(toLength: 28, withPad: " ", startingAt: 0) + "precision  recall   tp  fp  fn")
        for kind in SignalKind.allCases where kind != .signalUnspecified {
            let tp = truePositives[kind] ?? 0
            let fp = falsePositives[kind] ?? 0
            let fn = falseNegatives[kind] ?? 0
            guard tp + fp + fn > 0 else { continue }
            lines.append(
                kind.protoName.padding(toLength: 28, withPad: " ", startingAt: 0)
                    + "\(percent(precision(kind)))     \(percent(recall(kind)))  \(String(format: "%3d %3d %3d", tp, fp, fn))")
        }
        return lines.joined(separator: "\n")
    }
}
