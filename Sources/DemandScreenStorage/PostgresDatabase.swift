public import Logging
import NIOCore
public import PostgresNIO
import Synchronization

/// The shared store: a PostgreSQL database that several daemons use at once, through
/// postgres-nio's connection pool. Every session runs with `synchronous_commit=on`, so a commit
/// has reached the server's disk before a call is answered. The pool reconnects by itself when
/// the server comes back.
public final class PostgresDatabase: SQLDatabase {
    public let name: String
    public let dialect = SQLDialect.postgres
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    private let timeout: Duration
    /// When an operation last succeeded.
    private let lastProgress = Mutex(ContinuousClock.now)

    /// Connects and checks that the server answers; throws a `StorageError` naming the server
    /// when it cannot.
    public init(
        host: String, port: Int, username: String, password: String?, database: String, tls: PostgresClient.Configuration.TLS,
        timeout: Duration = .seconds(5), logger: Logger
    ) async throws(StorageError) {
        name = "PostgreSQL \(database) at \(username)@\(host):\(port)"
        self.logger = logger
        self.timeout = timeout
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = timeout
        configuration.options.maximumConnections = 16
        // The batch statements are prepared once per connection (`RowsStatement`) but planned
        // with each run's values: a generic plan made while the table was new and empty scanned
        // it, and would be kept until the next ANALYZE.
        configuration.options.additionalStartupParameters = [
            ("synchronous_commit", "on"), ("application_name", "demandscreend"), ("plan_cache_mode", "force_custom_plan"),
        ]
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
        do {
            _ = try await query(SQLStatement("SELECT 1"))
        } catch {
            runner.cancel()
            throw error as? StorageError ?? StorageError(store: name, "\(error)")
        }
    }

    public func read(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        let queries = statements.map(Query.init)
        return try await run {
            try await self.client.withConnection { connection in
                try await Self.run(queries, on: connection, logger: self.logger)
            }
        }
    }

