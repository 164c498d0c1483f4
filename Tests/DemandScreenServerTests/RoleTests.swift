import DemandScreenAPI
import DemandScreenClient
import DemandScreenDaemon
import DemandScreenRPC
import DemandScreenServer
import DemandScreenTestSupport
import DemandScreenWire
import Foundation
import Logging
import NIOSSL
import SwiftProtobuf
import Testing

/// Who may call what, over real TLS: tokens, client certificates, and neither.
@Suite struct RoleTests {
    enum Credential: Sendable, CustomTestStringConvertible {
        case none
        case token(String)
        case certificate(role: String)
        case malformedHeader
        var testDescription: String {
            switch self {
            case .none: "no credential"
            case .token(let token): "token \(token.prefix(8))"
            case .certificate(let role): "certificate OU=\(role)"
            case .malformedHeader: "authorization: Basic"
            }
        }
    }

    @Test(arguments: [
        (Credential.none, MethodName.screen, StatusCode.unauthenticated),
        (.token("not-a-known-token"), MethodName.screen, .unauthenticated),
        (.malformedHeader, MethodName.screen, .unauthenticated),
        (.token(TestTokens.agent), MethodName.screen, .ok),
        (.token(TestTokens.security), MethodName.screen, .ok),
        (.token(TestTokens.ops), MethodName.screen, .permissionDenied),
        (.token(TestTokens.agent), MethodName.getClaimantRisk, .permissionDenied),
        (.token(TestTokens.agent), MethodName.listRiskFlags, .permissionDenied),
        (.token(TestTokens.security), MethodName.getClaimantRisk, .invalidArgument),
        (Credential.none, MethodName.getClaimantRisk, .unauthenticated),
        (Credential.none, MethodName.healthCheck, .ok),
        (.token(TestTokens.ops), MethodName.healthCheck, .ok),
        (.certificate(role: "agent"), MethodName.screen, .ok),
        (.certificate(role: "agent"), MethodName.getClaimantRisk, .permissionDenied),
        (.certificate(role: "security"), MethodName.getClaimantRisk, .invalidArgument),
        (.certificate(role: "intruder"), MethodName.screen, .unauthenticated),
    ])
    func access(credential: Credential, method: String, expected: StatusCode) async throws {
        let pki = try TestPKI()
        try await withTestServer(transportSecurity: pki.tls()) { port, _ in
            var token: String?
            var certificate: (certificate: String, key: String)?
            var metadata: [String: String] = [:]
            switch credential {
            case .none: break
            case .token(let value): token = value
            case .certificate(let role): certificate = try pki.clientCertificate(role: role)
            case .malformedHeader: metadata["authorization"] = "Basic dXNlcjpwYXNz"
            }
            let configuration = clientConfiguration(port: port, pki: pki, token: token, certificate: certificate)
            try await DemandScreenConnection.withConnection(to: configuration) { client in
                let message: Data =
                    method == MethodName.screen
                    ? try sampleRecord().serializedBytes()
                    : method == MethodName.healthCheck ? try HealthCheckRequest().serializedBytes() : Data()
                let response = try await client.call(method, message: message, metadata: metadata)
                #expect(response.status == expected, "\(response.status.name): \(response.statusMessage)")
            }
        }
    }

    @Test func aCertificateFromAnotherCAIsRefusedAtTheHandshake() async throws {
        let pki = try TestPKI()
        let stranger = try DevelopmentCertificateAuthority(commonName: "Somebody else's CA")
        try await withTestServer(transportSecurity: pki.tls()) { port, _ in
            let certificate = try pki.clientCertificate(role: "security", from: stranger)
            await #expect(throws: (any Error).self) {
                try await DemandScreenConnection.withConnection(
                    to: clientConfiguration(port: port, pki: pki, token: nil, certificate: certificate)
                ) { client in
                    try await client.call(MethodName.healthCheck, message: Data())
                }
            }
        }
    }

    @Test func tlsBelowTheMinimumIsRefused() async throws {
        let pki = try TestPKI()
        try await withTestServer(transportSecurity: pki.tls()) { port, _ in
            #expect(await tls12Handshake(port: port, pki: pki) == false)
        }
        try await withTestServer(transportSecurity: pki.tls(minimumVersion: .tlsv12)) { port, _ in
            #expect(await tls12Handshake(port: port, pki: pki) == true)
        }
    }

    /// Whether a client limited to TLS 1.2 completes a health call.
    func tls12Handshake(port: Int, pki: TestPKI) async -> Bool {
        var configuration = clientConfiguration(port: port, pki: pki)
        configuration.maximumTLSVersion = .tlsv12
        do {
            return try await DemandScreenConnection.withConnection(to: configuration) { client in
                try await client.call(MethodName.healthCheck, message: Data()).status == .ok
            }
        } catch {
            return false
        }
    }

    @Test func tokenEntriesAreParsedStrictly() throws {
        let hash = BearerToken.hash("x")
        #expect(try BearerToken.Entry(configurationValue: "n:agent:\(hash)").role == .agent)
        #expect(throws: ConfigurationValueError.self) { try BearerToken.Entry(configurationValue: "n:root:\(hash)") }
        #expect(throws: ConfigurationValueError.self) { try BearerToken.Entry(configurationValue: "n:agent:abc") }
        #expect(throws: ConfigurationValueError.self) { try BearerToken.Entry(configurationValue: "agent:\(hash)") }
    }

    @Test func tokenEntriesPrintTheFormTheyAreParsedFrom() throws {
        let entry = BearerToken.Entry(name: "ivr", role: .agent, sha256: BearerToken.hash(BearerToken.generate()))
        #expect(try BearerToken.Entry(configurationValue: entry.configurationValue) == entry)
    }

    @Test func statusCodesHaveGRPCNumbersAndNames() {
        #expect(StatusCode.invalidArgument.rawValue == 3)
        #expect(StatusCode.deadlineExceeded.rawValue == 4)
        #expect(StatusCode.permissionDenied.rawValue == 7)
        #expect(StatusCode.unimplemented.rawValue == 12)
        #expect(StatusCode.unauthenticated.rawValue == 16)
        #expect(StatusCode(rawValue: 14).name == "UNAVAILABLE")
    }
}
