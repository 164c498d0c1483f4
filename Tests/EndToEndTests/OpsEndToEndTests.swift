import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The operators' HTTP port of the real daemon: liveness, readiness with the store's durability,
/// and Prometheus metrics that count real calls.
@Suite struct OpsEndToEndTests {
    /// GET (or another method) on the ops port: status and body.
    static func get(
        _ port: Int, _ path: String, method: String = "GET", timeout: TimeInterval = 60
    ) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!, timeoutInterval: timeout)
        request.httpMethod = method
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func healthReadinessAndMetricsAnswerOnTheOpsPort() async throws {
        let data = try temporaryDirectory()
        let daemon = try DaemonProcess(arguments: ["--port", "0", "--ops-port", "0"], dataDirectory: data)
        let port = try #require(try await daemon.waitUntilReady(), "\(daemon.output)")
        let ops = try #require(daemon.opsPort, "the ready line names the ops port: \(daemon.output)")

        #expect(try await Self.get(ops, "/healthz") == (200, "ok\n"))
        let ready = try await Self.get(ops, "/readyz")
        #expect(ready.status == 200)
        #expect(ready.body.hasPrefix("ready\n"))
        #expect(ready.body.contains("durability: synchronous=FULL"))
        #expect(try await Self.get(ops, "/nowhere").status == 404)
        #expect(try await Self.get(ops, "/metrics", method: "POST").status == 405)

        let example = try freshExample("kneeling-and-exposure.json", in: data)
        #expect(try await runCLI(["screen", example, "--server", "127.0.0.1:\(port)"], dataDirectory: data).status == 0)
        let metrics = try await Self.get(ops, "/metrics")
        #expect(metrics.status == 200)
        let lines = Set(metrics.body.split(separator: "\n").map(String.init))
        #expect(lines.contains(#"demandscreen_calls_total{method="/demandscreen.v1.Screening/Screen",code="OK"} 1"#), "\(metrics.body)")
        #expect(lines.contains(#"demandscreen_screened_total{verdict="VERDICT_UNJUST_DEMAND",risk="RISK_HIGH"} 1"#), "\(metrics.body)")
        #expect(lines.contains(#"demandscreen_storage_info{backend="sqlite",durability="synchronous=FULL"} 1.0"#), "\(metrics.body)")
        #expect(lines.contains("demandscreen_ready 1.0"), "\(metrics.body)")
        #expect(metrics.body.contains(#"demandscreen_call_duration_seconds_count{method="/demandscreen.v1.Screening/Screen"} 1"#))
        #expect(try await daemon.stop() == 0)
    }

    @Test func theSQLiteNormalOptInIsReportedByReadinessAndMetrics() async throws {
        let data = try temporaryDirectory()
        let daemon = try DaemonProcess(
            arguments: ["--port", "0", "--ops-port", "0", "--storage-url", "sqlite:\(data)/fast.sqlite?synchronous=normal"],
            dataDirectory: data)
        _ = try #require(try await daemon.waitUntilReady(), "\(daemon.output)")
        let ops = try #require(daemon.opsPort)
        #expect(try await Self.get(ops, "/readyz").body.contains("durability: synchronous=NORMAL"))
        #expect(
            try await Self.get(ops, "/metrics").body.contains(
                #"demandscreen_storage_info{backend="sqlite",durability="synchronous=NORMAL"} 1.0"#))
        #expect(try await daemon.stop() == 0)
    }
}
