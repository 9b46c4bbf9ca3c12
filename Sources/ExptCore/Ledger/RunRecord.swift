import Foundation
import ExptModel

/// One run as the ledger records it: a row of `runs` as Swift values.
public struct RunRecord: Codable, Sendable, Equatable {
    /// Short, human-friendly, never reused: `r12`.
    public var id: String
    /// The number in `id`; orders runs across the whole ledger.
    public var seq: Int
    public var branch: String
    /// 1 for the branch's first run, then 2, 3, ...
    public var attempt: Int
    public var parentRun: String?
    public var backend: String
    /// nil while `state == .submitting` (the backend has not answered yet).
    public var jobID: String?
    public var jobName: String?
    public var commit: String
    public var profile: String?
    public var resources: Resources
    @LazyDecoded public var spec: JobSpec?
    public var submittedAt: Date?
    public var startedAt: Date?
    public var endedAt: Date?
    public var state: JobState
    public var rawState: String?
    public var reason: String?
    public var exitCode: Int32?
    public var signal: Int32?
    public var maxRSSMB: Int?
    public var logDir: String?
    /// A failure category (`oom_host`, ...) once diagnosed.
    public var diagnosis: String?
    public var tasks: [TaskStatus]
    public var createdAt: Date
    public var updatedAt: Date

    /// The reason `expt cancel` records (and the local backend reports) for a cancel it asked for.
    public static let cancelledByRequest = "cancelled by request"

    /// Cancelled because someone asked (`expt cancel`), not by the scheduler: not a failure to
    /// diagnose or fix.
    public var wasCancelledByRequest: Bool { state == .cancelled && (reason ?? "").hasPrefix(Self.cancelledByRequest) }

    /// The run's tracker id (W&B), from its job's environment; rows whose spec cannot hold
    /// one are not decoded.
    public var trackerRunID: String? {
        $spec.mayContain("WANDB_RUN_ID") ? spec?.environment["WANDB_RUN_ID"] : nil
    }

    /// The backend's handle on the job, once it has one.
    public var ref: JobRef? { jobID.map { JobRef(backend: backend, jobID: $0) } }

    /// For fakes and renderings in tests; the ledger builds its records from rows.
    public init(id: String, seq: Int, branch: String, attempt: Int, parentRun: String? = nil, backend: String,
                jobID: String? = nil, jobName: String? = nil, commit: String, profile: String? = nil,
                resources: Resources = Resources(), spec: JobSpec? = nil, submittedAt: Date? = nil,
                startedAt: Date? = nil, endedAt: Date? = nil, state: JobState, rawState: String? = nil,
                reason: String? = nil, exitCode: Int32? = nil, signal: Int32? = nil, maxRSSMB: Int? = nil,
                logDir: String? = nil, diagnosis: String? = nil, tasks: [TaskStatus] = [],
                createdAt: Date, updatedAt: Date) {
        self.id = id; self.seq = seq; self.branch = branch; self.attempt = attempt; self.parentRun = parentRun
        self.backend = backend; self.jobID = jobID; self.jobName = jobName; self.commit = commit
        self.profile = profile; self.resources = resources; self.spec = spec; self.submittedAt = submittedAt
        self.startedAt = startedAt; self.endedAt = endedAt; self.state = state; self.rawState = rawState
        self.reason = reason; self.exitCode = exitCode; self.signal = signal; self.maxRSSMB = maxRSSMB
        self.logDir = logDir; self.diagnosis = diagnosis; self.tasks = tasks
        self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}

/// One step of a multi-step workflow (fix-and-relaunch), recorded so a rerun skips it.
public struct JournalEntry: Codable, Sendable, Equatable {
    public var flow: String
    public var step: String
    public var status: String
    /// The step's result (often JSON), so a resumed flow can reuse it.
    public var data: String?
    public var at: Date

    public init(flow: String, step: String, status: String, data: String?, at: Date) {
        self.flow = flow; self.step = step; self.status = status; self.data = data; self.at = at
    }
}

/// A side effect (push, PR comment) queued until it can be delivered.
public struct OutboxItem: Codable, Sendable, Equatable {
    public var id: Int64
    /// `push`, `pr_comment`, ...
    public var kind: String
    public var branch: String?
    /// Enqueuing the same key twice keeps one item.
    public var dedupeKey: String
    /// JSON text, interpreted by whoever delivers `kind`.
    public var payload: String
    public var createdAt: Date
    public var attempts: Int
    public var lastError: String?
    public var deliveredAt: Date?
    public var lastAttemptAt: Date?

