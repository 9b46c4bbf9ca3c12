import Foundation
import ExptModel

/// Runs: the launch protocol is intent → submit → `recordSubmitted` (or `recordFailedSubmit`),
/// so a launch killed between submit and recording leaves a `.submitting` row whose job name
/// (carrying the run id) lets the next command reconcile it via `Backend.lookup`.
extension Ledger {
    /// Allocates the next run id (`r<n>`, never reused) and records the intent to launch, in one
    /// transaction. `attempt` is 1 + the branch's earlier runs. `makeSpec` builds the job spec
    /// for the new id (it runs inside the transaction: keep it free of side effects).
    /// - Parameter reserved: an id from `reserveRunID()` to use instead of a fresh one.
    public func recordIntent(branch: String, backend: String, commit: String, profile: String?,
                             resources: Resources, parentRun: String?, reserved: String? = nil, at now: Date = Date(),
                             makeSpec: (_ runID: String) throws -> JobSpec) throws -> RunRecord {
        try write("recording the launch of \(branch)") { db in
            let seq: Int64
            if let reserved, let n = Int(reserved.dropFirst()), reserved.hasPrefix("r") {
                if try db.query("SELECT count(*) AS n FROM runs WHERE id = ?", [.text(reserved)]).first?.int("n") ?? 0 > 0 {
                    throw ExptError(.conflict, "run id \(reserved) is already in use")
                }
                seq = Int64(n)
            } else {
                seq = try Self.nextSeq(db, runsDir: runsDir)
            }
            let id = "r\(seq)"
            let earlier = try db.query("SELECT count(*) AS n FROM runs WHERE branch = ?", [.text(branch)])
                .first?.int("n") ?? 0
            let spec = try makeSpec(id)
            try db.query("""
                INSERT INTO runs(id, seq, branch, attempt, parent_run, backend, job_name, commit_sha, profile,
                                 resources_json, spec_json, state, log_dir, tasks_json, created_at, updated_at)
                VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)
                """, [.text(id), .int(seq), .text(branch), .int(earlier + 1), .of(parentRun), .text(backend),
                      .text(spec.jobName), .text(commit), .of(profile), .text(LedgerJSON.encode(resources)),
                      .text(LedgerJSON.encode(spec)), .text(JobState.submitting.rawValue), .text(spec.logDir),
                      .of(now), .of(now)])
            return try fetch(db, id)!
        }.manifested(runsDir)
    }

    /// Takes the next run id without recording a run, so a workflow can name the run before it
    /// launches it (fix-and-relaunch writes "Relaunched as: r7" into the doc first). An id
    /// reserved and never used stays burnt, like every id.
    public func reserveRunID() throws -> String {
        try write("reserving a run id") { db in "r\(try Self.nextSeq(db, runsDir: runsDir))" }
    }

    /// The counter's next value, skipping any id whose run directory already exists (a
    /// directory the ledger does not know of is never overwritten).
    static func nextSeq(_ db: SQLiteDatabase, runsDir: String) throws -> Int64 {
        while true {
            let seq = try db.query("""
                INSERT INTO counters(name, value) VALUES('run', 1)
                ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value
                """).first?.int("value") ?? 1
            if !FileManager.default.fileExists(atPath: runsDir + "/r\(seq)") { return seq }
        }
    }

    /// The backend accepted the job: store its id; state becomes `pending`.
    @discardableResult
    public func recordSubmitted(runID: String, ref: JobRef, at now: Date = Date()) throws -> RunRecord {
        try write("recording the job id of \(runID)") { db in
            try db.query("""
                UPDATE runs SET job_id = ?, backend = ?, submitted_at = ?, state = ?, updated_at = ? WHERE id = ?
                """, [.text(ref.jobID), .text(ref.backend), .of(now), .text(JobState.pending.rawValue), .of(now), .text(runID)])
            return try existing(db, runID)
        }.manifested(runsDir)
    }

    /// The backend refused the job (it definitely does not exist): the intent row is deleted.
    ///
    /// Deleted rather than marked failed because a failed run in the ledger is something
    /// `status`, `diagnose` and `fix-and-relaunch` act on, and this one never ran: it would be
    /// a phantom job. The error reaches the user directly from `launch`. The id stays burnt
    /// (the counter never goes back), so ids are never reused; attempts stay consecutive.
    /// When the outcome is unknown (the submit command timed out), do NOT call this: leave the
    /// row `.submitting` and reconcile with `Backend.lookup(jobName:spec:)`.
    public func recordFailedSubmit(runID: String, error: Error) throws {
        try write("discarding the failed launch \(runID)") { db in
            try db.query("DELETE FROM runs WHERE id = ? AND state = ?", [.text(runID), .text(JobState.submitting.rawValue)])
        }
        // The directory stays (the backend may have written into it), but not as a run to recover.
        unlink(runsDir + "/" + runID + "/" + RunManifest.fileName)
    }

