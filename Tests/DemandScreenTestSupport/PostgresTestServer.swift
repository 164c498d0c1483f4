import DemandScreenStorage
public import Foundation
import Logging
import PostgresNIO

/// PostgreSQL for the tests: the shared server that `Scripts/test.sh` starts (its URL in
/// `DEMANDSCREEN_TEST_POSTGRES_URL`), a fresh database on it per test, and private servers for
/// the tests that stop and restart theirs.
public enum PostgresTestServer {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The shared server's URL; the tests fail (not skip) without it, since both backends must
    /// pass the same suite.
    public static func sharedURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["DEMANDSCREEN_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw TestSetupError("DEMANDSCREEN_TEST_POSTGRES_URL is not set: run the tests with Scripts/test.sh, which starts PostgreSQL")
        }
        return url
    }

    /// A new, empty database on the server at `serverURL` (default the shared one); returns its URL.
    public static func createDatabase(on serverURL: String? = nil) async throws -> String {
        let server = try serverURL ?? sharedURL()
        guard case .postgres(let host, let port, let username, let password, let database, _) = try StorageLocation(url: server) else {
            throw TestSetupError("not a postgresql URL: \(server)")
        }
        let name = "demandscreen_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let admin = try await PostgresDatabase(
            host: host, port: port, username: username, password: password, database: database, tls: .disable,
            // CREATE DATABASE copies the template under a lock: many tests at once wait their turn.
            timeout: .seconds(120), logger: Logger(label: "test-postgres"))
        _ = try await admin.query(SQLStatement("CREATE DATABASE \(name)"))
        await admin.close()
        return "postgresql://\(username)@\(host):\(port)/\(name)?sslmode=disable"
    }

    /// A private server in its own folder, for tests that stop and restart it.
    public final class Private: Sendable {
        public let directory: String
        public let port: Int
        public let url: String

        public init() async throws {
            let directory = NSTemporaryDirectory() + "demandscreen-pg-" + UUID().uuidString.prefix(8)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let port = try freePort()
            self.directory = directory
            self.port = port
            url = try await offThePool { try Self.script(["start", directory + "/data", String(port)]) }
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        public func stop() async throws {
            let directory = directory
            _ = try await offThePool { try Self.script(["stop", directory + "/data"]) }
        }

        public func start() async throws {
            let (directory, port) = (directory, port)
            _ = try await offThePool { try Self.script(["start", directory + "/data", String(port)]) }
        }

        deinit {
            _ = try? Self.script(["stop", directory + "/data"])
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// Runs Scripts/postgres-server.sh and returns what it printed. (`system`, not `Process`:
        /// Foundation's `Process` can miss the exit of a script whose grandchild, the server,
        /// lives on.)
        static func script(_ arguments: [String]) throws -> String {
            let output = NSTemporaryDirectory() + "postgres-server-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: output) }
            let command =
                ([root.appendingPathComponent("Scripts/postgres-server.sh").path] + arguments)
                .map { "'" + $0 + "'" }.joined(separator: " ") + " > '\(output)'"
            let status = system(command)
            guard status == 0 else {
                throw TestSetupError("postgres-server.sh \(arguments.joined(separator: " ")) failed (status \(status))")
            }
            return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on right now.
public func freePort() throws -> Int {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard bound else { throw TestSetupError("cannot find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The test environment is not as the tests need it.
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
