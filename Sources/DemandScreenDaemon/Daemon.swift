import CoreMetrics
import DemandScreenOps
import DemandScreenRPC
import DemandScreenServer
import DemandScreenService
import DemandScreenStorage
import Dispatch
import EmbeddedDefaults
import Foundation
public import Logging
import Morphology
import Prometheus
import ResponseTemplates
import ScreeningEngine
import ServiceLifecycle
import UnixSignals

/// Assembles the daemon from its configuration: TLS material, credentials, policy, the server
/// and its services, run as one `ServiceGroup` that shuts down gracefully on SIGTERM or SIGINT
/// and reloads the policy and the response templates on SIGHUP.
public struct Daemon {
    let configuration: DaemonConfiguration
    let logger: Logger
    let reloadConfiguration: (@Sendable () async throws -> DaemonConfiguration)?

    /// `reloadConfiguration` reads the configuration again on SIGHUP, for the token list
    /// (`auth.tokens`); without it the tokens of the start stay.
    public init(
        configuration: DaemonConfiguration, logger: Logger,
        reloadConfiguration: (@Sendable () async throws -> DaemonConfiguration)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.reloadConfiguration = reloadConfiguration
    }

    /// Runs until a shutdown signal; throws a `DaemonError` when it cannot start.
    public func run() async throws {
        let site = DevelopmentSite(directory: configuration.dataDirectory)
        try site.prepareDirectory()

        let transportSecurity: ServerConfiguration.TransportSecurity
        var caForClients: String?
        if configuration.insecurePlaintext {
            transportSecurity = .insecurePlaintext
        } else if let certificatePath = configuration.certificatePath, let keyPath = configuration.privateKeyPath {
            transportSecurity = .tls(
                .init(
                    certificateChainPath: certificatePath, privateKeyPath: keyPath,
                    clientCAPath: configuration.clientCAPath, minimumVersion: configuration.minimumTLSVersion))
        } else {
            if try site.ensureCertificates() {
                logger.notice("created a development CA and a server certificate for localhost", metadata: ["folder": "\(site.directory)"])
            }
            caForClients = site.path(EmbeddedDefaults.File.certificateAuthority)
            transportSecurity = .tls(
                .init(
                    certificateChainPath: site.path(EmbeddedDefaults.File.serverCertificate),
                    privateKeyPath: site.path(EmbeddedDefaults.File.serverKey),
                    clientCAPath: configuration.clientCAPath ?? caForClients,
                    minimumVersion: configuration.minimumTLSVersion))
        }

        let tokens: [BearerToken.Entry]
        var tokenFiles: [String] = []
        if let configured = configuration.tokens {
            tokens = configured
        } else {
            tokens = try site.ensureTokens()
            tokenFiles = [EmbeddedDefaults.File.agentToken, EmbeddedDefaults.File.securityToken].map(site.path)
        }

        let analyzer: TextAnalyzer
        do {
            analyzer = try TextAnalyzer.shared(dictionary: configuration.mecabDictionary)
        } catch {
            throw DaemonError("judgment.mecabDictionary: \(error)")
        }
        let threatModel: ThreatModel?
        do {
            threatModel = try configuration.threatModelFile.map { file throws(ThreatModelError) in try ThreatModel(file: file) }
        } catch {
            throw DaemonError("judgment.threatModel: \(error)")
        }
        let policy = try Self.loadPolicy(file: configuration.policyFile)
        let engines = EngineHolder(ScreeningEngine(policy: policy, analyzer: analyzer, threatModel: threatModel))
        let responses = ResponseTemplateHolder(try Self.loadTemplates(directory: configuration.templatesDirectory))
        let servingState = ServingState()
        let location: StorageLocation
        do {
            location = try StorageLocation(url: configuration.storageURL)
        } catch {
            throw DaemonError("storage: \(error)")
        }
        let store: ContactStore?
        do {
            store = try await location.open(groupCommit: configuration.groupCommit, logger: logger)
        } catch {
            throw DaemonError("storage: \(error)", kind: .unavailable)
        }
        let storage = store.map { StorageWatch(store: $0, servingState: servingState, logger: logger) }
        var router = MethodRouter()
        ScreeningService(
            engines: engines, responses: responses, servingState: servingState, storage: storage,
            turns: FairTurns(concurrency: configuration.screensInProgress)
        ).register(on: &router)

        let server = DemandScreenServer(
            configuration: ServerConfiguration(
                host: configuration.host,
                port: configuration.port,
                transportSecurity: transportSecurity,
                maximumPayloadLength: configuration.maximumPayloadLength,
                maximumConcurrentCallsPerConnection: configuration.maximumConcurrentCallsPerConnection,
                limits: configuration.limits),
            router: router,
            authenticator: Authenticator(tokens: tokens, certificateRoleAttribute: configuration.clientRoleAttribute),
            logger: logger)

        let expiryWarningDays = configuration.expiryWarningDays
        let ops = configuration.opsPort.map { port in
            Self.opsServer(
                host: configuration.opsHost, port: port, location: location, servingState: servingState, logger: logger,
                certificateFacts: { Self.certificateFacts(notValidAfter: server.certificateNotValidAfter, warningDays: expiryWarningDays) })
        }

        var readinessMetadata: Logger.Metadata = [
            "policy": "\(policy.version)", "data": "\(site.directory)", "storage": "\(location)",
            "templates": "\(configuration.templatesDirectory ?? "builtin")",
        ]
        if let caForClients { readinessMetadata["ca"] = "\(caForClients)" }
        // Which model weighs the words, by its training fingerprint: replicas must agree.
        readinessMetadata["threatModel"] =
            engines.current.threatModel.map { "\(configuration.threatModelFile ?? "builtin") \($0.trainedOn.fingerprint)" }
            ?? "off (the policy has no threatModel)"
        if policy.threatModel == nil, let file = configuration.threatModelFile {
            logger.warning(
                "judgment.threatModel is set but the policy has no threatModel section: the model is not used",
                metadata: ["file": "\(file)"])
        }
        if !tokenFiles.isEmpty { readinessMetadata["tokens"] = "\(tokenFiles.joined(separator: ", "))" }
        let readiness = Readiness(server: server, ops: ops, servingState: servingState, logger: logger, metadata: readinessMetadata)
        let reloader = PolicyReloader(
            file: configuration.policyFile, analyzer: analyzer, threatModel: threatModel, engines: engines, logger: logger,
            templates: ResponseTemplatesReloader(directory: configuration.templatesDirectory, responses: responses, logger: logger),
            credentials: CredentialsReloader(
                server: server, site: site, roleAttribute: configuration.clientRoleAttribute,
                tokensFromFiles: configuration.tokens == nil, reloadConfiguration: reloadConfiguration, logger: logger))

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let store {
            // First in, last out: the store closes after the server has drained.
            services.append(.init(service: StoreKeeper(store: store, engines: engines, logger: logger)))
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services + [.init(service: reloader)] + (ops.map { [.init(service: $0)] } ?? []) + [
                .init(service: server),
                .init(service: readiness),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(configuration.gracePeriodSeconds)
        // Readiness turns the moment the signal arrives, on a dispatch queue of its own: the
        // service group's shutdown runs on the tasks that a loaded daemon keeps busy.
        let drainSignals = [SIGTERM, SIGINT].map { signal in
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler { servingState.markNotServing("shutting down") }
            source.resume()
            return source
        }
        defer {
            for source in drainSignals { source.cancel() }
        }
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch let error as ServerStartError {
            throw DaemonError(error.description, kind: error.isTransient ? .unavailable : .configuration)
        }
    }

    /// The ops port, with the process's metrics going to its registry: calls by method and status
    /// and their durations (counted by the server), verdicts, and how the store keeps what it is
    /// given (`demandscreen_storage_info{backend, durability}`), which `/readyz` also shows.
    static func opsServer(
        host: String, port: Int, location: StorageLocation, servingState: ServingState, logger: Logger,
        certificateFacts: @escaping @Sendable () -> [(name: String, value: String)] = { [] }
    ) -> OpsServer {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let durability = location.durability
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "demandscreen", subsystem: "storage", metricName: "info", unitName: "",
                helpText: "The store in use and how its commits reach the disk (always 1)"),
            labels: [("backend", location.backend), ("durability", durability)]
        ).set(to: 1)
        return OpsServer(host: host, port: port, registry: registry, logger: logger) {
            let state = servingState.current
            return OpsReadiness(
                ready: state.serving,
                facts: [("status", state.reason), ("storage", "\(location)"), ("durability", durability)] + certificateFacts())
        }
    }

