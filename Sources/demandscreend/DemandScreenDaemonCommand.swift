import ArgumentParser
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
    @Option(help: "Where the history lives: sqlite:PATH (default in the data folder), postgresql://user@host:port/db, or none. Key: storage.url.")
    var storageUrl: String?
    @Option(help: "A folder of response templates laid over the built-in ones. Key: templates.directory.") var templatesDirectory: String?
    @Option(help: "Serve /healthz, /readyz and /metrics over HTTP on this port (default: none; 0 picks one). Key: ops.port.")
    var opsPort: Int?
    @Option(help: "trace, debug, info (default), notice, warning, error or critical. Key: log.level.") var logLevel: String?

    func run() async throws {
        var flags: [String: String] = [:]
        flags["dataDirectory"] = dataDirectory
        flags["listen.host"] = host
        flags["listen.port"] = port.map(String.init)
        flags["tls.certificate"] = tlsCertificate
        flags["tls.privateKey"] = tlsPrivateKey
        flags["tls.clientCA"] = tlsClientCA
        flags["tls.minimumVersion"] = tlsMinimumVersion
        flags["insecurePlaintext"] = insecurePlaintext ? "true" : nil
        flags["policy.file"] = policyFile
        flags["judgment.mecabDictionary"] = mecabDictionary
        flags["templates.directory"] = templatesDirectory
        flags["log.level"] = logLevel
        flags["storage.url"] = storageUrl
        flags["ops.port"] = opsPort.map(String.init)
        let configuration: DaemonConfiguration
        do {
            let reader = try await DaemonConfiguration.reader(
                flags: flags, configFile: config ?? ProcessInfo.processInfo.environment["DEMANDSCREEN_CONFIG"])
            configuration = try DaemonConfiguration(reader: reader)
        } catch {
            Self.fail("configuration: \(error)")
        }
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "demandscreend")
        do {
            try await Daemon(configuration: configuration, logger: logger).run()
        } catch {
            Self.fail("\(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("demandscreend: error: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
