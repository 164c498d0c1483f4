public import Configuration
public import DemandScreenRPC
public import DemandScreenServer
import EmbeddedDefaults
public import Foundation
import Morphology
public import Logging
public import NIOSSL
import SystemPackage

/// Everything `demandscreend` is told, from flags, then `DEMANDSCREEN_*` environment
/// variables, then the YAML configuration file, then the embedded defaults.
///
/// Keys (file form; the environment form is `DEMANDSCREEN_` + upper snake case, e.g.
/// `listen.port` → `DEMANDSCREEN_LISTEN_PORT`):
/// - `dataDirectory` (string): state, development PKI and tokens. Default `$XDG_DATA_HOME/demandscreen`.
/// - `listen.host` (string, default `127.0.0.1`), `listen.port` (int, default 7443).
/// - `tls.certificate`, `tls.privateKey` (PEM paths): the server's; unset = the development PKI.
/// - `tls.clientCA` (PEM path): accept client certificates issued by it; default the development CA
///   when the development PKI is in use, none otherwise.
/// - `tls.minimumVersion` (`1.3` default, or `1.2`), `tls.clientRoleAttribute` (`OU` default, or `CN`).
/// - `insecurePlaintext` (bool): no TLS; only a loopback `listen.host` is accepted.
/// - `auth.tokens` (list of `NAME:ROLE:SHA256HEX`): unset = the data folder's agent.token and security.token.
/// - `limits.maxFrameBytes` (int, default 4194304), `limits.maxConcurrentCallsPerConnection` (int, default 256).
/// - `limits.maxConnections` (int, default 4096), `limits.maxConnectionsPerAddress` (int, default 1024):
///   a connection beyond either is closed at once.
/// - `limits.maxCallsInFlight` (int, default 4096), `limits.maxCallsInFlightPerIdentity` (int, default 1024),
///   `limits.callsPerSecondPerIdentity` (int, default 0 = no rate limit) and `limits.callBurstPerIdentity`
///   (int, default the rate): beyond them a call gets RESOURCE_EXHAUSTED with `retry-after-ms`.
/// - `limits.handshakeTimeoutSeconds` (int, default 10), `limits.idleTimeoutSeconds` (int, default 300),
///   `limits.frameTimeoutSeconds` (int, default 30), `limits.maxBufferedResponseBytes` (int, default 4194304).
/// - `policy.file` (path): a screening policy YAML; unset = the built-in policy.
/// - `judgment.mecabDictionary` (path, default `/var/lib/mecab/dic/ipadic-utf8`): the MeCab dictionary
///   folder (Debian's `mecab-ipadic-utf8`); loaded once at start, which fails naming the path.
/// - `storage.url`: where the history lives: `sqlite:PATH` (default `sqlite:<dataDirectory>/demandscreen.sqlite`;
///   `?synchronous=normal` to skip the sync per commit), `postgresql://user[:password]@host:port/db`, or `none`.
/// - `storage.groupCommit` (bool, default true): one transaction for the calls that arrive together;
///   false writes one transaction per call (for comparison only).
/// - `templates.directory` (path): a folder of response templates laid over the built-in ones.
/// - `ops.port` (int): the operators' HTTP port (`/healthz`, `/readyz`, `/metrics`); unset = none.
///   `ops.host` (string, default `127.0.0.1`): where it listens.
/// - `log.level` (`trace` … `critical`, default `info`).
/// - `shutdown.gracePeriodSeconds` (int, default 30): how long calls in flight may take to finish.
public struct DaemonConfiguration: Sendable {
    public var dataDirectory: String
    public var host: String
    public var port: Int
    public var certificatePath: String?
    public var privateKeyPath: String?
    public var clientCAPath: String?
    public var minimumTLSVersion: TLSVersion
    public var clientRoleAttribute: Authenticator.CertificateRoleAttribute
    public var insecurePlaintext: Bool
    public var tokens: [BearerToken.Entry]?
    public var maximumPayloadLength: Int
    public var maximumConcurrentCallsPerConnection: Int
    public var limits: ServerConfiguration.Limits
    public var policyFile: String?
    public var mecabDictionary: String
    public var storageURL: String
    public var groupCommit: Bool
    public var templatesDirectory: String?
    /// Where the ops HTTP port listens; nil port = no ops port.
    public var opsHost: String
    public var opsPort: Int?
    public var logLevel: Logger.Level
    public var gracePeriodSeconds: Int

