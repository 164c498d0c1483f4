import CoreMetrics
import DemandScreenAPI
public import DemandScreenRPC
import DemandScreenStorage
import Foundation
import Logging
public import ResponseTemplates
import ScreeningEngine
import SwiftProtobuf

/// The Screening and Health methods: each decodes its request, does its work and encodes the
/// response. Registered on a `MethodRouter`, which checks roles before any of them runs.
public struct ScreeningService: Sendable {
    private let engines: EngineHolder
    private let responses: ResponseTemplateHolder
    private let servingState: ServingState
    private let storage: StorageWatch?
    private let turns: FairTurns

    /// - Parameters:
    ///   - responses: writes `ScreeningResult.response`; by default the built-in templates.
    ///   - storage: the store and its watch; nil runs screening only (`--storage-url none`).
    ///   - turns: how many Screen calls are worked on at once, and the order the others take turns in.
    public init(
        engines: EngineHolder, responses: ResponseTemplateHolder = ResponseTemplateHolder(.builtIn()),
        servingState: ServingState, storage: StorageWatch?, turns: FairTurns = FairTurns(concurrency: FairTurns.defaultScreensInProgress)
    ) {
        self.engines = engines
        self.responses = responses
        self.servingState = servingState
        self.storage = storage
        self.turns = turns
    }

    /// Adds every method of the contract to `router`.
    public func register(on router: inout MethodRouter) {
        router.register(MethodName.screen, access: .roles([.agent, .security])) { request, context in
            try await screen(request, context)
        }
        let security = MethodRouter.Access.roles([.security])
        router.register(MethodName.getClaimantRisk, access: security) { request, _ in
            let query = try decode(GetClaimantRiskRequest.self, from: request)
            guard !query.claimantID.isEmpty else { throw CallError(.invalidArgument, "claimant_id: is required") }
            let engine = engines.current
            let risk = try await withStore { store in
                try await store.claimantRisk(query.claimantID, now: Self.now(), policy: engine.policy)
            }
            guard let risk else { throw CallError(.notFound, "claimant_id: nothing is stored about '\(query.claimantID)'") }
            return try risk.serializedBytes()
        }
        router.register(MethodName.listRiskFlags, access: security) { request, _ in
            let query = try decode(ListRiskFlagsRequest.self, from: request)
            let engine = engines.current
            return try await withStore { store in
                try await store.riskFlags(query, now: Self.now(), policy: engine.policy)
            }.serializedBytes()
        }
        router.register(MethodName.listRecurringIssues, access: security) { request, _ in
            let query = try decode(ListRecurringIssuesRequest.self, from: request)
            let engine = engines.current
            var response = ListRecurringIssuesResponse()
            response.issues = try await withStore { store in
                try await store.recurringIssues(since: query.sinceUnixMs, now: Self.now(), policy: engine.policy)
            }
            return try response.serializedBytes()
        }
        router.register(MethodName.addClaimantNote, access: security) { request, context in
            let query = try decode(AddClaimantNoteRequest.self, from: request)
            var response = AddClaimantNoteResponse()
            response.note = try await withStore { store in
                try await store.addNote(
                    claimantID: query.claimantID, text: query.text, author: context.caller?.description ?? "unknown",
                    at: Self.now())
            }
            context.logger.notice(
                "claimant note added", metadata: ["claimant": "\(query.claimantID)", "author": "\(response.note.author)"])
            return try response.serializedBytes()
        }
        router.register(MethodName.purgeClaimant, access: security) { request, context in
            let query = try decode(PurgeClaimantRequest.self, from: request)
            let response = try await withStore { store in try await store.purge(claimantID: query.claimantID) }
            context.logger.notice(
                "claimant purged",
                metadata: [
                    "claimant": "\(query.claimantID)", "by": "\(context.caller?.description ?? "unknown")",
                    "contacts": "\(response.contactsRemoved)", "flags": "\(response.flagsRemoved)", "notes": "\(response.notesRemoved)",
                ])
            return try response.serializedBytes()
        }
        router.register(MethodName.healthCheck, access: .anyone) { request, _ in
            try check(request)
        }
    }

