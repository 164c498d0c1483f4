import Foundation
import Synchronization

/// The type of a column of rows that a `RowsStatement` takes.
enum SQLColumnType: Sendable {
    case integer
    case text
    case blob

    /// PostgreSQL's array type for a column of this type.
    var postgresArray: String {
        switch self {
        case .integer: "bigint[]"
        case .text: "text[]"
        case .blob: "bytea[]"
        }
    }
}

/// A column of rows bound as one value: PostgreSQL takes a batch's rows as one array per column.
enum SQLColumn: Sendable {
    case integers([Int64])
    case texts([String])
    case blobs([[UInt8]])
}

/// A statement over rows that the caller supplies, a batch of any size: its text is written
/// once, with `{rows}` where the rows go as a table (`WITH wanted (…) AS ({rows})`, `INSERT INTO
/// … {rows}`), or `{in list}` where a single column's values go as a test (`record_id {in list}`).
///
/// On SQLite the rows become `VALUES (?, ?), (?, ?)` and the test `IN (?, ?)`: the statement cache
/// keeps one prepared statement per batch size. On PostgreSQL each column is bound as one array
/// (`SELECT * FROM unnest($1::bigint[], $2::text[])`), so that the text is the same whatever the
/// batch size and the server parses and analyses it once per connection (a named prepared
/// statement) instead of on every call: with a new text for every batch size, parsing, analysis
/// and planning took a third of the server's time per durable Screen call. (Plans are still made
/// with each run's values: see `PostgresDatabase`.)
protocol RowsStatement: Sendable {
    /// The rows' columns, in order.
    static var columns: [SQLColumnType] { get }
    /// The text, with `{rows}` or `{in list}` where the rows go and `?` for any other value.
    static func template(_ dialect: SQLDialect) -> String
}

extension RowsStatement {
    /// The PostgreSQL text: `$1, $2, …` the columns' arrays.
    static var postgresSQL: String {
        RowsStatementTexts.text(of: Self.self, rows: nil) {
            let arrays = columns.enumerated().map { "$\($0.offset + 1)::\($0.element.postgresArray)" }.joined(separator: ", ")
            return template(.postgres)
                .replacingOccurrences(of: "{rows}", with: "SELECT * FROM unnest(\(arrays))")
                .replacingOccurrences(of: "{in list}", with: "= ANY(\(arrays))")
        }
    }

    /// The SQLite text for `count` rows.
    static func sqliteSQL(rows count: Int) -> String {
        RowsStatementTexts.text(of: Self.self, rows: count) {
            let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
            return template(.sqlite)
                .replacingOccurrences(of: "{rows}", with: "VALUES " + Array(repeating: row, count: count).joined(separator: ", "))
                .replacingOccurrences(of: "{in list}", with: "IN (" + Array(repeating: "?", count: count).joined(separator: ", ") + ")")
        }
    }

    /// The rows as one array per column. The values must be of the columns' types: the
    /// statements are the store's own, never built from what a caller sends.
    static func columnArrays(_ rows: [[SQLValue]]) -> [SQLColumn] {
        func column<Value>(_ index: Int, _ value: (SQLValue) -> Value?) -> [Value] {
            rows.map { row in
                guard let found = value(row[index]) else { preconditionFailure("column \(index) of \(Self.self) takes \(columns[index])s") }
                return found
            }
        }
        return columns.indices.map { index in
            switch columns[index] {
            case .integer: .integers(column(index) { if case .integer(let value) = $0 { value } else { nil } })
            case .text: .texts(column(index) { if case .text(let value) = $0 { value } else { nil } })
            case .blob: .blobs(column(index) { if case .blob(let value) = $0 { value } else { nil } })
            }
        }
    }
}

/// The texts of the `RowsStatement`s, made once each: a batch's statements are made on every
/// call, and making their texts anew cost several microseconds a call.
private enum RowsStatementTexts {
    private struct Key: Hashable {
        var statement: ObjectIdentifier
        /// The number of rows on SQLite; nil for PostgreSQL, whose text holds any number.
        var rows: Int?
    }

    private static let texts = Mutex<[Key: String]>([:])

    static func text(of statement: any RowsStatement.Type, rows: Int?, make: () -> String) -> String {
        let key = Key(statement: ObjectIdentifier(statement), rows: rows)
        if let text = texts.withLock({ $0[key] }) { return text }
        let text = make()
        texts.withLock { $0[key] = text }
        return text
    }
}

/// A `RowsStatement` with its rows, as PostgreSQL runs it: the statement and its column arrays.
struct PreparedRows: Sendable {
    var statement: any RowsStatement.Type
    var columns: [SQLColumn]
}

extension SQLStatement {
    /// `kind` over `rows` in the dialect's form (see `RowsStatement`).
    init<Kind: RowsStatement>(_ kind: Kind.Type, rows: [[SQLValue]], dialect: SQLDialect) {
        precondition(rows.allSatisfy { $0.count == Kind.columns.count }, "every row of \(Kind.self) has \(Kind.columns.count) values")
        switch dialect {
        case .sqlite:
            self.init(Kind.sqliteSQL(rows: rows.count), rows.flatMap { $0 })
        case .postgres:
            self.init(Kind.postgresSQL)
            prepared = PreparedRows(statement: kind, columns: Kind.columnArrays(rows))
        }
    }

    /// `kind` over `rows`, in statements of at most `sqliteRows` rows on SQLite (bounding its
    /// bound values and the texts its cache holds) and in one on PostgreSQL; none for no rows.
    static func batches<Kind: RowsStatement>(_ kind: Kind.Type, rows: [[SQLValue]], dialect: SQLDialect, sqliteRows: Int) -> [SQLStatement]
    {
        let size = dialect == .sqlite ? sqliteRows : max(rows.count, 1)
        return stride(from: 0, to: rows.count, by: size).map {
            SQLStatement(kind, rows: Array(rows[$0..<min($0 + size, rows.count)]), dialect: dialect)
        }
    }
}
