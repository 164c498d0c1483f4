import DemandScreenAPI
import ScreeningEngine

/// The SQL of the history reads: statements over rows of wanted windows and complaints, the same
/// text for any batch (`RowsStatement`), and branches united into one statement (`Branch`).

/// One request's query in a statement that unites many: its text depends on nothing but the kind
/// of query and whether the complaint has a product key, so that a united statement's text
/// depends only on how many branches of one text it unites (SQLite keeps one prepared statement
/// per text: united in any mix, the texts would be without number).
struct Branch {
    var sql: String
    var binds: [SQLValue]

    /// One statement per distinct branch text, uniting the branches of that text.
    static func unions(_ branches: [Branch]) -> [SQLStatement] {
        var texts: [String] = []
        var byText: [String: [Branch]] = [:]
        for branch in branches {
            if byText[branch.sql] == nil { texts.append(branch.sql) }
            byText[branch.sql, default: []].append(branch)
        }
        return texts.map { union(byText[$0, default: []]) }
    }

    private static func union(_ branches: [Branch]) -> SQLStatement {
        SQLStatement(
            branches.indices.map { "SELECT * FROM (\(branches[$0].sql)) AS branch\($0)" }.joined(separator: " UNION ALL "),
            branches.flatMap(\.binds))
    }
}

/// `group` of each wanted complaint named by a product key that has a contact in its window.
enum KeyedComplaintsPresent: RowsStatement {
    static let columns: [SQLColumnType] = [.integer, .integer, .text, .integer, .integer]
    static func template(_ dialect: SQLDialect) -> String {
        """
        WITH wanted (grp, category, key, after_ms, up_to_ms) AS ({rows}) SELECT grp FROM wanted WHERE EXISTS (\
        SELECT 1 FROM contacts WHERE incident_category = wanted.category AND product_key = wanted.key \
        AND received_at_ms > wanted.after_ms AND received_at_ms <= wanted.up_to_ms)
        """
    }
}

/// `group` of each wanted complaint without a product key that has a contact with its very
/// description in its window, found by `contacts_by_complaint` (the index's expression word for
/// word, as at `HistoryReads.sameComplaint`; the whole description needs no `|| ''` here, as the
/// value it is compared with is a column of `wanted`, not a constant SQLite could propagate:
/// EXPLAIN QUERY PLAN shows the index). No order and no limit: with them PostgreSQL's planner,
/// which plans the lateral look without the wanted values, walked the category by time.
enum DescribedComplaintsPresent: RowsStatement {
    static let columns: [SQLColumnType] = [.integer, .integer, .text, .text, .integer, .integer]
    static func template(_ dialect: SQLDialect) -> String {
        """
        WITH wanted (grp, category, prefix, whole, after_ms, up_to_ms) AS ({rows}) SELECT grp FROM wanted WHERE EXISTS (\
        SELECT 1 FROM contacts WHERE incident_category = wanted.category AND product_key = '' \
        AND substr(description, 1, 200) = wanted.prefix AND description = wanted.whole \
        AND received_at_ms > wanted.after_ms AND received_at_ms <= wanted.up_to_ms)
        """
    }
}

/// Statements over one window per request: rows of `idx, claimant_id, since_ms, until_ms`.
protocol ClaimantWindowStatement: RowsStatement {}

extension ClaimantWindowStatement {
    static var columns: [SQLColumnType] { [.integer, .text, .integer, .integer] }
    static var wanted: String { "WITH wanted (idx, claimant_id, since_ms, until_ms) AS ({rows})" }
}

/// `idx, <past contact columns>`: each window's claimant's newest contacts in it. On PostgreSQL a
/// lateral join, so that each claimant is an index scan whatever the statistics say (a plain join
/// lets a planner misled by lagging statistics hash the whole table). SQLite has no lateral
/// joins: each claimant's newest rows are a correlated list of row ids, read from the covering
/// `contacts_by_claimant` index, and the rows are then fetched by id (ranking the joined rows with
/// `ROW_NUMBER()` would sort every batch's rows in a temporary B-tree). The rows come per window
/// in row-id order, not newest first.
enum NewestClaimantContacts: ClaimantWindowStatement {
    static func template(_ dialect: SQLDialect) -> String {
        let columns = ContactStore.pastContactColumns
        let limit = HistoryWindows.newestContactsLimit
        let newest = """
            SELECT \(dialect == .postgres ? columns : "rowid") FROM contacts WHERE claimant_id = wanted.claimant_id \
            AND received_at_ms > wanted.since_ms AND received_at_ms <= wanted.until_ms \
            ORDER BY received_at_ms DESC LIMIT \(limit)
            """
        switch dialect {
        case .postgres:
            return "\(wanted) SELECT wanted.idx, c.* FROM wanted CROSS JOIN LATERAL (\(newest)) AS c"
        case .sqlite:
            let qualified = columns.split(separator: ", ").map { "c.\($0)" }.joined(separator: ", ")
            return "\(wanted) SELECT wanted.idx, \(qualified) FROM wanted JOIN contacts c ON c.rowid IN (\(newest))"
        }
    }
}

/// `idx, in 30 days, in 24 hours`: each claimant's contacts in the two windows, each counted from
/// the covering `contacts_by_claimant` index and only up to `HistoryWindows.contactCountLimit`,
/// so that a claimant with 100 000 contacts costs what one with the limit costs. The same text on
/// both backends (a correlated scalar subquery over a limited one).
enum ClaimantContactCounts: RowsStatement {
    static let columns: [SQLColumnType] = [.integer, .text, .integer, .integer, .integer]
    static func template(_ dialect: SQLDialect) -> String {
        func count(since: String) -> String {
            """
            (SELECT COUNT(*) FROM (SELECT 1 FROM contacts WHERE claimant_id = wanted.claimant_id \
            AND received_at_ms > wanted.\(since) AND received_at_ms <= wanted.until_ms \
            LIMIT \(HistoryWindows.contactCountLimit)) AS counted)
            """
        }
        return """
            WITH wanted (idx, claimant_id, month_ms, day_ms, until_ms) AS ({rows}) \
            SELECT wanted.idx, \(count(since: "month_ms")), \(count(since: "day_ms")) FROM wanted
            """
    }
}

/// `idx, kind, highest risk`: the kinds of flag raised on each window's claimant in it, with the
/// highest risk of each. One index look (`risk_flags_by_claimant_kind`) per kind and risk level
/// asks whether any flag of them lies in the window: a claimant with 100 000 flags costs what one
/// with a single flag costs, and the answer is exact.
enum ActiveFlags: ClaimantWindowStatement {
    static func template(_ dialect: SQLDialect) -> String {
        let levels = SignalKind.allCases.filter { $0 != .signalUnspecified && $0.rawValue > 0 }.flatMap { kind in
            RiskLevel.allCases.filter { $0.rawValue > 0 }.map { "(\(kind.rawValue), \($0.rawValue))" }
        }.joined(separator: ", ")
        return """
            \(wanted), levels (kind, risk) AS (VALUES \(levels)) \
            SELECT wanted.idx, levels.kind, MAX(levels.risk) FROM wanted CROSS JOIN levels WHERE EXISTS (\
            SELECT 1 FROM risk_flags f WHERE f.claimant_id = wanted.claimant_id AND f.kind = levels.kind \
            AND f.risk_level = levels.risk AND f.raised_at_ms > wanted.since_ms AND f.raised_at_ms <= wanted.until_ms) \
            GROUP BY wanted.idx, levels.kind
            """
    }
}