    /// `/readyz`'s line on the server certificate once it expires within `warningDays`: a warning,
    /// not a reason to stop taking calls (every replica usually shares the certificate, and taking
    /// them all out of the load balancer at once would turn a warning into an outage).
    static func certificateFacts(notValidAfter: Date?, warningDays: Int, now: Date = Date()) -> [(name: String, value: String)] {
        guard let notValidAfter else { return [] }
        let seconds = notValidAfter.timeIntervalSince(now)
        if seconds <= 0 {
            let days = Int((-seconds / 86_400).rounded(.down))
            return [("certificate", "expired \(days) day\(days == 1 ? "" : "s") ago (\(Self.isoDate(notValidAfter)))")]
        }
        let days = Int((seconds / 86_400).rounded(.down))
        guard days < warningDays else { return [] }
        return [("certificate", "expires in \(days) day\(days == 1 ? "" : "s") (\(Self.isoDate(notValidAfter)))")]
    }

    static func isoDate(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    /// `demandscreen_tls_certificate_expiry_seconds`: when the server certificate in force expires (unix seconds).
    static func recordCertificateExpiry(_ notValidAfter: Date?) {
        guard let notValidAfter else { return }
        Gauge(label: "demandscreen_tls_certificate_expiry_seconds").record(notValidAfter.timeIntervalSince1970)
    }

    static func loadPolicy(file: String?) throws(DaemonError) -> ScreeningPolicy {
        guard let file else { return ScreeningPolicy.builtIn() }
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw DaemonError("cannot read the policy file \(file): \(error.localizedDescription)")
        }
        do {
            return try ScreeningPolicy(yaml: text)
        } catch {
            throw DaemonError("the policy file \(file) is invalid: \(error)")
        }
    }
}

