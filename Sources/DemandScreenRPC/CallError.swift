/// A call's outcome, numbered as gRPC numbers its status codes.
public struct StatusCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    public static let ok = StatusCode(rawValue: 0)
    public static let cancelled = StatusCode(rawValue: 1)
    public static let unknown = StatusCode(rawValue: 2)
    public static let invalidArgument = StatusCode(rawValue: 3)
    public static let deadlineExceeded = StatusCode(rawValue: 4)
    public static let notFound = StatusCode(rawValue: 5)
    public static let alreadyExists = StatusCode(rawValue: 6)
    public static let permissionDenied = StatusCode(rawValue: 7)
    public static let resourceExhausted = StatusCode(rawValue: 8)
    public static let failedPrecondition = StatusCode(rawValue: 9)
    public static let aborted = StatusCode(rawValue: 10)
    public static let outOfRange = StatusCode(rawValue: 11)
    public static let unimplemented = StatusCode(rawValue: 12)
    public static let `internal` = StatusCode(rawValue: 13)
    public static let unavailable = StatusCode(rawValue: 14)
    public static let dataLoss = StatusCode(rawValue: 15)
    public static let unauthenticated = StatusCode(rawValue: 16)

    private static let names: [UInt32: String] = [
        0: "OK", 1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED",
        5: "NOT_FOUND", 6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED",
        9: "FAILED_PRECONDITION", 10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED",
        13: "INTERNAL", 14: "UNAVAILABLE", 15: "DATA_LOSS", 16: "UNAUTHENTICATED",
    ]

    /// gRPC's name for the code, e.g. "INVALID_ARGUMENT".
    public var name: String { Self.names[rawValue] ?? "CODE_\(rawValue)" }

    public var description: String { name }
}

/// An error that ends one call with a status; the connection and other calls go on.
public struct CallError: Error, Sendable, CustomStringConvertible {
    public var code: StatusCode
    /// What is wrong and where, for the caller.
    public var message: String
    /// The underlying error, for logs; never sent to the caller.
    public var cause: (any Error & Sendable)?
    /// Sent with the status as the response's metadata, e.g. `retry-after-ms`.
    public var metadata: [String: String]

    /// An error ending a call with `code` and `message`.
    public init(
        _ code: StatusCode, _ message: String, cause: (any Error & Sendable)? = nil, metadata: [String: String] = [:]
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.metadata = metadata
    }

    /// The response metadata key of a retry hint: how many milliseconds to wait before retrying.
    public static let retryAfterKey = "retry-after-ms"

    /// RESOURCE_EXHAUSTED with a retry hint of `retryAfter` (rounded up to whole milliseconds, at least 1).
    public static func resourceExhausted(_ message: String, retryAfter: Duration) -> CallError {
        let (seconds, attoseconds) = retryAfter.components
        let milliseconds = max(1, seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        return CallError(.resourceExhausted, message, metadata: [retryAfterKey: "\(milliseconds)"])
    }

    public var description: String { "\(code.name): \(message)" }
}

/// An error that knows which call status it ends a call with. Errors that a method's work can
/// throw (a refused record, a store that cannot take the write) conform where they are defined,
/// so that the server turns any of them into a status without knowing the method.
public protocol CallErrorConvertible: Error {
    /// The status and message the caller gets.
    var callError: CallError { get }
}

extension CallError: CallErrorConvertible {
    public var callError: CallError { self }
}
