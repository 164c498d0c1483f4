import ArgumentParser
import Crypto
import Foundation

/// `demandscreen token new`: a new bearer token and the hash the daemon's configuration keeps.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Make bearer tokens.", subcommands: [New.self])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new token (give it to the client) and its auth.tokens entry (give that to the daemon).")
        @Option(help: "A name for the token, shown in logs and audit records.") var name: String
        @Option(help: "agent, security or ops.") var role: String

        func validate() throws {
            guard ["agent", "security", "ops"].contains(role) else { throw ValidationError("--role must be agent, security or ops") }
            guard !name.isEmpty, !name.contains(":") else { throw ValidationError("--name must be non-empty and contain no ':'") }
        }

        func run() {
            var generator = SystemRandomNumberGenerator()
            let token = "ds_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
            let hash = SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
            print("token: \(token)")
            print("auth.tokens entry: \(name):\(role):\(hash)")
        }
    }
}