    func screen(_ request: Data, _ context: CallContext) async throws -> Data {
        let record = try decode(DemandRecord.self, from: request)
        try record.validate()
        // The work of a call waits for its turn: a caller, or a claimant, with many calls waiting
        // takes one turn at a time with the others.
        return try await turns.run(caller: context.caller?.description ?? "", subject: record.claimantID) {
            try await screenInTurn(record, context)
        }
    }

    /// A Screen call's work once its turn has come: history, judgment, response, record.
    private func screenInTurn(_ record: DemandRecord, _ context: CallContext) async throws -> Data {
        try Task.checkCancellation()
        let engine = engines.current
        let result: ScreeningResult
        let reply: Data
        if storage == nil {
            result = judge(record, history: .firstContact, engine: engine, logger: context.logger)
            reply = try result.serializedBytes()
        } else {
            // Read the claimant's history, judge, write the response, and commit the contact
            // with its result, so that a retry gets both; a record id seen before gets its
            // stored answer.
            let at = record.receivedAtUnixMs > 0 ? record.receivedAtUnixMs : Self.now()
            let answer = try await withStore { store in
                switch try await store.prepare(record, at: at, policy: engine.policy) {
                case .alreadyScreened(let stored):
                    return stored
                case .newContact(let history):
                    let judged = judge(record, history: history, engine: engine, logger: context.logger)
                    return try await store.record(
                        ContactStore.ScreenedContact(
                            record: record, result: judged, receivedAtUnixMs: at,
                            client: context.caller?.description ?? "unknown",
                            maskPersonalData: engine.policy.maskPersonalData))
                }
            }
            result = answer.result
            reply = Data(answer.serialized)
        }
        Counter(
            label: "demandscreen_screened_total",
            dimensions: [("verdict", result.verdict.protoName), ("risk", result.riskLevel.protoName)]
        ).increment()
        context.logger.info(
            "screened",
            metadata: [
                "record": "\(record.recordID)", "verdict": "\(result.verdict.protoName)",
                "risk": "\(result.riskLevel.protoName)", "signals": "\(result.signals.map(\.kind.protoName))",
                "template": "\(result.response.templateID)",
            ])
        return reply
    }

    /// The judgment of `record` and its written response.
    private func judge(_ record: DemandRecord, history: ClaimantHistory, engine: ScreeningEngine, logger: Logger) -> ScreeningResult {
        var result = engine.screen(record, history: history)
        let written = responses.writer.compose(record: record, result: result)
        result.response = written.response
        if let reason = written.fallbackReason {
            logger.error(
                "response template refused; the fallback was sent", metadata: ["record": "\(record.recordID)", "reason": "\(reason)"])
        }
        return result
    }

    /// Runs `body` on the store. Its errors say their own status (`CallErrorConvertible`); a
    /// store failure also marks the daemon not serving until the store works again.
    private func withStore<T>(_ body: (ContactStore) async throws -> T) async throws -> T {
        guard let storage else {
            throw CallError(.failedPrecondition, "this daemon runs with --storage-url none: it records no history")
        }
        if let problem = storage.problem {
            throw CallError(.unavailable, "storage unavailable: \(problem)")
        }
        do {
            return try await body(storage.store)
        } catch let error as StorageError {
            storage.reportFailure(error)
            throw error
        }
    }

    func check(_ request: Data) throws -> Data {
        let check = try decode(HealthCheckRequest.self, from: request)
        guard check.service.isEmpty || check.service == "demandscreen.v1.Screening" else {
            throw CallError(.notFound, "unknown service '\(check.service)'; this server has demandscreen.v1.Screening")
        }
        var response = HealthCheckResponse()
        response.status = servingState.current.serving ? .serving : .notServing
        return try response.serializedBytes()
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    private func decode<M: SwiftProtobuf.Message>(_ type: M.Type, from bytes: Data) throws -> M {
        do {
            return try M(serializedBytes: bytes)
        } catch {
            throw CallError(.invalidArgument, "the message is not a valid \(M.protoMessageName): \(error)")
        }
    }
}