    /// Records what a poll learned. A `lost` status never replaces a terminal state: a job
    /// that finished and was then forgotten by its scheduler is still finished.
    @discardableResult
    public func update(runID: String, status: JobStatus, at now: Date = Date()) throws -> RunRecord {
        try write("recording the status of \(runID)") { db in
            let current = try existing(db, runID)
            if status.state == .lost && current.state.isTerminal { return current }
            try db.query("""
                UPDATE runs SET state = ?, raw_state = ?, reason = ?, exit_code = ?, signal = ?,
                    started_at = coalesce(?, started_at), ended_at = coalesce(?, ended_at),
                    max_rss_mb = coalesce(?, max_rss_mb), tasks_json = ?, updated_at = ?
                WHERE id = ?
                """, [.text(status.state.rawValue), .text(status.rawState), .of(status.reason), .of(status.exitCode),
                      .of(status.signal), .of(status.startedAt), .of(status.endedAt), .of(status.maxRSSMB),
                      .text(LedgerJSON.encode(status.tasks)), .of(now), .text(runID)])
            return try existing(db, runID)
        }
    }

    /// Records the diagnosis category (`oom_host`, ...) of a run; nil clears it.
    public func setDiagnosis(runID: String, category: String?, at now: Date = Date()) throws {
        try write("recording the diagnosis of \(runID)") { db in
            _ = try existing(db, runID)
            try db.query("UPDATE runs SET diagnosis = ?, updated_at = ? WHERE id = ?", [.of(category), .of(now), .text(runID)])
        }
    }

    public func run(id: String) throws -> RunRecord? {
        try withDB("reading run \(id)") { try fetch($0, id) }
    }

    /// The branch's runs, oldest first.
    public func runs(branch: String) throws -> [RunRecord] {
        try select("reading the runs of \(branch)", "WHERE branch = ? ORDER BY seq", [.text(branch)])
    }

    public func latestRun(branch: String) throws -> RunRecord? {
        try select("reading the latest run of \(branch)", "WHERE branch = ? ORDER BY seq DESC LIMIT 1", [.text(branch)]).first
    }

    /// Runs in any of `states`, oldest first.
    public func runs(states: Set<JobState>) throws -> [RunRecord] {
        guard !states.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: states.count).joined(separator: ", ")
        return try select("reading runs by state", "WHERE state IN (\(marks)) ORDER BY seq",
                          states.map { .text($0.rawValue) })
    }

    /// Every run, oldest first.
    public func allRuns() throws -> [RunRecord] {
        try select("reading all runs", "ORDER BY seq", [])
    }

    /// The latest run of every branch plus every run still live, oldest first: what `status`
    /// shows by default, without decoding the whole history.
    public func latestAndLiveRuns() throws -> [RunRecord] {
        let live = JobState.allCases.filter { !$0.isTerminal }
        let marks = Array(repeating: "?", count: live.count).joined(separator: ", ")
        return try select("reading the latest runs",
                          "WHERE seq IN (SELECT max(seq) FROM runs GROUP BY branch) OR state IN (\(marks)) ORDER BY seq",
                          live.map { .text($0.rawValue) })
    }

    /// Runs still submitting, pending or running: what `status` polls.
    public func nonTerminalRuns() throws -> [RunRecord] {
        try runs(states: Set(JobState.allCases.filter { !$0.isTerminal }))
    }

    private func select(_ doing: String, _ clause: String, _ bindings: [SQLValue]) throws -> [RunRecord] {
        try withDB(doing) { db in
            // Runs of one experiment share their resources: decode each distinct JSON once.
            var resources: [String: Resources] = [:]
            return try db.query("SELECT * FROM runs \(clause)", bindings).map { RunRecord(row: $0, resources: &resources) }
        }
    }

    private func fetch(_ db: SQLiteDatabase, _ id: String) throws -> RunRecord? {
        try db.query("SELECT * FROM runs WHERE id = ?", [.text(id)]).first.map(RunRecord.init(row:))
    }

    private func existing(_ db: SQLiteDatabase, _ id: String) throws -> RunRecord {
        guard let run = try fetch(db, id) else {
            throw ExptError(.notFound, "no run \(id) in the run ledger \(path)", hint: "`expt status` lists the runs")
        }
        return run
    }
}
