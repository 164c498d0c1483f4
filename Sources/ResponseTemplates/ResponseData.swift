import DemandScreenAPI
import Foundation
import Yams

/// The small promises every response may make: how soon the company calls back or answers in
/// writing. From `responses.yaml` (`commitments:`); an operator's file may set either alone.
public struct Commitments: Sendable, Equatable {
    /// Conversational channels: "we will call you back within N minutes".
    public var callbackMinutes: Int
    /// Written channels: "we will answer in writing within N business days".
    public var replyBusinessDays: Int

    public init(callbackMinutes: Int, replyBusinessDays: Int) {
        self.callbackMinutes = callbackMinutes
        self.replyBusinessDays = replyBusinessDays
    }
}

/// One do / don't line for the agent, and the cases it is for. A note applies when the record's
/// verdict, fault finding and channel family are among those listed (an absent list allows any),
/// and, if any signals, demands or actions are listed, at least one of them is present.
struct AgentNote: Sendable {
    let id: String
    /// The line per language code.
    let text: [String: String]
    /// The responses.yaml it came from, for errors.
    let source: String
    let verdicts: Set<TemplateName.VerdictPart>?
    let faults: Set<TemplateName.FaultPart>?
    let families: Set<TemplateName.Family>?
    let signals: Set<SignalKind>
    let demands: Set<DemandKind>
    let actions: Set<Action>

    func applies(to record: DemandRecord, result: ScreeningResult) -> Bool {
        if let verdicts, !(TemplateName.VerdictPart(result.verdict).map(verdicts.contains) ?? false) { return false }
        if let faults, !faults.contains(TemplateName.FaultPart(record.assessment.companyFault)) { return false }
        if let families, !families.contains(TemplateName.Family(record.channel)) { return false }
        if signals.isEmpty && demands.isEmpty && actions.isEmpty { return true }
        return result.signals.contains { signals.contains($0.kind) }
            || record.demands.contains { demands.contains($0.kind) }
            || result.actions.contains { actions.contains($0) }
    }
}

/// `responses.yaml`: the commitments, the channels' names per language and the agent notes.
/// An operator's file is laid over the built-in one: commitments key by key, channel names
/// channel by channel, notes by id (same id replaces, a new id is added at the end).
struct ResponseData: Sendable {
    var commitments: Commitments
    var channelNames: [ContactChannel: [String: String]]
    var notes: [AgentNote]

    /// The file's form: every part optional, so that an operator's file can change one thing.
    private struct File: Decodable {
        struct CommitmentsPart: Decodable {
            var callbackMinutes: Int?
            var replyBusinessDays: Int?
        }
        struct Note: Decodable {
            var id: String
            var text: [String: String]
            var verdicts: [String]?
            var faults: [String]?
            var channels: [String]?
            var signals: [String]?
            var demands: [String]?
            var actions: [String]?
        }
        var commitments: CommitmentsPart?
        var channels: [String: [String: String]]?
        var notes: [Note]?
    }

    /// Parses the built-in file and lays `override` over it; `source` names the file in errors.
    static func load(builtIn: String, override: (text: String, source: String)?) throws(TemplateSetError) -> ResponseData {
        var data = ResponseData(commitments: Commitments(callbackMinutes: 0, replyBusinessDays: 0), channelNames: [:], notes: [])
        try data.lay(builtIn, source: "built-in responses.yaml")
        if let override { try data.lay(override.text, source: override.source) }
        guard data.commitments.callbackMinutes > 0, data.commitments.replyBusinessDays > 0 else {
            throw TemplateSetError(
                file: override?.source ?? "built-in responses.yaml",
                problem: "commitments.callbackMinutes and commitments.replyBusinessDays must be positive")
        }
        return data
    }

    private mutating func lay(_ text: String, source: String) throws(TemplateSetError) {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch {
            throw TemplateSetError(file: source, problem: "not a valid responses file: \(error)")
        }
        if let minutes = file.commitments?.callbackMinutes { commitments.callbackMinutes = minutes }
        if let days = file.commitments?.replyBusinessDays { commitments.replyBusinessDays = days }
        for (name, names) in file.channels ?? [:] {
            guard let channel = ContactChannel(protoName: name) else {
                throw TemplateSetError(
                    file: source,
                    problem: "channels: unknown channel '\(name)'; one of \(ContactChannel.protoNames.joined(separator: ", "))")
            }
            channelNames[channel, default: [:]].merge(names) { $1 }
        }
        for note in file.notes ?? [] {
            let parsed = try Self.parse(note, source: source)
            if let index = notes.firstIndex(where: { $0.id == parsed.id }) {
                notes[index] = parsed
            } else {
                notes.append(parsed)
            }
        }
    }

    private static func parse(_ note: File.Note, source: String) throws(TemplateSetError) -> AgentNote {
        func values<T>(_ names: [String]?, _ field: String, _ make: (String) -> T?) throws(TemplateSetError) -> [T]? {
            guard let names else { return nil }
            var values: [T] = []
            for name in names {
                guard let value = make(name) else {
                    throw TemplateSetError(file: source, problem: "note '\(note.id)': unknown \(field) value '\(name)'")
                }
                values.append(value)
            }
            return values
        }
        guard !note.text.isEmpty else {
            throw TemplateSetError(file: source, problem: "note '\(note.id)' has no text")
        }
        return AgentNote(
            id: note.id, text: note.text, source: source,
            verdicts: try values(note.verdicts, "verdicts", TemplateName.VerdictPart.init(rawValue:)).map(Set.init),
            faults: try values(note.faults, "faults", TemplateName.FaultPart.init(rawValue:)).map(Set.init),
            families: try values(note.channels, "channels", TemplateName.Family.init(rawValue:)).map(Set.init),
            signals: Set(try values(note.signals, "signals", SignalKind.init(protoName:)) ?? []),
            demands: Set(try values(note.demands, "demands", DemandKind.init(protoName:)) ?? []),
            actions: Set(try values(note.actions, "actions", Action.init(protoName:)) ?? []))
    }
}
