import DemandScreenAPI
import DemandScreenClient
import DemandScreenRPC
import DemandScreenTestSupport
import Foundation
import SwiftProtobuf
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real daemon's life: a drain under load on SIGTERM, certificates and tokens reloaded on
/// SIGHUP, the certificate's expiry on the ops port, and configuration mistakes refused at start.
@Suite(.serialized) struct LifecycleEndToEndTests {
    /// What the load's calls came back with.
    final class Outcomes: Sendable {
        private struct State {
            var ok: Set<String> = []
            var unavailable = 0
            var connectionEnded = 0
            var other: [String] = []
        }
        private let state = Mutex(State())
        let stop = Atomic<Bool>(false)

        func ok(_ id: String) { state.withLock { _ = $0.ok.insert(id) } }
        func unavailable() { state.withLock { $0.unavailable += 1 } }
        func ended() { state.withLock { $0.connectionEnded += 1 } }
        func other(_ text: String) { state.withLock { $0.other.append(text) } }
        var okIDs: Set<String> { state.withLock { $0.ok } }
        var unavailableCount: Int { state.withLock { $0.unavailable } }
        var others: [String] { state.withLock { $0.other } }
    }

    static func client(port: Int, data: String, ca: String? = nil, token: String? = nil) throws -> ClientConfiguration {
        ClientConfiguration(
            host: "127.0.0.1", port: port, transportSecurity: .tls(caPath: ca ?? data + "/dev-ca.pem"),
            bearerToken: try token
                ?? String(contentsOfFile: data + "/agent.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func record(_ template: DemandRecord) -> (id: String, bytes: Data) {
        var record = template
        record.recordID = "drain-\(UUID().uuidString)"
        record.claimantID = "claimant-\(record.recordID)"
        return (record.recordID, try! record.serializedBytes())
    }

    /// Runs `in flight` calls at a time on one connection until told to stop or the connection ends.
    static func load(_ configuration: ClientConfiguration, inFlight: Int, outcomes: Outcomes) async {
        let template = try! DemandRecord(
            jsonString: String(contentsOfFile: PackagePaths.example("gift-delivered-early.json"), encoding: .utf8))
        do {
            try await DemandScreenConnection.withConnection(to: configuration) { connection in
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<inFlight {
                        group.addTask {
                            while !outcomes.stop.load(ordering: .relaxed) {
                                let (id, bytes) = record(template)
                                do {
                                    let response = try await connection.call(MethodName.screen, message: bytes)
                                    switch response.status {
                                    case .ok: outcomes.ok(id)
                                    case .unavailable: outcomes.unavailable()
                                    default: outcomes.other("\(response.status): \(response.statusMessage)")
                                    }
                                } catch {
                                    outcomes.ended()
                                    return
                                }
                            }
                        }
                    }
                }
            }
        } catch {
            outcomes.ended()
        }
    }

    /// Contacts stored in a SQLite file, by record id.
    static func storedRecordIDs(_ database: String) async throws -> Set<String> {
        let output = try await runProgram(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute('SELECT record_id FROM contacts')]",
                database,
            ])
        return Set(output.lines)
    }

    /// What one request to `/readyz` met.
    enum ReadyzAnswer: Equatable {
        case status(Int)
        /// Nothing listens on the port any more.
        case closed
        /// The request failed otherwise (on a loaded machine the client can fail on its own).
        case failed(String)
    }

    static func readyz(_ ops: Int) async -> ReadyzAnswer {
        do {
            return .status(try await OpsEndToEndTests.get(ops, "/readyz", timeout: 2).status)
        } catch let error as URLError where error.code == .cannotConnectToHost {
            return .closed
        } catch {
            return .failed("\(error)")
        }
    }

    @Test func sigtermUnderLoadAnswersEveryAdmittedCallAndExitsCleanly() async throws {
        let data = try temporaryDirectory()
        let config = data + "/demandscreend.yaml"
        try "shutdown:\n  gracePeriodSeconds: 10\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(arguments: ["--port", "0", "--ops-port", "0", "--config", config], dataDirectory: data)
        let port = try #require(try await daemon.waitUntilReady(), "\(daemon.output)")
        let ops = try #require(daemon.opsPort)
        #expect(await Self.readyz(ops) == .status(200))

        let outcomes = Outcomes()
        let configuration = try Self.client(port: port, data: data)
        let clients = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { await Self.load(configuration, inFlight: 24, outcomes: outcomes) } }
            }
        }
        try await waitFor(timeout: .seconds(60)) { outcomes.okIDs.count >= 200 }

        let signalled = ContinuousClock.now
        kill(daemon.process.processIdentifier, SIGTERM)
        // Readiness turns as soon as the signal is handled (a request made within half a second of
        // it answers 503, however loaded the daemon), and never back, until the port closes. A
        // request that fails while the port still listens is asked again.
        var asked: [(after: Duration, answer: ReadyzAnswer)] = []
        while ContinuousClock.now - signalled < .seconds(3) {
            let after = ContinuousClock.now - signalled
            let answer = await Self.readyz(ops)
            asked.append((after, answer))
            if answer == .closed { break }
        }
        let statuses = asked.compactMap { ask -> (after: Duration, status: Int?)? in
            switch ask.answer {
            case .status(let status): (ask.after, status)
            case .closed: (ask.after, nil)
            case .failed: nil
            }
        }
        // Asked in time, the daemon must have said 503 at least once before its port closed: a
        // request that failed (the loaded client's) is forgiven only if another got the answer.
        if let first = asked.first, first.after < .milliseconds(500) {
            #expect(statuses.contains { $0.status == 503 }, "\(asked)")
        }
        // (Asked: the test's own tasks may be late to ask when the machine is busy.)
        let turned = try #require(statuses.firstIndex { $0.status != 200 }, "\(asked)")
        #expect(!statuses.contains { $0.after >= .milliseconds(500) && $0.status == 200 }, "\(asked)")
        #expect(statuses[turned].status == 503 || statuses[turned].after >= .milliseconds(500), "\(asked)")
        #expect(!statuses[turned...].contains { $0.status == 200 }, "\(asked)")
        // A connection made now is refused, or its call is.
        if let late = try? await DemandScreenConnection.withConnection(
            to: configuration,
            { connection in
                try await connection.call(MethodName.screen, message: Self.record(DemandRecord()).bytes)
            })
        {
            #expect(late.status == .unavailable, "\(late.status): \(late.statusMessage)")
        }

        let status = try await daemon.waitForExit(timeout: .seconds(15))
        let took = ContinuousClock.now - signalled
        outcomes.stop.store(true, ordering: .relaxed)
        await clients.value
        #expect(status == 0, "\(daemon.output)")
        // Exit 0 within the grace period (10 s; the margin is the test's own, on a busy machine).
        #expect(took < .seconds(15), "took \(took)")
        #expect(outcomes.others.isEmpty, "\(outcomes.others.prefix(5))")
        // Every call answered OK is stored, and nothing is stored that was not answered.
        let stored = try await Self.storedRecordIDs(data + "/demandscreen.sqlite")
        let answered = outcomes.okIDs
        #expect(stored.count == answered.count, "stored \(stored.count), answered OK \(answered.count)")
        #expect(stored == answered)
        #expect(daemon.output.contains("draining"))
        print("drain: \(answered.count) answered OK and stored, \(outcomes.unavailableCount) UNAVAILABLE, exit after \(took)")
    }

    /// A self-signed certificate for localhost and 127.0.0.1, valid for `days`, and its key.
    static func selfSigned(in directory: String, name: String, days: Int) async throws -> (certificate: String, key: String) {
        let certificate = directory + "/\(name).pem"
        let key = directory + "/\(name)-key.pem"
        try await runSystemCommand(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
                certificate, "-days", "\(days)", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
        return (certificate, key)
    }

    /// The SHA-256 fingerprint of a certificate file, or of the certificate a new TLS connection
    /// to `port` is shown.
    static func fingerprint(file: String? = nil, port: Int? = nil) async throws -> String {
        let source =
            if let file { "cat '\(file)'" } else {
                "openssl s_client -connect 127.0.0.1:\(port!) -servername localhost </dev/null 2>/dev/null"
            }
        let output = try await runProgram("/bin/sh", ["-c", "\(source) | openssl x509 -noout -fingerprint -sha256"])
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func replace(_ path: String, with source: String) throws {
        try Data(contentsOf: URL(fileURLWithPath: source)).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func metric(_ name: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test func sighupReloadsTheCertificateAndTokensWithoutDroppingConnections() async throws {
        let data = try temporaryDirectory()
        let first = try await Self.selfSigned(in: data, name: "first", days: 60)
        let second = try await Self.selfSigned(in: data, name: "second", days: 5)
        let trust = data + "/trust.pem"
        try (String(contentsOfFile: first.certificate, encoding: .utf8) + String(contentsOfFile: second.certificate, encoding: .utf8))
            .write(toFile: trust, atomically: true, encoding: .utf8)
        let certificate = data + "/server.pem"
        let key = data + "/server-key.pem"
        try Self.replace(certificate, with: first.certificate)
        try Self.replace(key, with: first.key)
        let tokens = (old: "old-token-\(UUID().uuidString)", new: "new-token-\(UUID().uuidString)")
        let config = data + "/demandscreend.yaml"
        func writeConfig(token: String) throws {
            let entry = BearerToken.Entry(name: "site-agent", role: .agent, sha256: BearerToken.hash(token)).configurationValue
            try "auth:\n  tokens:\n    - \"\(entry)\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        }
        try writeConfig(token: tokens.old)
        let daemon = try DaemonProcess(
            arguments: [
                "--port", "0", "--ops-port", "0", "--config", config, "--tls-certificate", certificate, "--tls-private-key", key,
            ],
            dataDirectory: data)
        let port = try #require(try await daemon.waitUntilReady(), "\(daemon.output)")
        let ops = try #require(daemon.opsPort)
        #expect(try await Self.fingerprint(port: port) == Self.fingerprint(file: first.certificate))
        // 60 days away: no warning, and the metric gives the expiry.
        let ready = try await OpsEndToEndTests.get(ops, "/readyz")
        #expect(ready.status == 200 && !ready.body.contains("certificate:"), "\(ready.body)")
        let firstExpiry = try #require(
            Self.metric("demandscreen_tls_certificate_expiry_seconds", in: try await OpsEndToEndTests.get(ops, "/metrics").body))
        #expect(abs(firstExpiry - (Date().timeIntervalSince1970 + 60 * 86_400)) < 600)

        let screen = try Self.record(
            DemandRecord(jsonString: String(contentsOfFile: PackagePaths.example("gift-delivered-early.json"), encoding: .utf8)))
        try await DemandScreenConnection.withConnection(to: try Self.client(port: port, data: data, ca: trust, token: tokens.old)) { open in
            #expect(try await open.call(MethodName.screen, message: screen.bytes).status == .ok)

            try Self.replace(certificate, with: second.certificate)
            try Self.replace(key, with: second.key)
            try writeConfig(token: tokens.new)
            kill(daemon.process.processIdentifier, SIGHUP)
            try await waitFor { daemon.output.contains("TLS certificate reloaded") && daemon.output.contains("tokens reloaded") }

            // The open connection still answers (its TLS session is the old one; calls are checked against the new tokens).
            let health = try await open.call(MethodName.healthCheck, message: HealthCheckRequest().serializedBytes())
            #expect(health.status == .ok)
            #expect(try await open.call(MethodName.screen, message: Self.record(DemandRecord()).bytes).status == .unauthenticated)
        }
        // A new connection is shown the new certificate and takes the new token, not the old one.
        #expect(try await Self.fingerprint(port: port) == Self.fingerprint(file: second.certificate))
        try await DemandScreenConnection.withConnection(to: try Self.client(port: port, data: data, ca: trust, token: tokens.new)) {
            connection in
            let response = try await connection.call(MethodName.screen, message: screen.bytes)
            #expect(response.status == .ok)
        }
        // 5 days away: /readyz warns (and stays 200), the metric follows.
        let warned = try await OpsEndToEndTests.get(ops, "/readyz")
        #expect(warned.status == 200)
        #expect(warned.body.contains("certificate: expires in 4 days"), "\(warned.body)")
        let secondExpiry = try #require(
            Self.metric("demandscreen_tls_certificate_expiry_seconds", in: try await OpsEndToEndTests.get(ops, "/metrics").body))
        #expect(abs(secondExpiry - (Date().timeIntervalSince1970 + 5 * 86_400)) < 600)

        // A broken certificate file is refused, named, and the certificate in force stays.
        try "not a certificate\n".write(toFile: certificate, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        try await waitFor { daemon.output.contains("TLS reload refused") }
        let refusal = try #require(daemon.output.split(separator: "\n").first { $0.contains("TLS reload refused") })
        #expect(refusal.contains(certificate), "\(refusal)")
        #expect(try await Self.fingerprint(port: port) == Self.fingerprint(file: second.certificate))
        try await DemandScreenConnection.withConnection(to: try Self.client(port: port, data: data, ca: trust, token: tokens.new)) {
            connection in
            let response = try await connection.call(MethodName.healthCheck, message: HealthCheckRequest().serializedBytes())
            #expect(response.status == .ok)
        }
        #expect(try await daemon.stop() == 0, "\(daemon.output)")
    }

    @Test func anUnknownKeyInTheConfigurationFileStopsTheStart() async throws {
        let data = try temporaryDirectory()
        let config = data + "/demandscreend.yaml"
        try "listen:\n  prot: 7443\n  host: 127.0.0.1\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(arguments: ["--port", "0", "--config", config], dataDirectory: data)
        #expect(try await daemon.waitForExit() == 78)
        #expect(daemon.output.contains("listen.prot"), "\(daemon.output)")
        #expect(!daemon.output.contains("listen.host"), "\(daemon.output)")

        let badType = data + "/bad-type.yaml"
        try "limits:\n  maxFrameBytes: lots\n".write(toFile: badType, atomically: true, encoding: .utf8)
        let typed = try DaemonProcess(arguments: ["--port", "0", "--config", badType], dataDirectory: data)
        #expect(try await typed.waitForExit() == 78)
        #expect(typed.output.contains("limits.maxFrameBytes must be a whole number, got 'lots'"), "\(typed.output)")
    }

    @Test func theStoragePasswordNeverReachesTheLog() async throws {
        let data = try temporaryDirectory()
        let password = "pw-\(UUID().uuidString.prefix(8))"
        // Nothing listens on port 1: the start fails, and says why, without the password.
        let daemon = try DaemonProcess(
            arguments: [
                "--port", "0", "--log-level", "trace", "--storage-url",
                "postgresql://demandscreen:\(password)@127.0.0.1:1/demandscreen?sslmode=disable",
            ],
            dataDirectory: data)
        #expect(try await daemon.waitForExit() == 69)
        #expect(daemon.output.contains("storage"), "\(daemon.output)")
        #expect(!daemon.output.contains(password), "\(daemon.output)")

        // A bad value of a secret key is named without being shown.
        let config = data + "/demandscreend.yaml"
        try "auth:\n  tokens: \"name:agent:\(password)\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let tokens = try DaemonProcess(arguments: ["--port", "0", "--config", config], dataDirectory: data)
        #expect(try await tokens.waitForExit() == 78)
        #expect(tokens.output.contains("auth.tokens"), "\(tokens.output)")
        #expect(!tokens.output.contains(password), "\(tokens.output)")
    }
}
