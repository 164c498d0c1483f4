import ArgumentParser
import DemandScreenAPI
import DemandScreenClient
import DemandScreenRPC
import EmbeddedDefaults
import Foundation
import SwiftProtobuf

/// `demandscreen screen`: sends records, pipelined, and prints each result as it arrives.
struct Screen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Screen demand records on the server.",
        discussion: "Prints one ScreeningResult per record as protobuf JSON on one line, in the order the answers arrive.")

    @Argument(help: "A DemandRecord as JSON, or a .jsonl file (or - for standard input) with one per line.")
    var file: String
    @Option(help: "json (default) or text.") var format: OutputFormat = .json
    /// Twice the daemon's default limit per connection (256): the daemon has the next calls at
    /// hand while the answers travel back, and none waits long enough to spend its deadline.
    @Option(help: "Calls in flight at once.")
    var inFlight = 512
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard inFlight >= 1 else { throw ValidationError("--in-flight must be at least 1 (got \(inFlight))") }
    }

    func run() async throws {
        let inputs = try RecordInput.read(file)
        var records: [(line: Int, record: DemandRecord)] = []
        var failed = false
        for input in inputs {
            do {
                records.append((input.line, try RecordJSON.decode(input.json)))
            } catch {
                printError("\(file):\(input.line): \(error)")
                failed = true
            }
        }
        let configuration = try connection.clientConfiguration(tokenFile: EmbeddedDefaults.File.agentToken)
        let timeout = connection.timeoutMs
        let format = self.format
        let file = self.file
        let inFlight = self.inFlight
        let anyCallFailed: Bool
        do {
            anyCallFailed = try await DemandScreenConnection.withConnection(to: configuration) { client in
                try await withThrowingTaskGroup(of: (Int, String, DemandScreenConnection.Response).self) { group in
                    var failed = false
                    func show(_ answer: (line: Int, recordID: String, response: DemandScreenConnection.Response)) throws {
                        guard answer.response.status == .ok else {
                            printError(
                                "\(file):\(answer.line): record '\(answer.recordID)': \(answer.response.status.name): \(answer.response.statusMessage)"
                            )
                            failed = true
                            return
                        }
                        print(try format.render(try ScreeningResult(serializedBytes: answer.response.message)))
                    }
                    // A window of calls in flight: the records go out about in file order, and a
                    // call's deadline starts when it is sent, not while it waits behind thousands
                    // of others. A full window is refilled once half of it has been answered, so
                    // that calls go out in bursts that share the connection's writes.
                    var outstanding = 0
                    for (line, record) in records {
                        if outstanding >= inFlight {
                            while outstanding > inFlight / 2, let answer = try await group.next() {
                                try show(answer)
                                outstanding -= 1
                            }
                        }
                        let payload = try record.serializedBytes() as Data
                        group.addTask {
                            (
                                line, record.recordID,
                                try await client.call(MethodName.screen, message: payload, timeoutMilliseconds: timeout)
                            )
                        }
                        outstanding += 1
                    }
                    for try await answer in group { try show(answer) }
                    return failed
                }
            }
        } catch let error as ClientError {
            printError("demandscreen: \(error)")
            throw ExitStatus.unreachable
        }
        if failed || anyCallFailed { throw ExitStatus.callFailed }
    }
}

/// How results are printed.
enum OutputFormat: String, ExpressibleByArgument, Sendable {
    case json
    case text

    func render(_ result: ScreeningResult) throws -> String {
        switch self {
        case .json:
            return try result.jsonString()
        case .text:
            let signals = result.signals.map { "\($0.kind.protoName)(\($0.severity.protoName.dropFirst(9)))" }
            let actions = result.actions.map(\.protoName)
            let summary =
                "\(result.recordID): \(result.verdict.protoName) \(result.riskLevel.protoName) "
                + "score=\(String(format: "%.3f", result.legitimacyScore)) "
                + "signals=[\(signals.joined(separator: ", "))] actions=[\(actions.joined(separator: ", "))]"
            guard result.hasResponse else { return summary }
            let response = result.response
            let body = response.body.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  \($0)" }
            let notes = response.agentNotes.map { "  - \($0)" }
            return
                ([summary, "response \(response.templateID) (\(response.language)):", "  Subject: \(response.subject)"]
                + body + ["agent notes:"] + notes).joined(separator: "\n")
        }
    }
}

/// `demandscreen health`: asks the standard gRPC health check.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check whether the server is serving (exit 0) or not (exit 1).")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let response = try await unaryCall(
            connection, tokenFile: EmbeddedDefaults.File.agentToken, MethodName.healthCheck, HealthCheckRequest(),
            as: HealthCheckResponse.self)
        switch response.status {
        case .serving:
            print("SERVING")
        default:
            print("NOT_SERVING")
            throw ExitStatus.callFailed
        }
    }
}
