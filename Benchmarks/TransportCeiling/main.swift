import DemandScreenAPI
import DemandScreenRPC
import DemandScreenServer
import Foundation
import Logging

// The transport's ceiling: the daemon's server (TLS 1.3, framing, bearer-token authentication,
// the limits, a task per call) with a Screen method that does no work and answers a fixed
// ScreeningResult of a typical size. `Scripts/bench-load.sh` loads it as it loads the daemon, so
// that the daemon's CPU per call can be read against what the transport alone costs.
//
//   TransportCeiling DATA_DIRECTORY      (its dev certificate and key, made by the daemon; the tokens
//                                         from DEMANDSCREEN_AUTH_TOKENS, NAME:ROLE:SHA256HEX,…)
// Prints "ready port=N" once it listens, and runs until it is killed.

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: TransportCeiling DATA_DIRECTORY\n".utf8))
    exit(2)
}
let directory = arguments[1]
let tokens = try (ProcessInfo.processInfo.environment["DEMANDSCREEN_AUTH_TOKENS"] ?? "").split(separator: ",").map {
    try BearerToken.Entry(configurationValue: String($0))
}
var answer = ScreeningResult()
answer.recordID = "ceiling"
answer.verdict = .legitimateClaim
answer.response.body = String(repeating: "ご連絡いただきありがとうございます。", count: 40)
let reply = try answer.serializedBytes() as Data

var router = MethodRouter()
router.register(MethodName.screen, access: .roles([.agent])) { _, _ in reply }
var logger = Logger(label: "transport-ceiling")
logger.logLevel = .notice
let server = DemandScreenServer(
    configuration: ServerConfiguration(
        host: "127.0.0.1", port: 0,
        transportSecurity: .tls(
            .init(certificateChainPath: directory + "/server.pem", privateKeyPath: directory + "/server-key.pem"))),
    router: router, authenticator: Authenticator(tokens: tokens), logger: logger)
Task {
    let address = try await server.boundAddress()
    FileHandle.standardOutput.write(Data("ready port=\(address.port ?? 0)\n".utf8))
}
try await server.run()
