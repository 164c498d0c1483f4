public import Configuration
public import DemandScreenRPC
public import DemandScreenServer
import EmbeddedDefaults
public import Foundation
public import Logging
import Morphology
public import NIOSSL
import SystemPackage
import Yams

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
/// - `tls.expiryWarningDays` (int, default 14): `/readyz` names the certificate's expiry this close to it.
/// - `insecurePlaintext` (bool): no TLS; only a loopback `listen.host` is accepted.
/// - `auth.tokens` (list of `NAME:ROLE:SHA256HEX`; secret): unset = the data folder's agent.token and security.token.
/// - `limits.maxFrameBytes` (int, default 4194304), `limits.maxConcurrentCallsPerConnection` (int, default 256).
/// - `limits.maxConnections` (int, default 4096), `limits.maxConnectionsPerAddress` (int, default 1024):
///   a connection beyond either is closed at once.
/// - `limits.maxCallsInFlight` (int, default 4096), `limits.maxCallsInFlightPerIdentity` (int, default 1024),
///   `limits.callsPerSecondPerIdentity` (int, default 0 = no rate limit) and `limits.callBurstPerIdentity`
///   (int, default the rate): beyond them a call gets RESOURCE_EXHAUSTED with `retry-after-ms`.
/// - `limits.screensInProgress` (int, default 32): Screen calls worked on at once; the others
///   wait and take turns by caller, and within a caller by claimant (`FairTurns`).
/// - `limits.handshakeTimeoutSeconds` (int, default 10), `limits.idleTimeoutSeconds` (int, default 300),
///   `limits.frameTimeoutSeconds` (int, default 30), `limits.maxBufferedResponseBytes` (int, default 4194304).
/// - `policy.file` (path): a screening policy YAML; unset = the built-in policy.
/// - `judgment.mecabDictionary` (path, default `/var/lib/mecab/dic/ipadic-utf8`): the MeCab dictionary
///   folder (Debian's `mecab-ipadic-utf8`); loaded once at start, which fails naming the path.
/// - `judgment.threatModel` (path): a threat model written by `demandscreen model train`, used
///   where the policy sets `threatModel`; unset = the built-in model. Loaded once at start.
/// - `storage.url` (secret): where the history lives: `sqlite:PATH` (default `sqlite:<dataDirectory>/demandscreen.sqlite`;
///   `?synchronous=normal` to skip the sync per commit), `postgresql://user[:password]@host:port/db`, or `none`.
/// - `storage.groupCommit` (bool, default true): one transaction for the calls that arrive together;
///   false writes one transaction per call (for comparison only).
/// - `templates.directory` (path): a folder of response templates laid over the built-in ones.
/// - `ops.port` (int): the operators' HTTP port (`/healthz`, `/readyz`, `/metrics`); unset = none.
///   `ops.host` (string, default `127.0.0.1`): where it listens.
/// - `log.level` (`trace` … `critical`, default `info`).
/// - `shutdown.gracePeriodSeconds` (int, default 30): how long calls in flight may take to finish.
///
/// A key in the YAML file that is none of these stops the start, naming it.
public struct DaemonConfiguration: Sendable {
    public var dataDirectory: String
    public var host: String
    public var port: Int
    public var certificatePath: String?
    public var privateKeyPath: String?
    public var clientCAPath: String?
    public var minimumTLSVersion: TLSVersion
    public var clientRoleAttribute: Authenticator.CertificateRoleAttribute
    /// `/readyz` names the server certificate's expiry once it is this many days away or less.
    public var expiryWarningDays: Int
    public var insecurePlaintext: Bool
    /// `auth.tokens`; nil: the data folder's development tokens.
    public var tokens: [BearerToken.Entry]?
    public var maximumPayloadLength: Int
    public var maximumConcurrentCallsPerConnection: Int
    /// The `limits.*` keys against hostile or broken clients.
    public var limits: ServerConfiguration.Limits
    /// Screen calls worked on at once (`limits.screensInProgress`).
    public var screensInProgress: Int
    public var policyFile: String?
    public var mecabDictionary: String
    /// A site's threat model file; nil = the built-in model.
    public var threatModelFile: String?
    public var storageURL: String
    public var groupCommit: Bool
    public var templatesDirectory: String?
    /// Where the ops HTTP port listens; nil port = no ops port.
    public var opsHost: String
    public var opsPort: Int?
    public var logLevel: Logger.Level
    public var gracePeriodSeconds: Int
    /// Every key this configuration read (to name a file's unknown keys).
    var keysRead: Set<String>

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
        expiryWarningDays = try settings.int("tls.expiryWarningDays", in: 0...3650) ?? 14
        insecurePlaintext = try settings.bool("insecurePlaintext") ?? false
        if let entries = try settings.strings("auth.tokens", secret: true) {
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
        screensInProgress =
            try settings.int("limits.screensInProgress", in: 1...65536) ?? FairTurns.defaultScreensInProgress
        policyFile = settings.string("policy.file")
        mecabDictionary = settings.string("judgment.mecabDictionary") ?? JapaneseAnalyzer.defaultDictionary
        threatModelFile = settings.string("judgment.threatModel")
        storageURL =
            settings.string("storage.url", secret: true)
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
        keysRead = settings.keysRead
    }

