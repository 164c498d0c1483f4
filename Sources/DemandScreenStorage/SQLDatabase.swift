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

    /// The integer in `column`; throws when the column holds anything else (NULL included).
    public func integer(_ column: Int) throws(StoredRowError) -> Int64 {
        if case .integer(let value) = try value(column, expected: "an integer") { return value }
        throw StoredRowError(column: column, expected: "an integer", found: values[column])
    }

    /// The text in `column`; throws when the column holds anything else (NULL included).
    public func text(_ column: Int) throws(StoredRowError) -> String {
        if case .text(let value) = try value(column, expected: "text") { return value }
        throw StoredRowError(column: column, expected: "text", found: values[column])
    }

    /// The bytes of a blob column; nil for NULL; throws when the column holds anything else.
    public func blob(_ column: Int) throws(StoredRowError) -> [UInt8]? {
        switch try value(column, expected: "bytes") {
        case .blob(let value): return value
        case .null: return nil
        default: throw StoredRowError(column: column, expected: "bytes", found: values[column])
        }
    }

    private func value(_ column: Int, expected: String) throws(StoredRowError) -> SQLValue {
        guard values.indices.contains(column) else { throw StoredRowError(column: column, expected: expected, found: nil) }
        return values[column]
    }
}

/// A stored row whose column does not hold what the store reads from it: the database's data or
/// schema is not what this daemon wrote. Calls that meet one fail with INTERNAL and are logged.
public struct StoredRowError: Error, Sendable, CustomStringConvertible {
    /// The column's place in the statement's result (the batch statements' first column is the call's index).
    public var column: Int
    /// What the store reads from it: an integer, text or bytes.
    public var expected: String
    /// What the column held; nil when the row has no such column.
    public var found: SQLValue?

    public var description: String {
        guard let found else { return "stored row has no column \(column) (expected \(expected))" }
        return "stored row's column \(column) holds \(found.kind), expected \(expected)"
    }
}

extension SQLValue {
    /// What kind of value it is, for error messages (never the value itself: it may be personal data).
    var kind: String {
        switch self {
        case .integer: "an integer"
        case .text: "text"
        case .blob: "bytes"
        case .null: "NULL"
        }
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
