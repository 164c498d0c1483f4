public import Foundation
public import Logging

/// What the server knows about one call while its handler runs.
public struct CallContext: Sendable {
    public var callID: UInt64
    public var method: String
    public var metadata: [String: String]
    /// Nil for methods that admit anyone.
    public var caller: CallerIdentity?
    /// When the call must have answered; nil when the client set no timeout.
    public var deadline: ContinuousClock.Instant?
    public var logger: Logger

    public init(
        callID: UInt64,
        method: String,
        metadata: [String: String],
        caller: CallerIdentity?,
        deadline: ContinuousClock.Instant?,
        logger: Logger
    ) {
        self.callID = callID
        self.method = method
        self.metadata = metadata
        self.caller = caller
        self.deadline = deadline
        self.logger = logger
    }
}

/// A method's implementation: serialized request in, serialized response out. Handlers must
/// honour task cancellation, which is how a passed deadline reaches them.
public typealias MethodHandler = @Sendable (_ request: Data, _ context: CallContext) async throws -> Data

/// Maps full method names to handlers and the roles they admit. The server consults it for every
/// call and checks the caller's role before the handler runs.
public struct MethodRouter: Sendable {
    /// Who may call a method.
    public enum Access: Sendable, Hashable {
        /// Anyone, with or without a credential (health checks).
        case anyone
        /// Only callers with one of these roles.
        case roles(Set<Role>)
    }

    /// A registered method.
    public struct Route: Sendable {
        public var access: Access
        public var handler: MethodHandler
    }

    private var routes: [String: Route] = [:]

    public init() {}

    /// Registers `handler` for the full method name `method`, e.g. "/demandscreen.v1.Screening/Screen".
    public mutating func register(_ method: String, access: Access, handler: @escaping MethodHandler) {
        routes[method] = Route(access: access, handler: handler)
    }

    public func route(for method: String) -> Route? {
        routes[method]
    }

    /// The registered method names, sorted.
    public var methods: [String] { routes.keys.sorted() }
}