    /// Reads and checks every key; the first bad value is thrown, naming its key.
    public init(reader config: ConfigReader, environment: [String: String] = ProcessInfo.processInfo.environment) throws(DaemonError) {
        let settings = Settings(config: config)
        dataDirectory = settings.string("dataDirectory") ?? EmbeddedDefaults.dataDirectory(environment: environment)
        host = settings.string("listen.host") ?? EmbeddedDefaults.host
        port = try settings.int("listen.port", in: 0...65535) ?? EmbeddedDefaults.port
        certificatePath = settings.string("tls.certificate")
        privateKeyPath = settings.string("tls.privateKey")
        guard (certificatePath == nil) == (privateKeyPath == nil) else {
            throw DaemonError("tls.certificate and tls.privateKey must be set together")
        }
        clientCAPath = settings.string("tls.clientCA")
        switch settings.string("tls.minimumVersion") ?? "1.3" {
        case "1.3": minimumTLSVersion = .tlsv13
        case "1.2": minimumTLSVersion = .tlsv12
        case let other: throw DaemonError("tls.minimumVersion must be 1.3 or 1.2, got '\(other)'")
        }
        let attribute = settings.string("tls.clientRoleAttribute") ?? "OU"
        guard let roleAttribute = Authenticator.CertificateRoleAttribute(rawValue: attribute) else {
            throw DaemonError("tls.clientRoleAttribute must be OU or CN, got '\(attribute)'")
        }
        clientRoleAttribute = roleAttribute
        insecurePlaintext = try settings.bool("insecurePlaintext") ?? false
        if let entries = settings.strings("auth.tokens") {
            var tokens: [BearerToken.Entry] = []
            for (index, entry) in entries.enumerated() {
                do {
                    tokens.append(try BearerToken.Entry(configurationValue: entry))
                } catch {
                    throw DaemonError("auth.tokens[\(index)]: \(error)")
                }
            }
            self.tokens = tokens
        } else {
            tokens = nil
        }
        maximumPayloadLength = try settings.int("limits.maxFrameBytes", in: 1024...(64 << 20)) ?? (4 << 20)
        maximumConcurrentCallsPerConnection = try settings.int("limits.maxConcurrentCallsPerConnection", in: 1...65536) ?? 256
        let callsPerSecond = try settings.int("limits.callsPerSecondPerIdentity", in: 0...1_000_000) ?? 0
        limits = ServerConfiguration.Limits(
            maxConnections: try settings.int("limits.maxConnections", in: 1...1_000_000) ?? 4096,
            maxConnectionsPerAddress: try settings.int("limits.maxConnectionsPerAddress", in: 1...1_000_000) ?? 1024,
            calls: CallLimiter.Limits(
                maxCallsInFlight: try settings.int("limits.maxCallsInFlight", in: 1...1_000_000) ?? 4096,
                maxCallsInFlightPerIdentity: try settings.int("limits.maxCallsInFlightPerIdentity", in: 1...1_000_000) ?? 1024,
                callsPerSecondPerIdentity: callsPerSecond,
                callBurstPerIdentity: try settings.int("limits.callBurstPerIdentity", in: 1...1_000_000) ?? max(1, callsPerSecond)),
            handshakeTimeout: .seconds(try settings.int("limits.handshakeTimeoutSeconds", in: 1...3600) ?? 10),
            idleTimeout: .seconds(try settings.int("limits.idleTimeoutSeconds", in: 1...86400) ?? 300),
            frameTimeout: .seconds(try settings.int("limits.frameTimeoutSeconds", in: 1...3600) ?? 30),
            maxBufferedResponseBytes: try settings.int("limits.maxBufferedResponseBytes", in: 65536...(1 << 30)) ?? (4 << 20))
        policyFile = settings.string("policy.file")
        mecabDictionary = settings.string("judgment.mecabDictionary") ?? JapaneseAnalyzer.defaultDictionary
        storageURL =
            settings.string("storage.url")
            ?? "sqlite:" + EmbeddedDefaults.path(EmbeddedDefaults.File.database, in: dataDirectory)
        groupCommit = try settings.bool("storage.groupCommit") ?? true
        templatesDirectory = settings.string("templates.directory")
        opsHost = settings.string("ops.host") ?? EmbeddedDefaults.host
        opsPort = try settings.int("ops.port", in: 0...65535)
        let level = settings.string("log.level") ?? "info"
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw DaemonError("log.level must be one of trace, debug, info, notice, warning, error, critical; got '\(level)'")
        }
        self.logLevel = logLevel
        gracePeriodSeconds = try settings.int("shutdown.gracePeriodSeconds", in: 0...3600) ?? 30
    }

    /// The configuration reader for the daemon: `flags` first, then the environment's
    /// `DEMANDSCREEN_*` variables, then the YAML file at `configFile` if given.
    public static func reader(
        flags: [String: String],
        configFile: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws(DaemonError) -> ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in flags {
            values[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = .init(.string(value), isSecret: false)
        }
        let prefix = "DEMANDSCREEN_"
        var stripped: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix(prefix) && name != "DEMANDSCREEN_CONFIG" {
            stripped[String(name.dropFirst(prefix.count))] = value
        }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: values),
            EnvironmentVariablesProvider(environmentVariables: stripped, secretsSpecifier: .specific(["AUTH_TOKENS"])),
        ]
        if let configFile {
            guard FileManager.default.isReadableFile(atPath: configFile) else {
                throw DaemonError("cannot read the configuration file \(configFile)")
            }
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: .init(configFile)))
            } catch {
                throw DaemonError("the configuration file \(configFile) is not valid: \(error)")
            }
        }
        return ConfigReader(providers: providers)
    }
}

/// Typed reads that tell a missing value from a malformed one.
private struct Settings {
    let config: ConfigReader

    func string(_ key: String) -> String? {
        config.string(forKey: ConfigKey(key.split(separator: ".").map(String.init))).flatMap { $0.isEmpty ? nil : $0 }
    }

    func strings(_ key: String) -> [String]? {
        let configKey = ConfigKey(key.split(separator: ".").map(String.init))
        if let array = config.stringArray(forKey: configKey, isSecret: true) { return array }
        return string(key).map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws(DaemonError) -> Int? {
        let configKey = ConfigKey(key.split(separator: ".").map(String.init))
        let value: Int
        if let number = config.int(forKey: configKey) {
            value = number
        } else if let text = string(key) {
            guard let number = Int(text) else { throw DaemonError("\(key) must be a whole number, got '\(text)'") }
            value = number
        } else {
            return nil
        }
        guard range.contains(value) else {
            throw DaemonError("\(key) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    func bool(_ key: String) throws(DaemonError) -> Bool? {
        let configKey = ConfigKey(key.split(separator: ".").map(String.init))
        if let flag = config.bool(forKey: configKey) { return flag }
        guard let text = string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: throw DaemonError("\(key) must be true or false, got '\(text)'")
        }
    }
}

/// Why the daemon cannot start, in words an operator can act on.
public struct DaemonError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
