import ArgumentParser
import DemandScreenAPI
import DemandScreenClient
import DemandScreenRPC
import EmbeddedDefaults
import Foundation
import ScreeningEngine
import SwiftProtobuf

/// `demandscreen risk CLAIMANT`: one claimant's standing risk, flags, recent contacts and notes.
struct Risk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a claimant's risk, flags, contacts and notes (role security).")

    @Argument(help: "The claimant id.") var claimant: String
    @Option(help: "json (default) or text.") var format: OutputFormat = .json
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var request = GetClaimantRiskRequest()
        request.claimantID = claimant
        let risk = try await securityCall(connection, MethodName.getClaimantRisk, request, as: ClaimantRisk.self)
        guard format == .text else { return print(try risk.jsonString()) }
        print("\(risk.claimantID): \(risk.riskLevel.protoName), \(risk.contacts24H) contacts in 24 h, \(risk.contacts30D) in 30 days")
        for flag in risk.flags {
            let excerpts = flag.evidence.map(\.excerpt).filter { !$0.isEmpty }.map { "「\($0)」" }.joined(separator: " ")
            print(
                "  flag \(flag.kind.protoName) \(flag.severity.protoName) at \(TimeText.format(flag.raisedAtUnixMs)) (\(flag.recordID)) \(excerpts)"
            )
        }
        for contact in risk.contacts {
            let signals = contact.signals.map(\.protoName).joined(separator: ", ")
            print(
                "  contact \(TimeText.format(contact.receivedAtUnixMs)) \(contact.recordID) \(contact.channel.protoName) \(contact.verdict.protoName) [\(signals)]"
            )
        }
        for note in risk.notes {
            print("  note \(TimeText.format(note.createdAtUnixMs)) by \(note.author): \(note.text)")
        }
    }
}

/// `demandscreen flags`: flagged claimants, the most recently flagged first.
struct Flags: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List flagged claimants, newest flag first (role security).")

    @Option(help: "The lowest risk to list: LOW, ELEVATED, HIGH or CRITICAL.") var minRisk: String?
    @Option(help: "Flags raised since: unix milliseconds, an ISO 8601 time, or an age such as 24h or 7d (default: the active window).")
    var since: String?
    @Option(help: "Claimants per page (default 50, at most 500).") var pageSize: UInt32 = 50
    @Option(help: "The next_page_token of the page before.") var pageToken: String?
    @Option(help: "json (default) or text.") var format: OutputFormat = .json
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var request = ListRiskFlagsRequest()
        if let minRisk {
            let name = minRisk.uppercased().hasPrefix("RISK_") ? minRisk.uppercased() : "RISK_" + minRisk.uppercased()
            guard let level = RiskLevel(protoName: name), level != .riskUnspecified else {
                throw ValidationError("--min-risk must be LOW, ELEVATED, HIGH or CRITICAL, got '\(minRisk)'")
            }
            request.minRiskLevel = level
        }
        if let since { request.sinceUnixMs = try TimeText.parse(since, option: "--since") }
        request.pageSize = pageSize
        request.pageToken = pageToken ?? ""
        let response = try await securityCall(connection, MethodName.listRiskFlags, request, as: ListRiskFlagsResponse.self)
        guard format == .text else { return print(try response.jsonString()) }
        for claimant in response.claimants {
            let kinds = Set(claimant.flags.map(\.kind.protoName)).sorted().joined(separator: ", ")
            print(
                "\(claimant.claimantID): \(claimant.riskLevel.protoName), last flag \(TimeText.format(claimant.lastFlagAtUnixMs)) [\(kinds)]"
            )
        }
        if !response.nextPageToken.isEmpty { print("next page: --page-token \(response.nextPageToken)") }
    }
}

/// `demandscreen recurring`: open alerts of the same complaint from several claimants.
struct Recurring: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List recurring issues: the same complaint from several claimants (role security).")

    @Option(help: "Contacts since: unix milliseconds, an ISO 8601 time, or an age such as 7d (default: the policy's window).")
    var since: String?
    @Option(help: "json (default) or text.") var format: OutputFormat = .json
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var request = ListRecurringIssuesRequest()
        if let since { request.sinceUnixMs = try TimeText.parse(since, option: "--since") }
        let response = try await securityCall(connection, MethodName.listRecurringIssues, request, as: ListRecurringIssuesResponse.self)
        guard format == .text else { return print(try response.jsonString()) }
        for issue in response.issues {
            let key = issue.productKey.isEmpty ? "" : " \(issue.productKey)"
            print(
                "\(issue.category.protoName)\(key): \(issue.claimantCount) claimants, \(issue.recordIds.count) contacts, "
                    + "\(TimeText.format(issue.firstSeenUnixMs)) – \(TimeText.format(issue.lastSeenUnixMs)): \(issue.representativeDescription)"
            )
        }
    }
}

/// `demandscreen note CLAIMANT TEXT`: stores a security staff member's note on a claimant.
struct Note: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add a note on a claimant (role security).")

    @Argument(help: "The claimant id.") var claimant: String
    @Argument(help: "The note.") var text: String
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var request = AddClaimantNoteRequest()
        request.claimantID = claimant
        request.text = text
        let response = try await securityCall(connection, MethodName.addClaimantNote, request, as: AddClaimantNoteResponse.self)
        print(try response.jsonString())
    }
}

/// `demandscreen purge --claimant ID`: erases one person's stored data on request.
struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Erase everything stored about one claimant (role security).",
        discussion: "Removes the claimant's contacts (transcripts and results), risk flags and notes, and prints what it removed.")

    @Option(help: "The claimant id.") var claimant: String
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var request = PurgeClaimantRequest()
        request.claimantID = claimant
        let response = try await securityCall(connection, MethodName.purgeClaimant, request, as: PurgeClaimantResponse.self)
        print(try response.jsonString())
    }
}

/// One security call with the data folder's `security.token` unless a credential was given.
func securityCall<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
    _ connection: ConnectionOptions, _ method: String, _ request: Request, as type: Response.Type
) async throws -> Response {
    try await unaryCall(connection, tokenFile: EmbeddedDefaults.File.securityToken, method, request, as: type)
}

/// Times as the CLI reads and prints them.
enum TimeText {
    static func format(_ unixMs: Int64) -> String {
        Date(timeIntervalSince1970: Double(unixMs) / 1000).ISO8601Format()
    }

    /// Unix milliseconds, an ISO 8601 time, or an age before now (`90m`, `24h`, `7d`).
    static func parse(_ text: String, option: String) throws -> Int64 {
        if let milliseconds = Int64(text) { return milliseconds }
        if let unit = text.last, let amount = Double(text.dropLast()), amount >= 0 {
            let seconds: Double? =
                switch unit {
                case "m": amount * 60
                case "h": amount * 3600
                case "d": amount * 86400
                default: nil
                }
            if let seconds { return Int64((Date().timeIntervalSince1970 - seconds) * 1000) }
        }
        if let date = try? Date(text, strategy: .iso8601) { return Int64(date.timeIntervalSince1970 * 1000) }
        throw ValidationError("\(option) must be unix milliseconds, an ISO 8601 time or an age such as 24h or 7d, got '\(text)'")
    }
}
