import Foundation

/// The versioned schema, the same on both backends. Migrations only ever add; each runs once, in
/// order, at start. A daemon refuses a database whose schema is newer than it knows, since an
/// older daemon writing to it could break what the newer one relies on.
enum Schema {
    /// Migration `n` (1-based) brings the schema to version `n`. `{BLOB}` is the dialect's type
    /// for bytes.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE IF NOT EXISTS contacts (
                record_id TEXT PRIMARY KEY,
                claimant_id TEXT NOT NULL,
                received_at_ms BIGINT NOT NULL,
                stored_at_ms BIGINT NOT NULL,
                channel BIGINT NOT NULL,
                verdict BIGINT NOT NULL,
                risk_level BIGINT NOT NULL,
                signals TEXT NOT NULL,
                demand_kinds TEXT NOT NULL,
                incident_category BIGINT NOT NULL,
                product_key TEXT NOT NULL,
                description TEXT NOT NULL,
                policy_version TEXT NOT NULL,
                client TEXT NOT NULL,
                commit_id TEXT NOT NULL,
                record {BLOB},
                result {BLOB} NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS contacts_by_claimant ON contacts (claimant_id, received_at_ms)",
            "CREATE INDEX IF NOT EXISTS contacts_by_category ON contacts (incident_category, product_key, received_at_ms)",
            "CREATE INDEX IF NOT EXISTS contacts_by_time ON contacts (received_at_ms)",
            """
            CREATE TABLE IF NOT EXISTS risk_flags (
                record_id TEXT NOT NULL,
                kind BIGINT NOT NULL,
                claimant_id TEXT NOT NULL,
                severity BIGINT NOT NULL,
                risk_level BIGINT NOT NULL,
                raised_at_ms BIGINT NOT NULL,
                evidence {BLOB} NOT NULL,
                PRIMARY KEY (record_id, kind)
            )
            """,
            "CREATE INDEX IF NOT EXISTS risk_flags_by_claimant ON risk_flags (claimant_id, raised_at_ms)",
            "CREATE INDEX IF NOT EXISTS risk_flags_by_time ON risk_flags (raised_at_ms)",
            """
            CREATE TABLE IF NOT EXISTS claimant_notes (
                claimant_id TEXT NOT NULL,
                created_at_ms BIGINT NOT NULL,
                author TEXT NOT NULL,
                text TEXT NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS claimant_notes_by_claimant ON claimant_notes (claimant_id, created_at_ms)",
        ],
        [
            // The same complaint without a product key is the same category and description: the
            // looks for it walk only its own contacts, however many others the category has. The
            // description's first 200 characters, not all of it: PostgreSQL refuses an index entry
            // over about 2.7 KB, and descriptions stored before they were limited can be longer.
            "CREATE INDEX IF NOT EXISTS contacts_by_complaint ON contacts (incident_category, product_key, substr(description, 1, 200), received_at_ms)"
        ],
        [
            // A claimant's active flags as one look per kind and risk level, whatever the number of
            // flags the claimant has.
            "CREATE INDEX IF NOT EXISTS risk_flags_by_claimant_kind ON risk_flags (claimant_id, kind, risk_level, raised_at_ms)"
        ],
        [
            // The money each contact demanded (`JPY:5400`, empty for none): what an escalating
            // demand is measured against. Contacts stored before read as having demanded none.
            "ALTER TABLE contacts ADD COLUMN money_demanded TEXT NOT NULL DEFAULT ''"
        ],
    ]

    static var currentVersion: Int64 { Int64(migrations.count) }

    /// Brings the database to `currentVersion`. Safe when several daemons start at once on one
    /// database: on PostgreSQL they serialize on an advisory lock; a migration that fails because
    /// another daemon applied it meanwhile (a column added twice) finds the version there and
    /// goes on.
    static func migrate(_ database: any SQLDatabase, now: Int64) async throws(StorageError) {
        let create = SQLStatement(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at_ms BIGINT NOT NULL)")
        let found: Int64
        do {
            _ = try await database.transaction([create])
            found =
                try await database.query(SQLStatement("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
                .first?.integer(0) ?? 0
        } catch {
            throw error as? StorageError ?? StorageError(store: database.name, "\(error)")
        }
        if found > currentVersion {
            throw StorageError(
                store: database.name,
                "the schema is at version \(found), newer than this daemon knows (\(currentVersion)); run a newer demandscreend")
        }
        guard found < currentVersion else { return }
        var statements: [SQLStatement] = []
        if database.dialect == .postgres { statements.append(SQLStatement("SELECT pg_advisory_xact_lock(7443001)")) }
        for version in (found + 1)...currentVersion {
            for sql in migrations[Int(version) - 1] {
                statements.append(SQLStatement(sql.replacingOccurrences(of: "{BLOB}", with: database.dialect.blobType)))
            }
            statements.append(
                SQLStatement(
                    "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?, ?) ON CONFLICT (version) DO NOTHING",
                    [.integer(version), .integer(now)]))
        }
        do {
            _ = try await database.transaction(statements)
        } catch {
            let rows = try? await database.query(SQLStatement("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
            if let version = try? rows?.first?.integer(0), version == currentVersion { return }
            throw error as? StorageError ?? StorageError(store: database.name, "\(error)")
        }
    }
}
