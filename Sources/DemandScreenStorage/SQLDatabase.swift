/// A value bound to, or read from, a SQL statement: the four kinds the schema uses.
public enum SQLValue: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case null
}

/// One statement with `?` placeholders and the values bound to them, written once for both
/// backends (PostgreSQL's `$1, $2, …` are derived from the `?`s), or a `RowsStatement` over a
/// batch of rows, which PostgreSQL runs as a prepared statement.
public struct SQLStatement: Sendable {
    public var sql: String
    public var binds: [SQLValue]
    /// On PostgreSQL, the prepared statement and column arrays that run instead of `sql`.
    var prepared: PreparedRows?

    public init(_ sql: String, _ binds: [SQLValue] = []) {
        self.sql = sql
        self.binds = binds
    }
}

/// A row as the backends return it, read by column position.
public struct SQLRow: Sendable {
    public var values: [SQLValue]

    public init(_ values: [SQLValue]) { self.values = values }

    public func integer(_ column: Int) -> Int64 {
        if case .integer(let value) = values[column] { return value }
        return 0
    }

    public func text(_ column: Int) -> String {
        if case .text(let value) = values[column] { return value }
        return ""
    }

    /// The bytes of a blob column; nil for NULL.
    public func blob(_ column: Int) -> [UInt8]? {
        if case .blob(let value) = values[column] { return value }
        return nil
    }
}

/// The few places where the two SQL dialects differ.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// The column type for bytes.
    var blobType: String { self == .sqlite ? "BLOB" : "BYTEA" }
}

/// A SQL database as the contact store uses it: single queries, and transactions of statements
/// that commit durably or not at all. GRDB's SQLite and postgres-nio implement it.
public protocol SQLDatabase: Sendable {
    /// Names the store in errors and logs ("SQLite file /var/lib/…", "PostgreSQL db@host:port").
    var name: String { get }
    var dialect: SQLDialect { get }
    /// Runs the statements in one read snapshot; returns each one's rows.
    func read(_ statements: [SQLStatement]) async throws -> [[SQLRow]]
    /// Runs the statements in one transaction and commits it durably; returns each one's rows.
    func transaction(_ statements: [SQLStatement]) async throws -> [[SQLRow]]
    /// Ends the database's background work.
    func close() async
}

extension SQLDatabase {
    /// Runs one statement outside a transaction.
    public func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        try await read([statement])[0]
    }
}
