/// Group commit: submissions that arrive while a transaction is being written wait for the next
/// one, which takes them all (up to `maximumBatch`), so that one sync covers many calls. Each
/// submitter gets its own outcome, or the error of the transaction it was in.
actor GroupCommitter<Submission: Sendable, Outcome: Sendable> {
    typealias Commit = @Sendable ([Submission]) async throws -> [Outcome]

    private let commit: Commit
    private let maximumBatch: Int
    private var pending: [(Submission, CheckedContinuation<Outcome, any Error>)] = []
    private var writing = false

    init(maximumBatch: Int, commit: @escaping Commit) {
        self.maximumBatch = maximumBatch
        self.commit = commit
    }

    func submit(_ submission: Submission) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((submission, continuation))
            if !writing {
                writing = true
                Task { await self.writeAll() }
            }
        }
    }

    private func writeAll() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maximumBatch))
            pending.removeFirst(batch.count)
            do {
                let outcomes = try await commit(batch.map(\.0))
                for (entry, outcome) in zip(batch, outcomes) { entry.1.resume(returning: outcome) }
            } catch {
                for entry in batch { entry.1.resume(throwing: error) }
            }
        }
        writing = false
    }
}
