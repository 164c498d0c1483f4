import CoreMetrics
public import DemandScreenRPC
import Synchronization

/// Why a new connection was closed at once; the raw value is the metrics label.
public enum ConnectionRefusal: String, Sendable, CaseIterable {
    case maxConnections = "max_connections"
    case maxConnectionsPerAddress = "max_connections_per_address"
}

/// Why the server closed an admitted connection; the raw value is the metrics label.
public enum ConnectionClosure: String, Sendable, CaseIterable {
    case handshakeTimeout = "handshake_timeout"
    case idleTimeout = "idle_timeout"
    case frameTimeout = "frame_timeout"
    case slowReader = "slow_reader"
}

/// What the limits have done since the server started, as the server counts it (the same counts
/// go to the metrics).
public struct LimitStatistics: Sendable {
    /// Connections open now, and the most open at once.
    public var openConnections = 0
    public var peakOpenConnections = 0
    /// New connections closed at once by a connection limit, by limit.
    public var connectionsRefused: [ConnectionRefusal: Int] = [:]
    /// Connections the server closed (timeouts, slow readers), by reason.
    public var connectionsClosed: [ConnectionClosure: Int] = [:]
    /// Times a connection's unsent answers passed `maxBufferedResponseBytes` and the server
    /// stopped reading it.
    public var readsPaused = 0
    /// The most answer bytes one connection had waiting in the server at a time.
    public var peakBufferedResponseBytes = 0
    /// Calls answered RESOURCE_EXHAUSTED by a call limit, by limit.
    public var callsRefused: [CallLimiter.Refusal: Int] = [:]
    /// Calls in flight now.
    public var callsInFlight = 0
}

/// The server's count of connections (in total and per source address) and of what its limits
/// refused or closed, kept for `DemandScreenServer.limitStatistics` and the metrics:
/// `demandscreen_connections`, `demandscreen_connections_refused_total{reason}`,
/// `demandscreen_connections_closed_total{reason}`, `demandscreen_reads_paused_total`,
/// `demandscreen_calls_refused_total{reason}`, `demandscreen_calls_in_flight`.
final class LimitAccounting: Sendable {
    private struct State {
        var perAddress: [String: Int] = [:]
        var statistics = LimitStatistics()
    }

    private let maxConnections: Int
    private let maxConnectionsPerAddress: Int
    private let state = Mutex(State())
    // Made at each use, as the metrics system may be bootstrapped after the server is made.
    private var openConnections: Meter { Meter(label: "demandscreen_connections") }
    private var callsInFlight: Meter { Meter(label: "demandscreen_calls_in_flight") }

    init(maxConnections: Int, maxConnectionsPerAddress: Int) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
    }

    var statistics: LimitStatistics { state.withLock { $0.statistics } }

    /// Counts a new connection from `address`, or says why it must be closed.
    func admitConnection(from address: String) -> ConnectionRefusal? {
        let refusal: ConnectionRefusal? = state.withLock { state in
            if state.statistics.openConnections >= maxConnections { return .maxConnections }
            let fromAddress = state.perAddress[address, default: 0]
            if fromAddress >= maxConnectionsPerAddress { return .maxConnectionsPerAddress }
            state.perAddress[address] = fromAddress + 1
            state.statistics.openConnections += 1
            state.statistics.peakOpenConnections = max(state.statistics.peakOpenConnections, state.statistics.openConnections)
            return nil
        }
        if let refusal {
            state.withLock { $0.statistics.connectionsRefused[refusal, default: 0] += 1 }
            Counter(label: "demandscreen_connections_refused_total", dimensions: [("reason", refusal.rawValue)]).increment()
        } else {
            openConnections.increment()
        }
        return refusal
    }

    /// Uncounts an admitted connection that has closed.
    func connectionClosed(from address: String) {
        state.withLock { state in
            state.statistics.openConnections -= 1
            let left = state.perAddress[address, default: 1] - 1
            state.perAddress[address] = left > 0 ? left : nil
        }
        openConnections.decrement()
    }

    func closed(_ reason: ConnectionClosure) {
        state.withLock { $0.statistics.connectionsClosed[reason, default: 0] += 1 }
        Counter(label: "demandscreen_connections_closed_total", dimensions: [("reason", reason.rawValue)]).increment()
    }

    func readsPaused() {
        state.withLock { $0.statistics.readsPaused += 1 }
        Counter(label: "demandscreen_reads_paused_total").increment()
    }

    func bufferedResponseBytes(_ bytes: Int) {
        state.withLock { $0.statistics.peakBufferedResponseBytes = max($0.statistics.peakBufferedResponseBytes, bytes) }
    }

    func callAdmitted() {
        callsInFlight.increment()
    }

    func callFinished() {
        callsInFlight.decrement()
    }

    func callRefused(_ reason: CallLimiter.Refusal) {
        state.withLock { $0.statistics.callsRefused[reason, default: 0] += 1 }
        Counter(label: "demandscreen_calls_refused_total", dimensions: [("reason", reason.rawValue)]).increment()
    }
}