    /// The configuration reader for the daemon: `flags` first, then the environment's
    /// `DEMANDSCREEN_*` variables (each key prefixed with `demandscreen`, so `listen.port` reads
    /// `DEMANDSCREEN_LISTEN_PORT`), then the YAML file at `configFile` if given. `storage.url` and
    /// `auth.tokens` are secrets wherever they come from: the reader redacts them.
    public static func reader(
        flags: [String: ConfigContent],
        configFile: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws(DaemonError) -> ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, content) in flags {
            values[AbsoluteConfigKey(ConfigKey(key))] = .init(content, isSecret: secretKeys.contains(key))
        }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: values),
            EnvironmentVariablesProvider(
                environmentVariables: environment,
                secretsSpecifier: .specific(Set(secretKeys.map(environmentName)))
            ).prefixKeys(with: ConfigKey(environmentPrefix)),
        ]
        if let configFile {
            guard FileManager.default.isReadableFile(atPath: configFile) else {
                throw DaemonError("cannot read the configuration file \(configFile)")
            }
            do {
                providers.append(
                    try await FileProvider<YAMLSnapshot>(
                        parsingOptions: .init(secretsSpecifier: .specific(secretKeys)), filePath: .init(configFile)))
            } catch {
                throw DaemonError("the configuration file \(configFile) is not valid: \(error)")
            }
        }
        return ConfigReader(providers: providers)
    }

    /// Reads the configuration from `flags`, the environment and `configFile`, and refuses a file
    /// that sets a key the daemon does not read (a misspelt key would otherwise be ignored).
    public static func load(
        flags: [String: ConfigContent],
        configFile: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws(DaemonError) -> DaemonConfiguration {
        let reader = try await reader(flags: flags, configFile: configFile, environment: environment)
        let configuration = try DaemonConfiguration(reader: reader, environment: environment)
        if let configFile {
            let unknown = try fileKeys(configFile).filter { !configuration.keysRead.contains($0) }
            if !unknown.isEmpty {
                throw DaemonError(
                    "the configuration file \(configFile) sets \(unknown.count == 1 ? "a key" : "keys") the daemon does not know: "
                        + unknown.joined(separator: ", ") + " (the README lists every key)")
            }
        }
        return configuration
    }

    /// The keys whose values are secrets: never logged or shown.
    static let secretKeys: Set<String> = ["storage.url", "auth.tokens"]
    static let environmentPrefix = "demandscreen"

    /// `DEMANDSCREEN_` + the key in upper snake case.
    static func environmentName(_ key: String) -> String {
        var name = "DEMANDSCREEN"
        for component in ConfigKey(key).components {
            name += "_"
            var previous: Character?
            for character in component {
                if let previous, previous.isLowercase, character.isUppercase { name += "_" }
                name += character.uppercased()
                previous = character
            }
        }
        return name
    }

    /// The dotted keys a YAML configuration file sets (a mapping's leaves; a list is one value).
    static func fileKeys(_ file: String) throws(DaemonError) -> [String] {
        let node: Any?
        do {
            node = try Yams.load(yaml: try String(contentsOfFile: file, encoding: .utf8))
        } catch {
            throw DaemonError("the configuration file \(file) is not valid: \(error)")
        }
        var keys: [String] = []
        func walk(_ node: Any?, _ prefix: String) {
            guard let mapping = node as? [AnyHashable: Any] else {
                if !prefix.isEmpty { keys.append(prefix) }
                return
            }
            for (key, value) in mapping {
                let name = "\(key)"
                walk(value, prefix.isEmpty ? name : prefix + "." + name)
            }
        }
        walk(node, "")
        return keys.sorted()
    }
}

