/// Runs many calls' database work as one: submissions that arrive while a batch is running wait
/// for the next one, which takes them all (up to `maximumBatch`). For writes this is group
/// commit (one transaction and one sync for many calls); for reads, one trip to the database's
/// threads or connection instead of one per call. Each submitter gets its own outcome, or the
/// error of the batch it was in.
actor Batcher<Submission: Sendable, Outcome: Sendable> {
    typealias Run = @Sendable ([Submission]) async throws -> [Outcome]

    private let run: Run
    private let maximumBatch: Int
    private var pending: [(Submission, CheckedContinuation<Outcome, any Error>)] = []
    private var writing = false

    init(maximumBatch: Int, run: @escaping Run) {
        self.maximumBatch = maximumBatch
        self.run = run
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
                let outcomes = try await run(batch.map { $0.0 })
                for (entry, outcome) in zip(batch, outcomes) { entry.1.resume(returning: outcome) }
            } catch {
                for entry in batch { entry.1.resume(throwing: error) }
            }
        }
        writing = false
    }
}
