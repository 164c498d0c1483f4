import ScreeningEngine
import Synchronization

/// The complaints a store has seen stored, as a batch's reads group them (`Complaint.comparedAs`):
/// written through it, or found by a batch's look. A batch looks at their newest contacts at
/// once; of the others it first asks whether any is stored (`ComplaintKeys.presence`). Forgetting
/// one costs that question, never a sighting; so when it holds `capacity` it starts anew (at most
/// about 5 MB: a description holds at most 1 KB, a product key 256 bytes).
final class KnownComplaints: Sendable {
    static let capacity = 4096
    private let known = Mutex(Set<Complaint>())

    /// The indices whose complaint in `complaints` is known.
    func filter(_ indices: Range<Int>, by complaints: [Complaint]) -> [Int] {
        known.withLock { known in indices.filter { known.contains(complaints[$0]) } }
    }

    func insert(_ complaints: some Sequence<Complaint>) {
        known.withLock { known in
            for complaint in complaints {
                if known.count >= Self.capacity { known.removeAll(keepingCapacity: true) }
                known.insert(complaint)
            }
        }
    }
}
