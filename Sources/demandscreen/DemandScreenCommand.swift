import ArgumentParser
import Foundation

/// `demandscreen`: the operator's and platform's command-line client.
@main
struct DemandScreenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demandscreen",
        abstract: "Screen demand records, check health and try policies against a DemandScreen daemon.",
        discussion: """
            Exit codes: 0 success; 1 a record or call failed (the reason is on stderr); 2 an invalid policy \
            or labels file; 3 the server could not be reached or the connection failed; 64 bad usage or an \
            unreadable input file.
            """,
        subcommands: [
            Screen.self, Health.self, Bench.self, Evaluate.self, Risk.self, Flags.self, Recurring.self, Note.self, Purge.self,
            PolicyCommand.self, ModelCommand.self, TokenCommand.self,
        ])
}

/// Exit codes the CLI documents (bad usage exits with swift-argument-parser's 64).
enum ExitStatus {
    static let callFailed = ExitCode(1)
    static let badInput = ExitCode(2)
    static let unreachable = ExitCode(3)
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
