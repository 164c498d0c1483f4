import DemandScreenAPI
import Foundation
import SwiftProtobuf
import Testing

/// The daemon's response templates: an operator folder at start and on SIGHUP.
extension EndToEndTests {
    @Test func responseTemplatesReloadOnSIGHUPAndARefusedSetKeepsTheOld() async throws {
        let data = try temporaryDirectory()
        let templates = data + "/templates"
        try FileManager.default.createDirectory(atPath: templates + "/ja", withIntermediateDirectories: true)
        let confirmed = templates + "/ja/legitimate.confirmed.conversational.mustache"
        try "お詫び\n第一版\n".write(toFile: confirmed, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(arguments: ["--port", "0", "--templates-directory", templates], dataDirectory: data)
        let port = try #require(try await daemon.waitUntilReady(), "\(daemon.output)")
        let server = ["--server", "127.0.0.1:\(port)"]
        func response() async throws -> WrittenResponse {
            let output = try await runCLI(
                ["screen", try freshExample("gift-delivered-early.json", in: data)] + server, dataDirectory: data)
            return try ScreeningResult(jsonString: try #require(output.lines.first)).response
        }
        #expect(try await response().templateID == "ja/legitimate.confirmed.conversational")
        #expect(try await response().body == "第一版")

        try "お詫び\n第二版\n".write(toFile: confirmed, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        try await waitFor { daemon.output.contains("response templates reloaded") }
        #expect(try await response().body == "第二版")

        try "件名\n全面的に当社の責任です。\n".write(toFile: templates + "/ja/legitimate.written.mustache", atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        try await waitFor { daemon.output.contains("response templates reload refused") }
        #expect(daemon.output.contains("ja/legitimate.written.mustache"))
        #expect(try await response().body == "第二版")
        #expect(try await daemon.stop() == 0)

        let refused = try DaemonProcess(arguments: ["--port", "0", "--templates-directory", templates], dataDirectory: data)
        #expect(try await refused.waitForExit() == 78)
        #expect(refused.output.contains("ja/legitimate.written.mustache"), "\(refused.output)")
        #expect(refused.output.contains("全面的に当社の責任"))
    }
}

extension EndToEndTests {
    @Test func evaluateWritesTheResponseAndRefusesABadTemplateFolder() async throws {
        let data = try temporaryDirectory()
        let output = try await runCLI(["evaluate", PackagePaths.example("kneeling-and-exposure.json")], dataDirectory: data)
        #expect(output.status == 0, "\(output.stderr)")
        let response = try ScreeningResult(jsonString: try #require(output.lines.first)).response
        #expect(response.templateID == "ja/unjust.conversational")
        #expect(response.body.contains("これ以上のご要望にはお応えいたしかねます"))

        let templates = data + "/templates"
        try FileManager.default.createDirectory(atPath: templates + "/en", withIntermediateDirectories: true)
        try "Subject\nWe accept full responsibility and will compensate you.\n"
            .write(toFile: templates + "/en/needs-review.written.mustache", atomically: true, encoding: .utf8)
        let refused = try await runCLI(
            ["evaluate", PackagePaths.example("kneeling-and-exposure.json"), "--templates-directory", templates], dataDirectory: data)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("en/needs-review.written.mustache"))
        #expect(refused.stderr.contains("we accept full responsibility"))
    }
}
