import Foundation
import GRDB

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

    private static func run(_ statement: SQLStatement, in db: Database) throws -> [SQLRow] {
        let arguments = StatementArguments(statement.binds.map(databaseValue))
        let cached = try db.cachedStatement(sql: statement.sql)
        return try Row.fetchAll(cached, arguments: arguments).map { row in
            SQLRow(row.databaseValues.map(sqlValue))
        }
    }

    private static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .integer(let integer): integer.databaseValue
        case .text(let text): text.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        case .null: .null
        }
    }

    private static func sqlValue(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let integer): .integer(integer)
        case .double(let double): .integer(Int64(double))
        case .string(let text): .text(text)
        case .blob(let data): .blob([UInt8](data))
        }
    }
}
