import CSQLite
import Foundation
import ExptModel

/// The run ledger: `<dir>/ledger.sqlite`, shared by every worktree (dir is normally
/// `<git-common-dir>/expt`). Records runs, the fix-and-relaunch journal and the outbox.
///
/// Crash safety: WAL with `synchronous=NORMAL` (a crash loses at most the last commits, never
/// corrupts); every write is one `BEGIN IMMEDIATE` transaction, so an error or a kill leaves
/// either all of it or none. A file that is not a readable ledger is reported and never
/// touched. All errors are `ExptError`s. Thread-safe: calls are serialised.
public final class Ledger: @unchecked Sendable {
    /// The ledger file's path.
    public let path: String
    let db: SQLiteDatabase
    private let lock = NSLock()
    private let busyTimeoutMS: Int32

    public static let fileName = "ledger.sqlite"

    /// Opens or creates `<dir>/ledger.sqlite` (creating `dir`) and migrates it to the current
    /// schema. A missing file beside run directories (`<dir>/runs/r<n>`) is refused: see
    /// `Ledger.rebuild`. `busyTimeoutMS` is how long to wait for another process's write lock.
    public init(dir: String, busyTimeoutMS: Int32 = 5000) throws {
        let path = (dir as NSString).appendingPathComponent(Self.fileName)
        self.path = path
        self.busyTimeoutMS = busyTimeoutMS
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw ExptError(.failure, "cannot create the run ledger directory \(dir): \(error.localizedDescription)",
                            hint: "check that the repository's git directory is writable")
        }
        try Self.refuseMissing(path: path, runsDir: (dir as NSString).appendingPathComponent("runs"))
        do {
            db = try SQLiteDatabase(path: path, busyTimeoutMS: busyTimeoutMS)
        } catch let error as SQLiteError {
            throw Self.mapped(error, path: path, doing: "opening it", busyTimeoutMS: busyTimeoutMS)
        }
        do {
            // Read first: a garbage file fails here with SQLITE_NOTADB before anything could
            // write to it (journal_mode=WAL would rewrite the header of a valid file).
            try db.query("SELECT count(*) FROM sqlite_master")
            try db.query("PRAGMA journal_mode=WAL")
            try db.exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")
            try migrate()
        } catch let error as SQLiteError {
            db.close()
            throw Self.mapped(error, path: path, doing: "opening it", busyTimeoutMS: busyTimeoutMS)
        }
    }

    /// The schema version of the open file (number of migrations applied).
    public var schemaVersion: Int {
        (try? withDB("reading its schema version") { Int(try $0.query("PRAGMA user_version").first?.int("user_version") ?? 0) }) ?? 0
    }

    /// Applies the migrations the file lacks, all in one transaction. Another process may
    /// migrate at the same time, so the version is re-read under the write lock.
    private func migrate() throws {
        let known = LedgerSchema.migrations.count
        let current = Int(try db.query("PRAGMA user_version").first?.int("user_version") ?? 0)
        if current == known { return }
        if current > known {
            throw ExptError(.failure,
                            "the run ledger \(path) has schema version \(current), newer than this expt understands (\(known)); it was left untouched",
                            hint: "upgrade expt to the version that wrote it")
        }
        try db.transaction {
            let now = Int(try db.query("PRAGMA user_version").first?.int("user_version") ?? 0)
            guard now < known else { return }
            for version in now..<known {
                try db.exec(LedgerSchema.migrations[version])
                try db.exec("PRAGMA user_version = \(version + 1)")
            }
        }
    }

    /// Runs `body` with the connection, serialised, turning sqlite errors into `ExptError`s
    /// that say what was being done.
    @discardableResult
    func withDB<T>(_ doing: @autoclosure () -> String, _ body: (SQLiteDatabase) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try body(db)
        } catch let error as SQLiteError {
            throw Self.mapped(error, path: path, doing: doing(), busyTimeoutMS: busyTimeoutMS)
        }
    }

    /// `withDB` inside one `BEGIN IMMEDIATE` transaction: all or nothing.
    @discardableResult
    func write<T>(_ doing: @autoclosure () -> String, _ body: (SQLiteDatabase) throws -> T) throws -> T {
        try withDB(doing()) { db in try db.transaction { try body(db) } }
    }

    /// The user-facing error for a sqlite failure on the ledger.
    static func mapped(_ error: SQLiteError, path: String, doing: String, busyTimeoutMS: Int32) -> ExptError {
        if error.isCorrupt {
            return ExptError(.failure, "the run ledger \(path) is unreadable: \(error.message); it was left untouched",
                             hint: "move it aside (mv \(path) \(path).bad) to start a fresh ledger, or restore it from a backup")
        }
        if error.isBusy {
            let seconds = String(format: "%g", Double(busyTimeoutMS) / 1000)
            return ExptError(.conflict,
                             "the run ledger \(path) is locked by another expt process (waited \(seconds) s while \(doing)); nothing was recorded",
                             hint: "retry in a moment; if it stays locked, look for a stuck expt process (fuser \(path))")
        }
        if error.code == SQLITE_FULL {
            return ExptError(.failure, "could not write the run ledger \(path) while \(doing): \(error.message); nothing was recorded",
                             hint: "free disk space on that filesystem, then retry")
        }
        if error.isWriteFailure {
            return ExptError(.failure, "could not write the run ledger \(path) while \(doing): \(error.message); nothing was recorded",
                             hint: "check the filesystem (space, permissions, mount), then retry")
        }
        if error.code == SQLITE_CANTOPEN || error.code == SQLITE_PERM {
            return ExptError(.failure, "cannot open the run ledger \(path): \(error.message)",
                             hint: "check that the file and its directory are readable and writable")
        }
        return ExptError(.failure, "the run ledger \(path) failed while \(doing): \(error.description)")
    }
}
