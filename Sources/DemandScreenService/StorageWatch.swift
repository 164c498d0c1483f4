public import DemandScreenStorage
public import Logging

/// Turns storage failures into "not serving" and back: the first failure marks the daemon not
/// serving and starts probing the store with a real write every `probeInterval`; the first probe
/// that succeeds marks it serving again. Calls meanwhile fail fast with UNAVAILABLE.
public final class StorageWatch: Sendable {
    let store: ContactStore
    let servingState: ServingState
    let logger: Logger
    let probeInterval: Duration

    public init(store: ContactStore, servingState: ServingState, logger: Logger, probeInterval: Duration = .milliseconds(500)) {
        self.store = store
        self.servingState = servingState
        self.logger = logger
        self.probeInterval = probeInterval
    }

    /// The problem to fail a call with while the store is known to be down.
    var problem: String? { servingState.storageProblem }

    func reportFailure(_ error: any Error) {
        guard servingState.markStorageFailed("\(error)") else { return }
        logger.error("storage failed; not serving until it works again", metadata: ["error": "\(error)"])
        Task { await probeUntilRecovered() }
    }

    private func probeUntilRecovered() async {
        while true {
            try? await Task.sleep(for: probeInterval)
            do {
                try await store.checkHealth()
                servingState.markStorageRecovered()
                logger.notice("storage works again; serving", metadata: ["store": "\(store.name)"])
                return
            } catch {
                _ = servingState.markStorageFailed("\(error)")
            }
        }
    }
}
