import CSQLite
import Foundation
import ExptModel

/// A failed SQLite call: sqlite's own message, its (extended) result code, and the SQL or
/// operation that failed, so a message can say what was being done (GRDB's "while executing").
struct SQLiteError: Error, CustomStringConvertible {
    var code: Int32          // primary result code (SQLITE_BUSY, SQLITE_NOTADB, ...)
    var extendedCode: Int32
    var message: String
    var operation: String

    var description: String { "\(message) (sqlite code \(extendedCode), while \(operation))" }

    var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }
    var isCorrupt: Bool { code == SQLITE_NOTADB || code == SQLITE_CORRUPT }
    var isWriteFailure: Bool { code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_READONLY }
}

/// A value bound to or read from a statement.
enum SQLValue: Equatable {
    case null
    case int(Int64)
    case real(Double)
    case text(String)
}

/// One connection to one SQLite file. Owns the `sqlite3*`; every call goes through `check`.
/// Not thread-safe by itself: `Ledger` serialises access.
final class SQLiteDatabase {
    private(set) var handle: OpaquePointer?
    let path: String

    /// Opens (creating if needed) the file. Opening never reads the file, so a garbage file
    /// is only detected by the first query; callers validate right after opening.
    init(path: String, busyTimeoutMS: Int32 = 5000) throws {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc & 0xff, extendedCode: rc, message: message, operation: "opening \(path)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMS)
    }

    deinit { close() }

    func close() {
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Throws a `SQLiteError` carrying sqlite's current message when `rc` is not one of `ok`.
    @discardableResult
    func check(_ rc: Int32, _ operation: @autoclosure () -> String, ok: Set<Int32> = [SQLITE_OK]) throws -> Int32 {
        if ok.contains(rc) { return rc }
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        throw SQLiteError(code: rc & 0xff, extendedCode: rc, message: message, operation: operation())
    }

    /// Runs one or more statements that return no rows we need.
    func exec(_ sql: String) throws {
        try check(sqlite3_exec(handle, sql, nil, nil, nil), sql)
    }

    func prepare(_ sql: String) throws -> SQLiteStatement {
        var stmt: OpaquePointer?
        try check(sqlite3_prepare_v2(handle, sql, -1, &stmt, nil), sql)
        return SQLiteStatement(db: self, stmt: stmt!, sql: sql)
    }

    /// Runs `sql` with `bindings`, returning every row (rows are small here: a ledger).
    @discardableResult
    func query(_ sql: String, _ bindings: [SQLValue] = []) throws -> [SQLiteRow] {
        let stmt = try prepare(sql)
        try stmt.bind(bindings)
        var rows: [SQLiteRow] = []
        while let row = try stmt.step() { rows.append(row) }
        return rows
    }

    var changes: Int { Int(sqlite3_changes(handle)) }
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` inside `BEGIN IMMEDIATE` (the write lock is taken up front, so a busy
    /// ledger fails here, before any work, instead of at COMMIT). Any error rolls back:
    /// nothing is half-recorded.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try exec("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try exec("COMMIT")
            return result
        } catch {
            // After SQLITE_FULL/IOERR sqlite may already have rolled back; a second ROLLBACK
            // would fail with "no transaction is active" and hide the real error.
            if sqlite3_get_autocommit(handle) == 0 { _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
            throw error
        }
    }
}

/// A prepared statement; finalized on deinit.
final class SQLiteStatement {
    private let db: SQLiteDatabase
    private let stmt: OpaquePointer
    let sql: String
    /// Column positions by name, read once per statement and shared by its rows.
    private var names: [String: Int]?

    fileprivate init(db: SQLiteDatabase, stmt: OpaquePointer, sql: String) {
        self.db = db; self.stmt = stmt; self.sql = sql
    }

    deinit { sqlite3_finalize(stmt) }

    func bind(_ values: [SQLValue]) throws {
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(stmt, index)
            case .int(let v): rc = sqlite3_bind_int64(stmt, index, v)
            case .real(let v): rc = sqlite3_bind_double(stmt, index, v)
            case .text(let v): rc = sqlite3_bind_text(stmt, index, v, -1, expt_sqlite_transient())
            }
            try db.check(rc, "binding parameter \(index) of \(sql)")
        }
    }

    /// The next row, or nil when done.
    func step() throws -> SQLiteRow? {
        let rc = try db.check(sqlite3_step(stmt), sql, ok: [SQLITE_ROW, SQLITE_DONE])
        guard rc == SQLITE_ROW else { return nil }
        let count = sqlite3_column_count(stmt)
        if names == nil {
            let list = (0..<count).map { String(cString: sqlite3_column_name(stmt, $0)) }
            names = Dictionary(list.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        }
        var values: [SQLValue] = []
        values.reserveCapacity(Int(count))
        for i in 0..<count {
            switch sqlite3_column_type(stmt, i) {
            case SQLITE_INTEGER: values.append(.int(sqlite3_column_int64(stmt, i)))
            case SQLITE_FLOAT: values.append(.real(sqlite3_column_double(stmt, i)))
            case SQLITE_NULL: values.append(.null)
            default: values.append(sqlite3_column_text(stmt, i).map { .text(String(cString: $0)) } ?? .null)
            }
        }
        return SQLiteRow(names: names!, values: values)
    }

    func reset() { sqlite3_reset(stmt); sqlite3_clear_bindings(stmt) }
}

/// One result row, by column name (the name → position map is the statement's, shared).
struct SQLiteRow {
    let names: [String: Int]
    let values: [SQLValue]

    init(names: [String: Int], values: [SQLValue]) { self.names = names; self.values = values }

    /// A row from name → value pairs (tests).
    init(columns: [String: SQLValue]) {
        let ordered = Array(columns)
        self.init(names: Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1.key, $0) }), values: ordered.map(\.value))
    }

    private func value(_ name: String) -> SQLValue? { names[name].map { values[$0] } }

    func string(_ name: String) -> String? {
        switch value(name) {
        case .text(let s): return s
        case .int(let v): return String(v)
        case .real(let v): return String(v)
        default: return nil
        }
    }
    func int(_ name: String) -> Int64? {
        switch value(name) {
        case .int(let v): return v
        case .real(let v): return Int64(v)
        case .text(let s): return Int64(s)
        default: return nil
        }
    }
}
