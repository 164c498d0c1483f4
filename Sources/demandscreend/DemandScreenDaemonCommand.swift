import ArgumentParser
import Configuration
import DemandScreenDaemon
import Foundation
import Logging

/// `demandscreend`: the screening daemon. With no arguments it serves the embedded default.
@main
struct DemandScreenDaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demandscreend",
        abstract: "The DemandScreen screening daemon (TLS, gRPC-style framing).",
        discussion: """
            With no arguments it listens on 127.0.0.1:7443 with TLS, creating a development CA, a server \
            certificate and agent/security tokens in its data folder on first start.
            Every option can also be set as DEMANDSCREEN_<KEY> in the environment or in a YAML file \
            (--config or DEMANDSCREEN_CONFIG); flags win over the environment, which wins over the file. \
            The README lists every key.
            """)

    @Option(help: "A YAML configuration file.") var config: String?
    @Option(help: "The data folder (default $XDG_DATA_HOME/demandscreen). Key: dataDirectory.") var dataDirectory: String?
    @Option(help: "The address to listen on (default 127.0.0.1). Key: listen.host.") var host: String?
    @Option(help: "The port to listen on (default 7443; 0 picks one). Key: listen.port.") var port: Int?
    @Option(help: "The server certificate chain (PEM). Key: tls.certificate.") var tlsCertificate: String?
    @Option(help: "The server private key (PEM). Key: tls.privateKey.") var tlsPrivateKey: String?
    @Option(help: "Accept client certificates issued by this CA (PEM). Key: tls.clientCA.") var tlsClientCA: String?
    @Option(help: "The oldest TLS version accepted: 1.3 (default) or 1.2. Key: tls.minimumVersion.") var tlsMinimumVersion: String?
    @Flag(help: "Serve without TLS; refused on anything but loopback. Key: insecurePlaintext.") var insecurePlaintext = false
    @Option(help: "A screening policy YAML (default: the built-in policy). Key: policy.file.") var policyFile: String?
    @Option(help: "The MeCab dictionary folder (default /var/lib/mecab/dic/ipadic-utf8). Key: judgment.mecabDictionary.")
    var mecabDictionary: String?
    @Option(help: "A threat model from 'demandscreen model train' (default: the built-in one). Key: judgment.threatModel.")
    var threatModel: String?
    @Option(
        help:
            "Where the history lives: sqlite:PATH (default in the data folder), postgresql://user@host:port/db, or none. Key: storage.url.")
    var storageUrl: String?
    @Option(help: "A folder of response templates laid over the built-in ones. Key: templates.directory.") var templatesDirectory: String?
    @Option(help: "Serve /healthz, /readyz and /metrics over HTTP on this port (default: none; 0 picks one). Key: ops.port.")
    var opsPort: Int?
    @Option(help: "trace, debug, info (default), notice, warning, error or critical. Key: log.level.") var logLevel: String?

    func run() async throws {
        var flags: [String: ConfigContent] = [:]
        flags["dataDirectory"] = dataDirectory.map(ConfigContent.string)
        flags["listen.host"] = host.map(ConfigContent.string)
        flags["listen.port"] = port.map(ConfigContent.int)
        flags["tls.certificate"] = tlsCertificate.map(ConfigContent.string)
        flags["tls.privateKey"] = tlsPrivateKey.map(ConfigContent.string)
        flags["tls.clientCA"] = tlsClientCA.map(ConfigContent.string)
        flags["tls.minimumVersion"] = tlsMinimumVersion.map(ConfigContent.string)
        flags["insecurePlaintext"] = insecurePlaintext ? .bool(true) : nil
        flags["policy.file"] = policyFile.map(ConfigContent.string)
        flags["judgment.mecabDictionary"] = mecabDictionary.map(ConfigContent.string)
        flags["judgment.threatModel"] = threatModel.map(ConfigContent.string)
        flags["templates.directory"] = templatesDirectory.map(ConfigContent.string)
        flags["log.level"] = logLevel.map(ConfigContent.string)
        flags["storage.url"] = storageUrl.map(ConfigContent.string)
        flags["ops.port"] = opsPort.map(ConfigContent.int)
        let configFile = config ?? ProcessInfo.processInfo.environment["DEMANDSCREEN_CONFIG"]
        let configuration: DaemonConfiguration
        do {
            configuration = try await DaemonConfiguration.load(flags: flags, configFile: configFile)
        } catch {
            Self.fail("configuration: \(error)", kind: error.kind)
        }
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "demandscreend")
        do {
            // SIGHUP reads the configuration again for the token list (auth.tokens).
            let reload: @Sendable () async throws -> DaemonConfiguration = { [flags] in
                try await DaemonConfiguration.load(flags: flags, configFile: configFile)
            }
            try await Daemon(configuration: configuration, logger: logger, reloadConfiguration: reload).run()
        } catch let error as DaemonError {
            Self.fail("\(error)", kind: error.kind)
        } catch {
            Self.fail("\(error)", kind: .unavailable)
        }
    }

    /// Says why the start failed and exits with the status of its kind (78: fix the
    /// configuration; 69: something needed is unavailable now).
    static func fail(_ message: String, kind: DaemonError.Kind) -> Never {
        FileHandle.standardError.write(Data("demandscreend: error: \(message)\n".utf8))
        Foundation.exit(kind.exitStatus)
    }
}