/// Marks the daemon serving once the server (and the ops port, when there is one) listens,
/// logging where everything is, and not serving as soon as shutdown begins.
private struct Readiness: Service {
    let server: DemandScreenServer
    let ops: OpsServer?
    let servingState: ServingState
    let logger: Logger
    let metadata: Logger.Metadata

    func run() async throws {
        let address = try await server.boundAddress()
        var metadata = self.metadata
        metadata["address"] = "\(address)"
        if let ops { metadata["ops"] = "\(try await ops.boundAddress())" }
        if let notValidAfter = server.certificateNotValidAfter {
            Daemon.recordCertificateExpiry(notValidAfter)
            metadata["certificateExpires"] = "\(Daemon.isoDate(notValidAfter))"
        }
        servingState.markServing()
        logger.notice("demandscreend is ready", metadata: metadata)
        try? await gracefulShutdown()
        servingState.markNotServing("shutting down")
    }
}

/// Keeps the store for the daemon's lifetime: applies the policy's transcript retention at start
/// and every hour, and closes the store when the daemon stops.
private struct StoreKeeper: Service {
    let store: ContactStore
    let engines: EngineHolder
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await applyRetention()
                try? await Task.sleep(for: .seconds(3600))
            }
        }
        await store.close()
    }

    func applyRetention() async {
        let days = engines.current.policy.transcriptRetentionDays
        let before = Int64(Date().timeIntervalSince1970 * 1000) - Int64(days) * 86_400_000
        do {
            let purged = try await store.purgeTranscripts(before: before)
            if purged > 0 {
                logger.notice("retention: transcripts purged", metadata: ["contacts": "\(purged)", "olderThanDays": "\(days)"])
            }
        } catch {
            logger.error("retention purge failed; will try again in an hour", metadata: ["error": "\(error)"])
        }
    }
}

/// Reloads the policy file on SIGHUP, then the response templates. A broken file is refused,
/// with its line, and the policy in force stays; calls in flight finish on the engine they
/// started with.
private struct PolicyReloader: Service {
    let file: String?
    let analyzer: TextAnalyzer
    let threatModel: ThreatModel?
    let engines: EngineHolder
    let logger: Logger
    let templates: ResponseTemplatesReloader
    let credentials: CredentialsReloader

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                reload()
                templates.reload()
                await credentials.reload()
            }
        }
    }

    func reload() {
        guard let file else {
            logger.notice("SIGHUP: no policy file is configured; the built-in policy stays in force")
            return
        }
        do {
            let policy = try Daemon.loadPolicy(file: file)
            engines.replace(with: ScreeningEngine(policy: policy, analyzer: analyzer, threatModel: threatModel))
            logger.notice("policy reloaded", metadata: ["policy": "\(policy.version)", "file": "\(file)"])
        } catch {
            logger.error(
                "policy reload refused; the previous policy stays in force",
                metadata: ["error": "\(error)", "policy": "\(engines.current.policy.version)"])
        }
    }
}

/// Reloads on SIGHUP what the server authenticates with: the certificate chain, key and client
/// CA from their files (a new TLS context for new handshakes; open connections keep theirs), and
/// the token list (`auth.tokens` read again, or the data folder's token files). A missing or broken
/// file is refused, named in the log, and what was in force stays.
private struct CredentialsReloader {
    let server: DemandScreenServer
    let site: DevelopmentSite
    let roleAttribute: Authenticator.CertificateRoleAttribute
    let tokensFromFiles: Bool
    let reloadConfiguration: (@Sendable () async throws -> DaemonConfiguration)?
    let logger: Logger

    func reload() async {
        do {
            if let notValidAfter = try server.reloadTLS() {
                Daemon.recordCertificateExpiry(notValidAfter)
                logger.notice("TLS certificate reloaded", metadata: ["certificateExpires": "\(Daemon.isoDate(notValidAfter))"])
            }
        } catch {
            logger.error("TLS reload refused; the certificate in force stays", metadata: ["error": "\(error)"])
        }
        do {
            let tokens: [BearerToken.Entry]
            if let reloadConfiguration, let configured = try await reloadConfiguration().tokens {
                tokens = configured
            } else if tokensFromFiles || reloadConfiguration != nil {
                tokens = try site.ensureTokens()
            } else {
                return
            }
            server.replaceAuthenticator(Authenticator(tokens: tokens, certificateRoleAttribute: roleAttribute))
            logger.notice("tokens reloaded", metadata: ["tokens": "\(tokens.count)"])
        } catch {
            logger.error("token reload refused; the tokens in force stay", metadata: ["error": "\(error)"])
        }
    }
}