/// Typed reads through swift-configuration's getters that tell a missing value from a malformed
/// one (a value present in a form the getter cannot read stops the start, naming its key), and
/// remember which keys were read, so that a configuration file's unknown keys can be named.
private final class Settings {
    let config: ConfigReader
    private(set) var keysRead: Set<String> = []

    init(config: ConfigReader) {
        self.config = config
    }

    private func key(_ name: String) -> ConfigKey {
        keysRead.insert(name)
        return ConfigKey(name)
    }

    /// The value as text, for an error message (a secret is not shown).
    private func present(_ name: String, secret: Bool) -> String? {
        guard let text = config.string(forKey: ConfigKey(name), isSecret: secret), !text.isEmpty else { return nil }
        return secret ? "<secret>" : text
    }

    func string(_ name: String, secret: Bool = false) -> String? {
        config.string(forKey: key(name), isSecret: secret).flatMap { $0.isEmpty ? nil : $0 }
    }

    func strings(_ name: String, secret: Bool = false) throws(DaemonError) -> [String]? {
        if let array = config.stringArray(forKey: key(name), isSecret: secret) {
            let entries = array.filter { !$0.isEmpty }
            return entries.isEmpty ? nil : entries
        }
        if let text = present(name, secret: secret) {
            throw DaemonError("\(name) must be a list, got '\(text)'")
        }
        return nil
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws(DaemonError) -> Int? {
        guard let value = config.int(forKey: key(name)) else {
            if let text = present(name, secret: false) {
                throw DaemonError("\(name) must be a whole number, got '\(text)'")
            }
            return nil
        }
        guard range.contains(value) else {
            throw DaemonError("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    func bool(_ name: String) throws(DaemonError) -> Bool? {
        guard let flag = config.bool(forKey: key(name)) else {
            if let text = present(name, secret: false) {
                throw DaemonError("\(name) must be true or false, got '\(text)'")
            }
            return nil
        }
        return flag
    }
}

/// Why the daemon cannot start, in words an operator can act on.
public struct DaemonError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem stops the start, so that a supervisor can tell a setting to fix
    /// from a resource that may come back.
    public enum Kind: String, Sendable {
        /// A setting or file the operator must fix (a key or value, the policy, the templates, TLS
        /// material, the dictionary): restarting does not help. Exit status 78 (EX_CONFIG).
        case configuration
        /// Something the daemon needs is not there now (the store cannot be reached or is locked,
        /// the port is taken): a later start may succeed. Exit status 69 (EX_UNAVAILABLE).
        case unavailable

        /// The exit status the daemon ends with (sysexits.h).
        public var exitStatus: Int32 { self == .configuration ? 78 : 69 }
    }

    public var kind: Kind
    public var description: String

    public init(_ description: String, kind: Kind = .configuration) {
        self.kind = kind
        self.description = description
    }
}