    public init(id: Int64, kind: String, branch: String?, dedupeKey: String, payload: String, createdAt: Date,
                attempts: Int = 0, lastError: String? = nil, deliveredAt: Date? = nil, lastAttemptAt: Date? = nil) {
        self.id = id; self.kind = kind; self.branch = branch; self.dedupeKey = dedupeKey; self.payload = payload
        self.createdAt = createdAt; self.attempts = attempts; self.lastError = lastError; self.deliveredAt = deliveredAt
        self.lastAttemptAt = lastAttemptAt
    }
}

/// Dates are stored as ISO 8601 UTC text with milliseconds: readable in `sqlite3` and sortable.
enum LedgerDate {
    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    static func string(_ date: Date) -> String { date.formatted(style) }
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        return fastDate(text) ?? (try? style.parse(text))
    }

    /// The form `string` writes (`2026-11-24T10:00:00.123Z`), parsed by hand: a ledger read
    /// of 1,000 runs parses 5,000 of them, and the format style took a tenth of `status --all`.
    /// Anything else goes to the format style.
    static func fastDate(_ text: String) -> Date? {
        var u = text.utf8.makeIterator()
        var b = [UInt8](); b.reserveCapacity(24)
        while let c = u.next() { b.append(c); if b.count > 24 { return nil } }
        guard b.count == 24, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A,
              b[19] == 0x2E, b[23] == 0x5A else { return nil }
        func n(_ from: Int, _ to: Int) -> Int? {
            var v = 0
            for i in from..<to { let d = Int(b[i]) - 48; guard d >= 0, d <= 9 else { return nil }; v = v * 10 + d }
            return v
        }
        guard let y = n(0, 4), let mo = n(5, 7), let d = n(8, 10), let h = n(11, 13), let mi = n(14, 16),
              let s = n(17, 19), let ms = n(20, 23), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 60
        else { return nil }
        let days = Units.daysFromCivil(year: y, month: mo, day: d)
        // Counted from the reference date, as Date stores it, so the value is the one the
        // format style gives, bit for bit.
        // Before 2001 the sum rounds differently from the style's: left to it (no ledger holds such dates).
        let whole = days * 86400 + h * 3600 + mi * 60 + s - 978_307_200
        guard whole >= 0 else { return nil }
        return Date(timeIntervalSinceReferenceDate: Double(whole) + Double(ms) / 1000)
    }
}

extension SQLValue {
    static func of(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    static func of(_ i: Int?) -> SQLValue { i.map { .int(Int64($0)) } ?? .null }
    static func of(_ i: Int32?) -> SQLValue { i.map { .int(Int64($0)) } ?? .null }
    static func of(_ d: Date?) -> SQLValue { d.map { .text(LedgerDate.string($0)) } ?? .null }
}

/// JSON for the ledger's `*_json` columns: sorted keys, so rows are stable and diffable.
enum LedgerJSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding our own plain structs cannot fail.
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

extension RunRecord {
    /// Builds a record from a `SELECT * FROM runs` row.
    init(row: SQLiteRow) {
        var memo: [String: Resources] = [:]
        self.init(row: row, resources: &memo)
    }

    /// Builds a record from a row, reusing the decoded resources of earlier rows (`memo`).
    init(row: SQLiteRow, resources memo: inout [String: Resources]) {
        id = row.string("id") ?? ""
        seq = Int(row.int("seq") ?? 0)
        branch = row.string("branch") ?? ""
        attempt = Int(row.int("attempt") ?? 0)
        parentRun = row.string("parent_run")
        backend = row.string("backend") ?? ""
        jobID = row.string("job_id")
        jobName = row.string("job_name")
        commit = row.string("commit_sha") ?? ""
        profile = row.string("profile")
        let resourcesJSON = row.string("resources_json") ?? ""
        if let known = memo[resourcesJSON] { resources = known } else {
            resources = LedgerJSON.decode(Resources.self, resourcesJSON) ?? Resources()
            memo[resourcesJSON] = resources
        }
        _spec = LazyDecoded(json: row.string("spec_json"))
        submittedAt = LedgerDate.date(row.string("submitted_at"))
        startedAt = LedgerDate.date(row.string("started_at"))
        endedAt = LedgerDate.date(row.string("ended_at"))
        // An unknown state string (written by a newer expt) reads as lost rather than crashing.
        state = JobState(rawValue: row.string("state") ?? "") ?? .lost
        rawState = row.string("raw_state")
        reason = row.string("reason")
        exitCode = row.int("exit_code").map { Int32(truncatingIfNeeded: $0) }
        signal = row.int("signal").map { Int32(truncatingIfNeeded: $0) }
        maxRSSMB = row.int("max_rss_mb").map { Int($0) }
        logDir = row.string("log_dir")
        diagnosis = row.string("diagnosis")
        let tasksJSON = row.string("tasks_json")
        tasks = tasksJSON == nil || tasksJSON == "[]" ? [] : LedgerJSON.decode([TaskStatus].self, tasksJSON) ?? []
        createdAt = LedgerDate.date(row.string("created_at")) ?? Date(timeIntervalSince1970: 0)
        updatedAt = LedgerDate.date(row.string("updated_at")) ?? Date(timeIntervalSince1970: 0)
    }
}
