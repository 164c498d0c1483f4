import Foundation
public import Logging
import PostgresNIO

/// Where the history lives, from `--storage-url`:
/// - `sqlite:///absolute/path.sqlite` or `sqlite:relative/path.sqlite` (`?synchronous=normal` to
///   opt out of a sync per commit),
/// - `postgresql://user[:password]@host[:port]/database` (`?sslmode=disable|prefer|require`),
/// - `none`: screening only; nothing is recorded and history signals never fire.
public enum StorageLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String, synchronous: SQLiteDatabase.Synchronous)
    case postgres(host: String, port: Int, username: String, password: String?, database: String, sslMode: String)
    case none

    /// Parses a storage URL; the error says what is wrong with it.
    public init(url: String) throws(StorageError) {
        let store = "storage URL '\(Self.redacted(url))'"
        if url == "none" {
            self = .none
            return
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme else {
            throw StorageError(store: store, "is not a URL; expected sqlite:PATH, postgresql://user@host:port/db or none")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        switch scheme {
        case "sqlite":
            let path = components.path
            guard !path.isEmpty else { throw StorageError(store: store, "names no file") }
            let mode = query["synchronous"]?.uppercased() ?? "FULL"
            guard let synchronous = SQLiteDatabase.Synchronous(rawValue: mode) else {
                throw StorageError(store: store, "synchronous must be full or normal, got '\(mode.lowercased())'")
            }
            if let unknown = query.keys.first(where: { $0 != "synchronous" }) {
                throw StorageError(store: store, "unknown option '\(unknown)'; sqlite URLs take synchronous=full|normal")
            }
            self = .sqlite(path: path, synchronous: synchronous)
        case "postgresql", "postgres":
            guard let host = components.host, !host.isEmpty else { throw StorageError(store: store, "names no host") }
            guard let username = components.user, !username.isEmpty else { throw StorageError(store: store, "names no user") }
            let database = String(components.path.drop(while: { $0 == "/" }))
            guard !database.isEmpty else { throw StorageError(store: store, "names no database") }
            let sslMode = query["sslmode"] ?? "prefer"
            guard ["disable", "prefer", "require"].contains(sslMode) else {
                throw StorageError(store: store, "sslmode must be disable, prefer or require, got '\(sslMode)'")
            }
            if let unknown = query.keys.first(where: { $0 != "sslmode" }) {
                throw StorageError(store: store, "unknown option '\(unknown)'; postgresql URLs take sslmode")
            }
            self = .postgres(
                host: host, port: components.port ?? 5432, username: username, password: components.password,
                database: database, sslMode: sslMode)
        default:
            throw StorageError(store: store, "unknown scheme '\(scheme)'; expected sqlite, postgresql or none")
        }
    }

    /// The URL with any password replaced, for logs and errors.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    /// The kind of store, for metrics: `sqlite`, `postgresql` or `none`.
    public var backend: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres: "postgresql"
        case .none: "none"
        }
    }

    /// How a commit reaches the disk before a call is answered: `synchronous=FULL` (the default)
    /// or the opt-in `synchronous=NORMAL` on SQLite, `synchronous_commit=on` on PostgreSQL.
    public var durability: String {
        switch self {
        case .sqlite(_, let synchronous): "synchronous=\(synchronous.rawValue)"
        case .postgres: "synchronous_commit=on"
        case .none: "nothing is stored"
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path, let synchronous): "sqlite:\(path) (synchronous=\(synchronous.rawValue))"
        case .postgres(let host, let port, let username, _, let database, _): "postgresql://\(username)@\(host):\(port)/\(database)"
        case .none: "none"
        }
    }

    /// Opens the store and brings its schema up to date; nil for `none`.
    public func open(groupCommit: Bool = true, logger: Logger) async throws(StorageError) -> ContactStore? {
        let database: any SQLDatabase
        switch self {
        case .none:
            return nil
        case .sqlite(let path, let synchronous):
            database = try SQLiteDatabase(path: path, synchronous: synchronous)
        case .postgres(let host, let port, let username, let password, let name, let sslMode):
            let tls: PostgresClient.Configuration.TLS =
                switch sslMode {
                case "disable": .disable
                case "require": .require(.makeClientConfiguration())
                default: .prefer(.makeClientConfiguration())
                }
            database = try await PostgresDatabase(
                host: host, port: port, username: username, password: password, database: name, tls: tls, logger: logger)
        }
        do {
            return try await ContactStore(database: database, groupCommit: groupCommit)
        } catch {
            await database.close()
            throw error
        }
    }
}
