import XCTest
import ExptModel
@testable import ExptCore

/// The ledger against real SQLite files in temporary directories.
final class LedgerTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "ledger-tests-\(UUID().uuidString)/expt"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent)
    }

    func spec(_ runID: String, branch: String = "exp/lr") -> JobSpec {
        JobSpec(runID: runID, branch: branch, jobName: JobSpec.jobName(runID: runID, branch: branch),
                workdir: "/repo/.worktrees/\(branch)", command: "python train.py",
                resources: Resources(memoryMB: 2048), logDir: "\(dir!)/runs/\(runID)")
    }

    func intent(_ ledger: Ledger, branch: String = "exp/lr", parent: String? = nil) throws -> RunRecord {
        try ledger.recordIntent(branch: branch, backend: "local", commit: "abc123", profile: "default",
                                resources: Resources(memoryMB: 2048, timeLimitSeconds: 60), parentRun: parent) {
            self.spec($0, branch: branch)
        }
    }

    func testFreshFileIsMigratedAndReopenIsANoOp() throws {
        let ledger = try Ledger(dir: dir)
        XCTAssertEqual(ledger.schemaVersion, LedgerSchema.migrations.count)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir!)/ledger.sqlite"))
        let mode = try ledger.withDB("test") { try $0.query("PRAGMA journal_mode").first?.string("journal_mode") }
        XCTAssertEqual(mode, "wal")
        _ = try intent(ledger)

        let reopened = try Ledger(dir: dir)
        XCTAssertEqual(reopened.schemaVersion, LedgerSchema.migrations.count)
        XCTAssertEqual(try reopened.allRuns().map(\.id), ["r1"])
    }

    /// A ledger written by an older expt (schema 1) is upgraded in place, its data kept.
    func testSchemaOneLedgerIsUpgradedKeepingItsData() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let db = try SQLiteDatabase(path: dir + "/ledger.sqlite")
        try db.exec(LedgerSchema.migrations[0])
        try db.exec("""
            INSERT INTO outbox(kind, branch, dedupe_key, payload, created_at, attempts)
            VALUES('pr_comment', 'e', 'comment:x', '{}', '2026-11-24T00:00:00.000Z', 2);
            PRAGMA user_version = 1;
            """)
        let ledger = try Ledger(dir: dir)
        XCTAssertEqual(ledger.schemaVersion, LedgerSchema.migrations.count)
        let item = try XCTUnwrap(try ledger.pendingOutbox().first)
        XCTAssertEqual(item.attempts, 2)
        XCTAssertNil(item.lastAttemptAt)
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        try ledger.markAttemptFailed(id: item.id, error: "offline", at: at)
        XCTAssertEqual(try ledger.pendingOutbox().first?.lastAttemptAt, at)
    }

    func testNewerSchemaIsRefused() throws {
        let ledger = try Ledger(dir: dir)
        try ledger.withDB("test") { try $0.exec("PRAGMA user_version = 99") }
        XCTAssertThrowsError(try Ledger(dir: dir)) { error in
            XCTAssertTrue("\(error)".contains("newer than this expt understands"), "\(error)")
        }
    }

    func testRunIDsAreSequentialNeverReusedAndAttemptsCountPerBranch() throws {
        let ledger = try Ledger(dir: dir)
        let a = try intent(ledger)
        let b = try intent(ledger, branch: "exp/other")
        let c = try intent(ledger, parent: a.id)
        XCTAssertEqual([a.id, b.id, c.id], ["r1", "r2", "r3"])
        XCTAssertEqual([a.attempt, b.attempt, c.attempt], [1, 1, 2])
        XCTAssertEqual(c.parentRun, "r1")

        try ledger.recordFailedSubmit(runID: c.id, error: ExptError(.external, "sbatch: error"))
        XCTAssertNil(try ledger.run(id: "r3"))
        let d = try intent(ledger)
        XCTAssertEqual(d.id, "r4", "a discarded id is never handed out again")
        XCTAssertEqual(d.attempt, 2, "a launch that never reached the backend is not an attempt")
        XCTAssertEqual(try Ledger(dir: dir).allRuns().map(\.id), ["r1", "r2", "r4"])
    }

    func testIntentSubmittedStatusRoundTrip() throws {
        let ledger = try Ledger(dir: dir)
        let created = Date(timeIntervalSince1970: 1_700_000_000.25)
        let run = try ledger.recordIntent(branch: "exp/lr", backend: "local", commit: "abc123", profile: nil,
                                          resources: Resources(memoryMB: 100), parentRun: nil, at: created) { self.spec($0) }
        XCTAssertEqual(run.state, .submitting)
        XCTAssertNil(run.jobID)
        XCTAssertEqual(run.spec, spec("r1"))
        XCTAssertEqual(run.jobName, "expt.r1.exp-lr")
        XCTAssertEqual(run.logDir, "\(dir!)/runs/r1")
        XCTAssertEqual(run.resources, Resources(memoryMB: 100))
        XCTAssertEqual(run.createdAt, created)
        XCTAssertEqual(try ledger.nonTerminalRuns().map(\.id), ["r1"])

        let ref = JobRef(backend: "local", jobID: "r1.4242")
        let submitted = try ledger.recordSubmitted(runID: "r1", ref: ref, at: created.addingTimeInterval(1))
        XCTAssertEqual(submitted.state, .pending)
        XCTAssertEqual(submitted.ref, ref)
        XCTAssertEqual(submitted.submittedAt, created.addingTimeInterval(1))

        let start = created.addingTimeInterval(2), end = created.addingTimeInterval(30)
        let tasks = [TaskStatus(index: 3, state: .oom, rawState: "OUT_OF_MEMORY", exitCode: 137, message: "killed")]
        try ledger.update(runID: "r1", status: JobStatus(ref: ref, state: .running, rawState: "RUNNING", startedAt: start))
        let done = try ledger.update(runID: "r1", status: JobStatus(
            ref: ref, state: .oom, rawState: "OUT_OF_MEMORY", reason: "memory limit", exitCode: nil, signal: 9,
            endedAt: end, maxRSSMB: 412, tasks: tasks))
        XCTAssertEqual(done.state, .oom)
        XCTAssertEqual(done.startedAt, start, "a later status without a start time keeps the known one")
        XCTAssertEqual(done.endedAt, end)
        XCTAssertEqual(done.signal, 9)
        XCTAssertEqual(done.maxRSSMB, 412)
        XCTAssertEqual(done.tasks, tasks)
        XCTAssertEqual(try ledger.nonTerminalRuns(), [])
        XCTAssertEqual(try ledger.runs(states: [.oom]).map(\.id), ["r1"])

        let lost = try ledger.update(runID: "r1", status: JobStatus(ref: ref, state: .lost, rawState: "UNKNOWN"))
        XCTAssertEqual(lost.state, .oom, "lost never overwrites a terminal state")

        try ledger.setDiagnosis(runID: "r1", category: "oom_host")
        XCTAssertEqual(try Ledger(dir: dir).run(id: "r1")?.diagnosis, "oom_host")
        XCTAssertThrowsError(try ledger.setDiagnosis(runID: "r99", category: "x")) {
            XCTAssertEqual(($0 as? ExptError)?.kind, .notFound)
        }
    }

    func testRunsByBranchAreOldestFirstAndLatestIsNewest() throws {
        let ledger = try Ledger(dir: dir)
        for _ in 0..<3 { _ = try intent(ledger) }
        _ = try intent(ledger, branch: "main")
        XCTAssertEqual(try ledger.runs(branch: "exp/lr").map(\.id), ["r1", "r2", "r3"])
        XCTAssertEqual(try ledger.latestRun(branch: "exp/lr")?.id, "r3")
        XCTAssertNil(try ledger.latestRun(branch: "nope"))
    }

    func testJournalIsIdempotent() throws {
        let ledger = try Ledger(dir: dir)
        XCTAssertNil(try ledger.journalStep(flow: "fix-r3", step: "commit"))
        try ledger.recordJournal(flow: "fix-r3", step: "commit", status: "started", data: nil)
        try ledger.recordJournal(flow: "fix-r3", step: "commit", data: #"{"sha":"abc"}"#)
        try ledger.recordJournal(flow: "fix-r3", step: "push", data: nil)
        let entry = try Ledger(dir: dir).journalStep(flow: "fix-r3", step: "commit")
        XCTAssertEqual(entry?.status, "done")
        XCTAssertEqual(entry?.data, #"{"sha":"abc"}"#)
        XCTAssertEqual(try ledger.journal(flow: "fix-r3").map(\.step), ["commit", "push"])
        XCTAssertNil(try ledger.journalStep(flow: "fix-r4", step: "commit"))
    }

    func testOutboxDedupesAndTracksDelivery() throws {
        let ledger = try Ledger(dir: dir)
        let first = try ledger.enqueue(kind: "pr_comment", branch: "exp/lr", dedupeKey: "fix-r3-comment", payload: #"{"body":"a"}"#)
        let again = try ledger.enqueue(kind: "pr_comment", branch: "exp/lr", dedupeKey: "fix-r3-comment", payload: #"{"body":"b"}"#)
        XCTAssertEqual(first, again)
        XCTAssertEqual(again.payload, #"{"body":"a"}"#)
        let push = try ledger.enqueue(kind: "push", branch: "exp/lr", dedupeKey: "push-abc", payload: "{}")
        XCTAssertEqual(try ledger.pendingOutbox().map(\.id), [first.id, push.id])

        try ledger.markAttemptFailed(id: first.id, error: "gh: not authenticated")
        try ledger.markAttemptFailed(id: first.id, error: "gh: offline")
        try ledger.markDelivered(id: push.id)
        let pending = try ledger.pendingOutbox()
        XCTAssertEqual(pending.map(\.id), [first.id])
        XCTAssertEqual(pending.first?.attempts, 2)
        XCTAssertEqual(pending.first?.lastError, "gh: offline")
        XCTAssertNotNil(try ledger.allOutbox().last?.deliveredAt)
    }
}
