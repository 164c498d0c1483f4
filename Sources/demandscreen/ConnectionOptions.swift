import ArgumentParser
import DemandScreenClient
import DemandScreenRPC
import EmbeddedDefaults
import Foundation
import ScreeningEngine
import SwiftProtobuf

/// How to reach the daemon. Every option defaults to the embedded default run by this user.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The server as host:port (default 127.0.0.1:7443).") var server: String?
    @Option(help: "The CA certificate that signs the server's (default: the data folder's dev-ca.pem).") var ca: String?
    @Option(help: "A bearer token (default: the data folder's token for the command's role).") var token: String?
    @Option(help: "A client certificate (PEM) for mutual TLS, instead of a token.") var cert: String?
    @Option(help: "The client certificate's private key (PEM).") var key: String?
    @Flag(help: "Connect without TLS (to a daemon run with --insecure-plaintext).") var insecurePlaintext = false
    @Option(help: "The data folder of the embedded default (default $DEMANDSCREEN_DATA_DIRECTORY, $XDG_DATA_HOME/demandscreen).")
    var dataDirectory: String?
    @Option(help: "Each call's deadline in milliseconds.") var timeoutMs: UInt32 = 10000

    func validate() throws {
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
    }

    /// The client configuration, reading the default token file named `tokenFile` if no
    /// credential was given.
    func clientConfiguration(tokenFile: String) throws -> ClientConfiguration {
        let directory = dataDirectory ?? EmbeddedDefaults.dataDirectory()
        var host = EmbeddedDefaults.host
        var port = EmbeddedDefaults.port
        if let server {
            guard let colon = server.lastIndex(of: ":"), let parsed = Int(server[server.index(after: colon)...]),
                (1...65535).contains(parsed)
            else {
                throw ValidationError("--server must be host:port, got '\(server)'")
            }
            host = String(server[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            port = parsed
        }
        var bearer = token
        if bearer == nil && cert == nil {
            let path = EmbeddedDefaults.path(tokenFile, in: directory)
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                bearer = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        let security: ClientConfiguration.TransportSecurity =
            insecurePlaintext
            ? .insecurePlaintext
            : .tls(
                caPath: ca ?? EmbeddedDefaults.path(EmbeddedDefaults.File.certificateAuthority, in: directory),
                clientCertificatePath: cert, clientKeyPath: key)
        return ClientConfiguration(host: host, port: port, transportSecurity: security, bearerToken: bearer)
    }
}

/// One call on a new connection, with the data folder's `tokenFile` unless a credential was given;
/// a failure is printed and becomes the CLI's exit status (3 unreachable, 1 the call failed).
func unaryCall<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
    _ connection: ConnectionOptions, tokenFile: String, _ method: String, _ request: Request, as type: Response.Type
) async throws -> Response {
    let configuration = try connection.clientConfiguration(tokenFile: tokenFile)
    let timeout = connection.timeoutMs
    do {
        return try await DemandScreenConnection.withConnection(to: configuration) { client in
            try await client.unary(method, request, as: type, timeoutMilliseconds: timeout)
        }
    } catch let error as ClientError {
        printError("demandscreen: \(error)")
        throw ExitStatus.unreachable
    } catch let error as CallError {
        printError("demandscreen: \(error)")
        throw ExitStatus.callFailed
    }
}

/// Records read from a file: one JSON object, or JSON lines (`.jsonl`, `-` for standard input, or
/// any file that is not one JSON document and has a record on a line of its own).
enum RecordInput {
    /// Each record's JSON text with the line it starts on; `asJSONLines` reads any file line by line.
    static func read(_ path: String, asJSONLines: Bool = false) throws -> [(line: Int, json: String)] {
        let text: String
        if path == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read \(path): \(error.localizedDescription)")
            }
        }
        if asJSONLines || path == "-" || path.hasSuffix(".jsonl") || path.hasSuffix(".ndjson") {
            return JSONLines.split(text)
        }
        // A file of records one per line under another name is read as JSON lines, so that each
        // record's error names its own line instead of the whole file being "not JSON".
        let lines = JSONLines.split(text)
        // A pretty-printed record (a line that is only "{") keeps its one error for the whole file.
        if lines.count > 1, !lines.contains(where: { $0.json == "{" }),
            (try? JSONSerialization.jsonObject(with: Data(text.utf8))) == nil,
            lines.contains(where: { (try? JSONSerialization.jsonObject(with: Data($0.json.utf8))) is [String: Any] })
        {
            return lines
        }
        return [(1, text)]
    }
}
