public import DemandScreenRPC

/// A store that cannot do what was asked: it names the store and the problem. Calls that meet
/// one fail with UNAVAILABLE; at start, the daemon exits with it.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public let store: String
    public let problem: String

    public init(store: String, _ problem: String) {
        self.store = store
        self.problem = problem
    }

    public var description: String { "\(store): \(problem)" }
}

/// A request the store refuses because of what it asks, not because the store failed: a bad
/// page token, an unknown claimant, a note too long. Calls that meet one fail with
/// INVALID_ARGUMENT or NOT_FOUND and change nothing.
public struct StoreRequestError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        case invalidArgument
        case notFound
    }

    public let kind: Kind
    /// The request field at fault, as the .proto names it.
    public let field: String
    public let problem: String

    public init(_ kind: Kind, field: String, _ problem: String) {
        self.kind = kind
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(field): \(problem)" }
}

extension StorageError: CallErrorConvertible {
    public var callError: CallError { CallError(.unavailable, "storage unavailable: \(self)") }
}

extension StoreRequestError: CallErrorConvertible {
    public var callError: CallError {
        CallError(kind == .notFound ? .notFound : .invalidArgument, description)
    }
}

extension StoredRowError: CallErrorConvertible {
    public var callError: CallError { CallError(.internal, "stored data could not be read: \(self)") }
}
