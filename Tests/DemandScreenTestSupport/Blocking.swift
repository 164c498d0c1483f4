import Foundation

/// Runs `work`, which blocks (waits for a process, reads a pipe to its end), on a thread of its
/// own and waits for it without holding one of Swift concurrency's threads: the tests run side
/// by side in one process, and on a two-core machine two blocked threads would stop every other
/// test's tasks, their timers and deadlines included.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.start()
    }
}
