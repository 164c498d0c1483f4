import DemandScreenRPC
import Synchronization
import Testing

/// `FairTurns`: at most its concurrency at once, and the waiting calls served round robin by
/// caller, then by subject, not first come first served.
@Suite struct FairTurnsTests {
    /// Work that runs until it is told to finish, recording the order in which pieces started.
    final class Recorder: Sendable {
        let started = Mutex<[String]>([])
        let running = Mutex(0)
        let mostAtOnce = Mutex(0)

        func begin(_ name: String) {
            started.withLock { $0.append(name) }
            let now = running.withLock {
                $0 += 1
                return $0
            }
            mostAtOnce.withLock { $0 = max($0, now) }
        }

        func end() { running.withLock { $0 -= 1 } }
    }

    /// Waits until `condition` holds (the tasks under test run on other threads).
    func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<2000 where !condition() { try await Task.sleep(for: .milliseconds(1)) }
        #expect(condition())
    }

    @Test func aFloodingCallerWaitsItsTurnsAndAnotherCallerGoesNext() async throws {
        let turns = FairTurns(concurrency: 1)
        let recorder = Recorder()
        let gate = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The first call holds the only turn until the gate opens.
            group.addTask {
                try await turns.run(caller: "flood", subject: "c-hot") {
                    recorder.begin("flood-0")
                    for await _ in gate.stream { break }
                    recorder.end()
                }
            }
            try await eventually { recorder.started.withLock { $0.count } == 1 }
            for index in 1...20 {
                group.addTask {
                    try await turns.run(caller: "flood", subject: "c-hot") {
                        recorder.begin("flood-\(index)")
                        recorder.end()
                    }
                }
            }
            try await eventually { turns.waiting == 20 }
            // A second claimant of the same caller, then another caller, arrive behind 20 calls.
            group.addTask {
                try await turns.run(caller: "flood", subject: "c-other") {
                    recorder.begin("flood-other")
                    recorder.end()
                }
            }
            try await eventually { turns.waiting == 21 }
            group.addTask {
                try await turns.run(caller: "victim", subject: "c-1") {
                    recorder.begin("victim")
                    recorder.end()
                }
            }
            try await eventually { turns.waiting == 22 }
            gate.continuation.yield()
            try await group.waitForAll()
        }
        let order = recorder.started.withLock { $0 }
        #expect(order.count == 23)
        // The victim's call runs second (after one flood call), not 23rd; the caller's other
        // claimant runs third, before the remaining repeats of the hot claimant.
        #expect(order[0] == "flood-0")
        #expect(order[1] == "flood-1")
        #expect(order[2] == "victim")
        #expect(order[3] == "flood-other")
        #expect(order[4...].allSatisfy { $0.hasPrefix("flood-") && $0 != "flood-other" })
        #expect(recorder.mostAtOnce.withLock { $0 } == 1)
        #expect(turns.waiting == 0)
    }

    @Test func noMoreThanTheConcurrencyRunAtOnce() async throws {
        let turns = FairTurns(concurrency: 3)
        let recorder = Recorder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    try await turns.run(caller: "caller-\(index % 4)", subject: "c-\(index % 7)") {
                        recorder.begin("\(index)")
                        try await Task.sleep(for: .milliseconds(1))
                        recorder.end()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(recorder.started.withLock { $0.count } == 40)
        #expect(recorder.mostAtOnce.withLock { $0 } == 3)
        #expect(turns.waiting == 0)
    }

    struct WorkFailed: Error {}

    /// A count shared by the tasks of a test.
    final class Tally: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        /// Adds `amount` and returns the new value.
        @discardableResult func add(_ amount: Int = 1) -> Int {
            count.withLock {
                $0 += amount
                return $0
            }
        }
    }

    /// A piece of work that throws gives its turn back: the turns after it still run.
    @Test func workThatThrowsGivesItsTurnBack() async throws {
        let turns = FairTurns(concurrency: 1)
        for _ in 0..<3 {
            await #expect(throws: WorkFailed.self) {
                try await turns.run(caller: "a", subject: "s") { () throws -> Int in throw WorkFailed() }
            }
        }
        #expect(try await turns.run(caller: "a", subject: "s") { 7 } == 7)
        #expect(turns.waiting == 0)
    }

    /// Calls cancelled while others finish: each call either runs or throws CancellationError,
    /// none is lost or resumed twice, and the turns all come back.
    @Test func cancellationsRacingTheTurnsLoseNoTurn() async throws {
        let turns = FairTurns(concurrency: 2)
        let ran = Tally()
        let cancelled = Tally()
        let tasks = (0..<200).map { index in
            Task {
                do {
                    try await turns.run(caller: "c-\(index % 3)", subject: "s-\(index % 5)") {
                        ran.add()
                        await Task.yield()
                    }
                } catch is CancellationError {
                    cancelled.add()
                }
            }
        }
        for (index, task) in tasks.enumerated() where index % 3 == 0 { task.cancel() }
        for task in tasks { try await task.value }
        #expect(ran.value + cancelled.value == 200)
        #expect(turns.waiting == 0)
        // Both turns are free: two pieces of work run side by side.
        let together = Tally()
        let recorder = Recorder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<2 {
                group.addTask {
                    try await turns.run(caller: "d", subject: "s") {
                        recorder.begin("\(index)")
                        together.add()
                        // Each holds its turn until both have begun (up to about two seconds): with a
                        // turn lost, the second could not begin while the first holds the other, and
                        // however slowly the machine schedules them, two free turns overlap.
                        for _ in 0..<2000 where together.value < 2 { try await Task.sleep(for: .milliseconds(1)) }
                        recorder.end()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(together.value == 2)
        #expect(recorder.mostAtOnce.withLock { $0 } == 2)
    }

    @Test func aCallCancelledWhileWaitingLeavesTheLine() async throws {
        let turns = FairTurns(concurrency: 1)
        let gate = AsyncStream<Void>.makeStream()
        let holding = Mutex(false)
        let holder = Task {
            try await turns.run(caller: "a", subject: "s") {
                holding.withLock { $0 = true }
                for await _ in gate.stream { break }
            }
        }
        try await eventually { holding.withLock { $0 } }
        let waiter = Task { try await turns.run(caller: "b", subject: "s") { "ran" } }
        try await eventually { turns.waiting == 1 }
        waiter.cancel()
        let outcome = await waiter.result
        #expect(throws: CancellationError.self) { try outcome.get() }
        #expect(turns.waiting == 0)
        gate.continuation.yield()
        try await holder.value
        // The turn is free again.
        #expect(try await turns.run(caller: "c", subject: "s") { "after" } == "after")
    }
}