    public func transaction(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        let queries = statements.map(Query.init)
        return try await run {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await Self.run(queries, on: connection, logger: self.logger)
            }
        }
    }

    /// A statement as postgres-nio runs it: a query of its own, or a prepared one.
    private enum Query: Sendable {
        case text(PostgresQuery)
        case prepared(PreparedRows)

        init(_ statement: SQLStatement) {
            self = statement.prepared.map(Query.prepared) ?? .text(PostgresDatabase.postgresQuery(statement))
        }
    }

    private static func run(_ queries: [Query], on connection: PostgresConnection, logger: Logger) async throws -> [[SQLRow]] {
        var results: [[SQLRow]] = []
        for query in queries {
            var rows: [SQLRow] = []
            switch query {
            case .text(let text):
                for try await row in try await connection.query(text, logger: logger) {
                    rows.append(sqlRow(row))
                }
            case .prepared(let prepared):
                do {
                    for try await row in try await execute(prepared.statement, prepared.columns, on: connection, logger: logger) {
                        rows.append(sqlRow(row))
                    }
                } catch {
                    // postgres-nio remembers a failed preparation for the connection's life and
                    // fails every later use of the statement on it: a fresh connection prepares anew.
                    try? await connection.close()
                    throw error
                }
            }
            results.append(rows)
        }
        return results
    }

    private static func execute<Kind: RowsStatement>(
        _ kind: Kind.Type, _ columns: [SQLColumn], on connection: PostgresConnection, logger: Logger
    ) async throws -> AsyncThrowingMapSequence<PostgresRowSequence, PostgresRow> {
        try await connection.execute(Prepared<Kind>(columns: columns), logger: logger)
    }

    /// A `RowsStatement` as a postgres-nio prepared statement, named after it.
    private struct Prepared<Kind: RowsStatement>: PostgresPreparedStatement {
        typealias Row = PostgresRow
        static var name: String { "demandscreen.\(Kind.self)" }
        static var sql: String { Kind.postgresSQL }
        var columns: [SQLColumn]

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: columns.count)
            for column in columns {
                switch column {
                case .integers(let values): bindings.append(values)
                case .texts(let values): bindings.append(values)
                case .blobs(let values): bindings.append(values.map { ByteBuffer(bytes: $0) })
                }
            }
            return bindings
        }

        func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
    }

    public func close() async {
        runner.cancel()
        _ = await runner.value
    }

    /// Runs `body`, failing it when the server has made no progress for `timeout`: while the
    /// server is away the pool would wait for a connection forever, and the call must fail with
    /// UNAVAILABLE instead. A busy server that answers other calls is not a failed one, however
    /// long the queue. The wait is counted in ticks of the watch, each at most two ticks long:
    /// when this process itself did not run (its threads all busy, or the machine stalled), the
    /// server's answer may be waiting unread, and that time is not the server's.
    private func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws(StorageError) -> T {
        do {
            let value = try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    let tick = Duration.milliseconds(250)
                    var waited = Duration.zero
                    var lastTick = ContinuousClock.now
                    while true {
                        try await Task.sleep(for: tick)
                        let now = ContinuousClock.now
                        waited += min(now - lastTick, tick * 2)
                        lastTick = now
                        if waited > self.timeout && now - self.lastProgress.withLock({ $0 }) > self.timeout { return nil }
                    }
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else {
                    throw StorageError(store: name, "no answer within \(timeout)")
                }
                return value
            }
            lastProgress.withLock { $0 = ContinuousClock.now }
            return value
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(store: name, Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        // A failed transaction names what failed in it: beginning, a statement, or committing.
        if let transaction = error as? PostgresTransactionError,
            let cause = transaction.beginError ?? transaction.closureError ?? transaction.commitError
        {
            return describe(cause)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + code
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }

    /// The statement with PostgreSQL's `$1, $2, …` for its `?`s (scanned as bytes: a batch's
    /// statement has hundreds of them, and walking its characters cost 3% of the daemon's CPU).
    fileprivate static func postgresQuery(_ statement: SQLStatement) -> PostgresQuery {
        var sql: [UInt8] = []
        sql.reserveCapacity(statement.sql.utf8.count + 4 * statement.binds.count)
        var number = 0
        for byte in statement.sql.utf8 {
            if byte == UInt8(ascii: "?") {
                number += 1
                sql.append(UInt8(ascii: "$"))
                sql.append(contentsOf: String(number).utf8)
            } else {
                sql.append(byte)
            }
        }
        var binds = PostgresBindings(capacity: statement.binds.count)
        for value in statement.binds {
            switch value {
            case .integer(let integer): binds.append(integer)
            case .text(let text): binds.append(text)
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            case .null: binds.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: String(decoding: sql, as: UTF8.self), binds: binds)
    }

    /// The row's cells in order, read with the row's sequence iterator (one pass over its bytes),
    /// the binary forms of the schema's types read straight from the bytes.
    private static func sqlRow(_ row: PostgresRow) -> SQLRow {
        var values: [SQLValue] = []
        for cell in row {
            guard var bytes = cell.bytes else {
                values.append(.null)
                continue
            }
            switch (cell.format, cell.dataType) {
            case (.binary, .int8) where bytes.readableBytes == 8:
                values.append(.integer(bytes.readInteger(as: Int64.self)!))
            case (.binary, .text), (.binary, .varchar):
                values.append(.text(bytes.readString(length: bytes.readableBytes)!))
            case (.binary, .bytea):
                values.append(.blob(bytes.readBytes(length: bytes.readableBytes)!))
            case (_, .int2), (_, .int4), (_, .int8):
                values.append((try? cell.decode(Int64.self)).map(SQLValue.integer) ?? .null)
            default:
                values.append((try? cell.decode(String.self)).map(SQLValue.text) ?? .null)
            }
        }
        return SQLRow(values)
    }
}
