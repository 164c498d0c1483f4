import Foundation
import GRDB
import GRDBSQLite

/// The embedded store: one SQLite file in WAL mode, written through GRDB's serialized writer,
/// read concurrently. Commits sync the WAL (`synchronous=FULL`) unless the operator opted into
/// NORMAL, which can lose the last commits on a power failure (never on a crash of the daemon).
public struct SQLiteDatabase: SQLDatabase {
    /// How hard a commit syncs to disk.
    public enum Synchronous: String, Sendable {
        case full = "FULL"
        case normal = "NORMAL"
    }

    public let name: String
    public let dialect = SQLDialect.sqlite
    public let synchronous: Synchronous
    private let pool: DatabasePool

    /// Opens (creating when missing) the file at `path`; throws a `StorageError` naming the file
    /// when it cannot be opened, is not a database, is read-only or is locked by another process.
    public init(path: String, synchronous: Synchronous = .full, busyTimeoutSeconds: Double = 5) throws(StorageError) {
        let name = "SQLite file \(path)"
        self.name = name
        self.synchronous = synchronous
        try Self.checkWritable(path: path, name: name)
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        configuration.label = "demandscreen"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // A write at start: a locked or read-only file fails here, not on the first call.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE; COMMIT") }
        } catch {
            throw StorageError(store: name, Self.describe(error))
        }
    }

    /// A file marked read-only is refused even when the daemon runs as root (who could write it):
    /// the operator's marking is the intent.
    private static func checkWritable(path: String, name: String) throws(StorageError) {
        let manager = FileManager.default
        guard let attributes = try? manager.attributesOfItem(atPath: path) else { return }
        if let permissions = attributes[.posixPermissions] as? Int, permissions & 0o222 == 0 {
            throw StorageError(store: name, "the file is read-only (mode \(String(permissions, radix: 8)))")
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: return "the file is not a valid SQLite database (corrupt or foreign): \(error.message ?? "")"
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "the database is locked by another process: \(error.message ?? "")"
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN: return "the file cannot be written: \(error.message ?? "")"
        case .SQLITE_FULL: return "the disk is full: \(error.message ?? "")"
        default: return "\(error.message ?? "\(error)") (SQLite code \(error.extendedResultCode.rawValue))"
        }
    }

    public func read(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        do {
            return try await pool.read { db in try statements.map { try Self.run($0, in: db) } }
        } catch {
            throw StorageError(store: name, Self.describe(error))
        }
    }

    public func transaction(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        do {
            return try await pool.write { db in try statements.map { try Self.run($0, in: db) } }
        } catch {
            throw StorageError(store: name, Self.describe(error))
        }
    }

    public func close() async {
        try? pool.close()
    }

    /// Runs one statement on SQLite's own interface (GRDB's prepared-statement cache, then
    /// binding, stepping and reading columns directly): GRDB's generic argument and row
    /// decoding cost more than the statements themselves on a 4 000-value insert.
    private static func run(_ statement: SQLStatement, in db: Database) throws -> [SQLRow] {
        let handle = try db.cachedStatement(sql: statement.sql).sqliteStatement
        sqlite3_reset(handle)
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)  // frees the copies of large blobs
        }
        for (offset, value) in statement.binds.enumerated() {
            let code = bind(value, at: Int32(offset + 1), to: handle)
            guard code == SQLITE_OK else { throw error(code, in: db, sql: statement.sql) }
        }
        var rows: [SQLRow] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw error(code, in: db, sql: statement.sql) }
            let columns = sqlite3_column_count(handle)
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columns))
            for column in 0..<columns { values.append(columnValue(column, of: handle)) }
            rows.append(SQLRow(values))
        }
    }

    /// SQLite copies bound text and blobs (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private static func bind(_ value: SQLValue, at index: Int32, to handle: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let integer):
            return sqlite3_bind_int64(handle, index, integer)
        case .text(var text):
            // An empty buffer may have no address, which SQLite would bind as NULL.
            return text.withUTF8 { bytes in
                bytes.isEmpty
                    ? sqlite3_bind_text(handle, index, "", 0, transient)
                    : sqlite3_bind_text(
                        handle, index, UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(bytes.count),
                        transient)
            }
        case .blob(let bytes):
            return bytes.isEmpty
                ? sqlite3_bind_zeroblob(handle, index, 0)
                : bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), transient) }
        case .null:
            return sqlite3_bind_null(handle, index)
        }
    }

    private static func columnValue(_ column: Int32, of handle: OpaquePointer) -> SQLValue {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT:
            return .integer(Int64(sqlite3_column_double(handle, column)))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard let text = sqlite3_column_text(handle, column) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard let blob = sqlite3_column_blob(handle, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: blob, count: count)))
        default:
            return .null
        }
    }

    private static func error(_ code: Int32, in db: Database, sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: sql)
    }
}
