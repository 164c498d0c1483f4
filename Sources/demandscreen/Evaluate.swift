import ArgumentParser
import DemandScreenAPI
import Foundation
import ScreeningEngine
import SwiftProtobuf

/// `demandscreen evaluate`: the screening engine in-process, with no server, over past records.
struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Screen records in-process with a policy, to try it before deploying it.",
        discussion: "Prints one ScreeningResult per record, in order, as protobuf JSON on one line.")

    @Argument(help: "A .jsonl file (or -) with one DemandRecord per line, or one JSON record.") var file: String
    @Option(help: "A policy YAML (default: the built-in policy).") var policy: String?
    @Option(help: "json (default) or text.") var format: OutputFormat = .json

    func run() async throws {
        let screeningPolicy: ScreeningPolicy
        if let policy {
            do {
                screeningPolicy = try ScreeningPolicy(yaml: try String(contentsOfFile: policy, encoding: .utf8))
            } catch let error as PolicyError {
                printError("\(policy): \(error)")
                throw ExitStatus.badInput
            } catch {
                printError("cannot read \(policy): \(error.localizedDescription)")
                throw ExitStatus.badInput
            }
        } else {
            screeningPolicy = .builtIn()
        }
        let engine = ScreeningEngine(policy: screeningPolicy)
        var failed = false
        for input in try RecordInput.read(file) {
            let record: DemandRecord
            do {
                record = try DemandRecord(jsonString: input.json)
                try record.validate()
            } catch {
                printError("\(file):\(input.line): \(error)")
                failed = true
                continue
            }
            print(try format.render(engine.screen(record)))
        }
        if failed { throw ExitStatus.callFailed }
    }
}

/// `demandscreen policy`: the built-in policy and checks of policy files.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Print the built-in policy or check a policy file.",
        subcommands: [Default.self, Check.self])

    struct Default: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the built-in policy YAML, to start your own from.")
        func run() { print(ScreeningPolicy.builtInYAML(), terminator: "") }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a policy file; prints its version, or the line at fault.")
        @Argument var file: String
        func run() throws {
            do {
                let policy = try ScreeningPolicy(yaml: try String(contentsOfFile: file, encoding: .utf8))
                print("\(file): OK, version \(policy.version), \(policy.lexicon.count) lexicon terms")
            } catch {
                printError("\(file): \(error)")
                throw ExitStatus.badInput
            }
        }
    }
}
