import DemandScreenAPI
public import DemandScreenServer
import DemandScreenWire
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

    /// `responses` writes `ScreeningResult.response`; by default the built-in templates.
    public init(
        engines: EngineHolder, responses: ResponseTemplateHolder = ResponseTemplateHolder(.builtIn()),
        servingState: ServingState
    ) {
        self.engines = engines
        self.responses = responses
        self.servingState = servingState
    }

    /// Adds every method of the contract to `router`.
    public func register(on router: inout MethodRouter) {
        router.register(MethodName.screen, access: .roles([.agent, .security])) { request, context in
            try await screen(request, context)
        }
        let security = MethodRouter.Access.roles([.security])
        for method in [
            MethodName.getClaimantRisk, MethodName.listRiskFlags, MethodName.listRecurringIssues,
            MethodName.addClaimantNote,
        ] {
            router.register(method, access: security) { _, _ in
                throw CallError(.unimplemented, "\(method) needs the claimant history store, which this version does not have yet")
            }
        }
        router.register(MethodName.healthCheck, access: .anyone) { request, _ in
            try check(request)
        }
    }

    func screen(_ request: Data, _ context: CallContext) async throws -> Data {
        let record = try decode(DemandRecord.self, from: request)
        do {
            try record.validate()
        } catch {
            throw CallError(.invalidArgument, "invalid DemandRecord: \(error)")
        }
        try Task.checkCancellation()
        var result = engines.current.screen(record)
        let written = responses.writer.compose(record: record, result: result)
        result.response = written.response
        if let reason = written.fallbackReason {
            context.logger.error(
                "response template refused; the fallback was sent", metadata: ["record": "\(record.recordID)", "reason": "\(reason)"])
        }
        context.logger.info(
            "screened",
            metadata: [
                "record": "\(record.recordID)", "verdict": "\(result.verdict.protoName)",
                "risk": "\(result.riskLevel.protoName)", "signals": "\(result.signals.map(\.kind.protoName))",
                "template": "\(result.response.templateID)",
            ])
        return try result.serializedBytes()
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

    private func decode<M: SwiftProtobuf.Message>(_ type: M.Type, from bytes: Data) throws -> M {
        do {
            return try M(serializedBytes: bytes)
        } catch {
            throw CallError(.invalidArgument, "the message is not a valid \(M.protoMessageName): \(error)")
        }
    }
}
