import Foundation
import ExptModel

// MARK: - Journal

/// The step journal makes a multi-step workflow idempotent: before doing step X of flow F, ask
/// `journalStep`; after doing it, `recordJournal` with its result. A rerun after a crash skips
/// what is recorded.
extension Ledger {
    /// The recorded entry for `step` of `flow`, or nil if it was never recorded.
    public func journalStep(flow: String, step: String) throws -> JournalEntry? {
        try withDB("reading step \(step) of \(flow)") { db in
            try db.query("SELECT * FROM journal WHERE flow_id = ? AND step = ?", [.text(flow), .text(step)])
                .first.map(Self.journalEntry)
        }
    }

    /// Records (or overwrites: a step may move from `started` to `done`) one step's result.
    @discardableResult
    public func recordJournal(flow: String, step: String, status: String = "done", data: String?,
                              at now: Date = Date()) throws -> JournalEntry {
        try write("recording step \(step) of \(flow)") { db in
            try db.query("""
                INSERT INTO journal(flow_id, step, status, data, at) VALUES(?, ?, ?, ?, ?)
                ON CONFLICT(flow_id, step) DO UPDATE SET status = excluded.status, data = excluded.data, at = excluded.at
                """, [.text(flow), .text(step), .text(status), .of(data), .of(now)])
            return JournalEntry(flow: flow, step: step, status: status, data: data,
                                at: LedgerDate.date(LedgerDate.string(now)) ?? now)
        }
    }

    /// Every recorded step of `flow`, in the order they were recorded.
    public func journal(flow: String) throws -> [JournalEntry] {
        try withDB("reading the journal of \(flow)") { db in
            try db.query("SELECT * FROM journal WHERE flow_id = ? ORDER BY at, rowid", [.text(flow)]).map(Self.journalEntry)
        }
    }

    private static func journalEntry(_ row: SQLiteRow) -> JournalEntry {
        JournalEntry(flow: row.string("flow_id") ?? "", step: row.string("step") ?? "",
                     status: row.string("status") ?? "", data: row.string("data"),
                     at: LedgerDate.date(row.string("at")) ?? Date(timeIntervalSince1970: 0))
    }
}

// MARK: - Outbox

/// The outbox holds pushes and PR comments that could not be delivered yet (offline, gh not
/// authenticated); a later command retries them. The dedupe key makes enqueueing idempotent.
extension Ledger {
    /// Queues an item; if one with `dedupeKey` exists already, returns it unchanged.
    @discardableResult
    public func enqueue(kind: String, branch: String?, dedupeKey: String, payload: String,
                        at now: Date = Date()) throws -> OutboxItem {
        try write("queueing \(kind) \(dedupeKey)") { db in
            try db.query("""
                INSERT INTO outbox(kind, branch, dedupe_key, payload, created_at) VALUES(?, ?, ?, ?, ?)
                ON CONFLICT(dedupe_key) DO NOTHING
                """, [.text(kind), .of(branch), .text(dedupeKey), .text(payload), .of(now)])
            return try db.query("SELECT * FROM outbox WHERE dedupe_key = ?", [.text(dedupeKey)]).first.map(Self.outboxItem)!
        }
    }

    /// Items not delivered yet, oldest first.
    public func pendingOutbox() throws -> [OutboxItem] {
        try withDB("reading the outbox") { db in
            try db.query("SELECT * FROM outbox WHERE delivered_at IS NULL ORDER BY id").map(Self.outboxItem)
        }
    }

    public func allOutbox() throws -> [OutboxItem] {
        try withDB("reading the outbox") { db in try db.query("SELECT * FROM outbox ORDER BY id").map(Self.outboxItem) }
    }

    /// The item `id` as it is now, or nil when there is none.
    public func outboxItem(id: Int64) throws -> OutboxItem? {
        try withDB("reading outbox item \(id)") { db in
            try db.query("SELECT * FROM outbox WHERE id = ?", [.int(id)]).first.map(Self.outboxItem)
        }
    }

    /// Claims item `id` for `owner` before it is sent, in one transaction: true only when it is
    /// undelivered and unclaimed, or its claim is at least `staleAfter` seconds old (its holder
    /// was killed). Two processes retrying the outbox at once would otherwise both send it (R12).
    public func claimOutbox(id: Int64, owner: String, at now: Date = Date(), staleAfter: TimeInterval) throws -> Bool {
        try write("claiming outbox item \(id)") { db in
            guard let row = try db.query("SELECT delivered_at, claimed_by, claimed_at FROM outbox WHERE id = ?", [.int(id)]).first,
                  row.string("delivered_at") == nil else { return false }
            if let holder = row.string("claimed_by"), let since = LedgerDate.date(row.string("claimed_at")),
               now.timeIntervalSince(since) < staleAfter, !Self.claimHolderIsGone(holder) {
                return false
            }
            try db.query("UPDATE outbox SET claimed_by = ?, claimed_at = ? WHERE id = ?", [.text(owner), .of(now), .int(id)])
            return true
        }
    }

    /// An owner for `claimOutbox`: this process on this host, unique per delivery.
    public static func claimOwner() -> String {
        "pid \(getpid()) host \(ProcessInfo.processInfo.hostName) \(UUID().uuidString)"
    }

    /// A claim whose holder was a process on this host that no longer exists (killed
    /// mid-delivery) lapses at once rather than after `staleAfter`.
    static func claimHolderIsGone(_ owner: String) -> Bool {
        let words = owner.split(separator: " ")
        guard words.count >= 4, words[0] == "pid", let pid = Int32(words[1]), words[2] == "host",
              words[3] == ProcessInfo.processInfo.hostName else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Drops `owner`'s claim on item `id`, delivered or not. A claim another owner took over
    /// (after this one went stale) is left alone.
    public func releaseOutboxClaim(id: Int64, owner: String) throws {
        try write("releasing outbox item \(id)") { db in
            try db.query("UPDATE outbox SET claimed_by = NULL, claimed_at = NULL WHERE id = ? AND claimed_by = ?",
                         [.int(id), .text(owner)])
        }
    }

    public func markDelivered(id: Int64, at now: Date = Date()) throws {
        try write("marking outbox item \(id) delivered") { db in
            try db.query("UPDATE outbox SET delivered_at = ?, last_error = NULL WHERE id = ?", [.of(now), .int(id)])
        }
    }

    /// Counts one failed delivery and keeps its error for `expt status` to show.
    public func markAttemptFailed(id: Int64, error: String, at now: Date = Date()) throws {
        try write("recording a failed delivery of outbox item \(id)") { db in
            try db.query("UPDATE outbox SET attempts = attempts + 1, last_error = ?, last_attempt_at = ? WHERE id = ?",
                         [.text(error), .of(now), .int(id)])
        }
    }

    private static func outboxItem(_ row: SQLiteRow) -> OutboxItem {
        OutboxItem(id: row.int("id") ?? 0, kind: row.string("kind") ?? "", branch: row.string("branch"),
                   dedupeKey: row.string("dedupe_key") ?? "", payload: row.string("payload") ?? "",
                   createdAt: LedgerDate.date(row.string("created_at")) ?? Date(timeIntervalSince1970: 0),
                   attempts: Int(row.int("attempts") ?? 0), lastError: row.string("last_error"),
                   deliveredAt: LedgerDate.date(row.string("delivered_at")),
                   lastAttemptAt: LedgerDate.date(row.string("last_attempt_at")))
    }
}
