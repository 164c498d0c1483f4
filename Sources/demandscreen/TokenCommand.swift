import ArgumentParser
import DemandScreenRPC

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
            guard Role(rawValue: role) != nil else { throw ValidationError("--role must be agent, security or ops") }
            guard !name.isEmpty, !name.contains(":") else { throw ValidationError("--name must be non-empty and contain no ':'") }
        }

        func run() {
            let token = BearerToken.generate()
            let entry = BearerToken.Entry(name: name, role: Role(rawValue: role)!, sha256: BearerToken.hash(token))
            print("token: \(token)")
            print("auth.tokens entry: \(entry.configurationValue)")
        }
    }
}
