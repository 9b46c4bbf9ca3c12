import Foundation
import ExptModel
import GitKit

/// The steps of fix-and-relaunch after the plan (docs/fix-and-relaunch.md, steps 5–10), and what
/// they hand on to each other: the commit to push, the run to verify, the deliveries that wait.
/// Each is also idempotent on its own content (the doc entry names the failed run, the commit
/// carries its trailer, the relaunch uses the reserved run id), so a step redone after a crash
/// between its side effect and its journal record does nothing twice.
final class FixSteps {
    let fix: FixAndRelaunch
    let plan: FixPlan
    let worktree: String
    let ledger: Ledger
    let outbox: Outbox
    private(set) var commitID = ""
    private(set) var newRun = ""
    private(set) var started: RunRecord?
    /// Push / comment still in the outbox, in words.
    private(set) var pending: [String] = []
    private var openedRepo: Repository?

    init(_ fix: FixAndRelaunch, plan: FixPlan, worktree: String, ledger: Ledger, outbox: Outbox) {
        self.fix = fix; self.plan = plan; self.worktree = worktree; self.ledger = ledger; self.outbox = outbox
    }

    var all: [JournaledStep] {
        // The tracker step appears only for runs linked to a tracker (W&B).
        let tracked = (try? ledger.run(id: plan.failedRun)).flatMap { $0 }.flatMap(service.trackerOf) != nil
        return [stop(), aside(), doc(), commit(), push(), comment(), launch()] + (tracked ? [supersede()] : []) + [verify()]
    }

    var ws: Workspace { fix.ws }
    var service: RunService { fix.service }
    var settings: FixAndRelaunch.Settings { fix.settings }
    var branch: String { plan.branch }

    /// The worktree's repository, opened when a step first needs it (never in a dry run, where
    /// the worktree may not exist).
    func repo() throws -> Repository {
        if let r = openedRepo { return r }
        let r = try Repository.open(at: worktree)
        openedRepo = r
        return r
    }

    // MARK: - Stop, aside

    /// A failed run that the scheduler still runs (stalled: its remaining items are stuck) is
    /// stopped before anything is relaunched; one that ended needs nothing.
    func stop() -> JournaledStep {
        let failed = plan.failedRun
        return .result("stop", would: "stop \(failed) if the scheduler still runs it") { [self] () -> String in
            guard let run = try ledger.run(id: failed), !run.state.isTerminal else { return "\(failed) has ended; nothing to stop" }
            let after = try service.cancel(branch: branch, run: failed)
            return "stopped \(failed) (job \(after.jobID ?? "?")): \(after.state.rawValue)"
        }
    }

    /// The partial outputs of the items that run again are moved aside into a dated folder
    /// (`[outputs]`; research data is never deleted), so a rerun starts clean and nothing is lost.
    func aside() -> JournaledStep {
        let failed = plan.failedRun
        guard let tasks = plan.tasks, let outputs = ItemOutputs((try? service.config(worktree: worktree).outputs) ?? OutputsConfig(),
                                                                 worktree: worktree) else {
            return JournaledStep("aside", would: "nothing to move aside (no [outputs] item_dir, or not an array)",
                                 resume: { _ in "nothing to move aside" }, perform: { .reported(.skipped, "nothing to move aside") })
        }
        let day = ISO8601.day(service.now())
        let example = tasks.first.map { outputs.asideDestination($0, day: day, run: failed) } ?? ""
        return .result("aside", would: "move the outputs of item(s) \(ArraySpec.describe(tasks)) that exist aside (e.g. to \(example))") {
            [self] () -> String in
            let record = try ledger.run(id: failed)
            let files = try record.map { try service.backend(for: $0).files } ?? LocalFiles()
            let moved = try outputs.moveAside(tasks, day: day, run: failed, files: files)
            return moved.isEmpty ? "no partial outputs to move" : "moved \(moved.count) item output(s) aside to \((example as NSString).deletingLastPathComponent)"
        }
    }

    // MARK: - Doc, commit

    /// Once: an entry naming the failed run is never added twice.
    func doc() -> JournaledStep {
        let rel = ws.docRelativePath(for: branch)
        return .result("doc", would: "append a Fix entry to \(rel)") { [self] () -> String in
            let added = try FixRecord.appendEntry(plan: plan, ws: ws, worktree: worktree, repo: try repo(), now: service.now(), tracker: trackerLinks)
            return added ? "added Fix entry for \(plan.failedRun) to \(rel)" : "entry already present"
        }
    }

    /// The checkpoint commit with trailers (after the same doc check the hook runs).
    func commit() -> JournaledStep {
        .result("commit", would: "commit the worktree with Expt-Run: \(plan.failedRun), Expt-Diagnosis: \(plan.category)",
                keep: { [self] (id: String) in commitID = id }) { [self] () -> String in
            try FixRecord.commit(plan: plan, ws: ws, worktree: worktree, repo: try repo(), now: service.now(),
                                 config: try service.config(worktree: worktree))
        }
    }

    // MARK: - Push, comment (through the outbox)

    /// What a push or comment attempt came to.
    enum Delivery {
        /// Nothing to deliver to (no remote, not a GitHub remote).
        case notApplicable(String)
        /// Tried through the outbox: `waiting` is why it still waits, nil when delivered.
        case tried(waiting: String?, done: String)
    }

    func push() -> JournaledStep {
        delivery("push", enabled: settings.push,
                 would: settings.push ? "push \(branch) to origin (if there is one)" : "skip (--no-push)") { [self] in
            guard try repo().remoteURL("origin") != nil else { return .notApplicable("no remote 'origin'") }
            try PushScan.refuseSecrets(ws.repo, branch: branch, remote: "origin", base: try ws.base(of: branch))
            return .tried(waiting: try outbox.push(branch: branch, commit: commitID), done: "pushed \(branch) to origin")
        }
    }

    func comment() -> JournaledStep {
        delivery("comment", enabled: settings.comment,
                 would: settings.comment ? "comment on the pull request of \(branch)" : "skip (--no-comment)") { [self] in
            guard let url = try repo().remoteURL("origin"), fix.hostFactory?(url) != nil else {
                return .notApplicable("origin is not a GitHub remote: no pull request to comment on")
            }
            let body = try FixRecord.commentBody(plan: plan, commit: commitID, ws: ws, tracker: trackerLinks)
            return .tried(waiting: try outbox.comment(branch: branch, body: body, marker: "expt:fix:\(plan.failedRun)"),
                          done: "commented on the pull request of \(branch)")
        }
    }

    /// Done, skipped or queued in the outbox: journaled either way (the outbox owns a queued
    /// item from then on), except when turned off, so a later run with it on does it.
    func delivery(_ name: String, enabled: Bool, would: String, _ attempt: @escaping () throws -> Delivery) -> JournaledStep {
        JournaledStep(name, would: would, resume: { _ in "done earlier" }) { [self] in
            guard enabled else { return .reported(.skipped, "--no-\(name)") }
            switch try attempt() {
            case .notApplicable(let why):
                return .journaled(.skipped, why, data: LedgerJSON.encode("done"))
            case .tried(let waiting?, _):
                pending.append("\(name): \(waiting)")
                return .journaled(.queued, "waiting in the outbox: \(waiting) (`expt outbox --retry` retries)",
                                  data: LedgerJSON.encode(waiting))
            case .tried(nil, let done):
                return .journaled(.done, done, data: LedgerJSON.encode("done"))
            }
        }
    }

    // MARK: - Relaunch

    /// Once: the reserved run id is the idempotency key.
    func launch() -> JournaledStep {
        .result("launch", would: "relaunch \(branch): \(plan.changeSummary)",
                keep: { [self] (run: String) in newRun = run }) { [self] () -> String in
            if try ledger.run(id: plan.newRun) != nil { return plan.newRun }
            return try service.launch(launchRequest()).run ?? plan.newRun
        }
    }

    /// The W&B runs of the failed run and of the relaunch, for the doc entry and the PR comment:
    /// "r1 https://wandb.ai/…/runs/x; r2 continues it" (a resume keeps the W&B run).
    var trackerLinks: String? {
        guard let failed = (try? ledger.run(id: plan.failedRun)).flatMap({ $0 }), let (tracker, oldID) = service.trackerOf(failed) else { return nil }
        let newID = service.trackerEnvironment(tracker, runID: plan.newRun, branch: branch,
                                               resumeOf: plan.resumeFrom != nil ? plan.failedRun : nil)["WANDB_RUN_ID"]
        func link(_ id: String) -> String { tracker.url(runID: id) ?? "W&B run \(id)" }
        return "\(plan.failedRun) \(link(oldID)); " + (newID == oldID ? "\(plan.newRun) continues it" : "\(plan.newRun) \(newID.map(link) ?? "?")")
    }

    /// The failed run's W&B run is tagged superseded (never deleted), so dashboards stop mixing
    /// it with results; a resume that continues the same W&B run keeps it untagged. A tracker
    /// that cannot be reached does not hold up the relaunch: the step says so.
    func supersede() -> JournaledStep {
        JournaledStep("supersede", would: "tag the W&B run of \(plan.failedRun) \(RunService.supersededTag) unless the new run continues it",
                      resume: { _ in nil }) { [self] in
            do {
                guard let done = try service.supersede(failed: plan.failedRun, by: newRun.isEmpty ? plan.newRun : newRun) else {
                    return .journaled(.skipped, "the new run continues the same W&B run", data: nil)
                }
                return .journaled(.done, done, data: nil)
            } catch let e as UserFacingError {
                return .journaled(.skipped, "not tagged: \(e.message)", data: nil)
            }
        }
    }

    func launchRequest() -> LaunchRequest {
        var req = LaunchRequest(branch: branch)
        req.profile = plan.profile
        req.overrides = plan.resources
        req.resumeFrom = plan.resumeFrom
        req.parentRun = plan.failedRun
        req.reservedRunID = plan.newRun
        if let tasks = plan.tasks { req.array = ArraySpec(indices: tasks, maxConcurrent: plan.maxConcurrent) }
        // Everything but run outputs (checkpoints, W&B dirs) was just committed.
        req.allowDirty = true
        return req
    }

    // MARK: - Verify

    /// Never resumed: it reports on the present, so a rerun checks again.
    func verify() -> JournaledStep {
        JournaledStep("verify", would: "wait up to \(Int(settings.wait)) s for the new run to start and log steps", resume: { _ in nil }) { [self] in
            let deadline = service.now().addingTimeInterval(settings.wait)
            let r = try waitForStart(newRun)
            started = r
            guard r.state == .running || r.state == .succeeded else {
                return .journaled(.done, "\(r.id) is \(r.state.rawValue)\(r.reason.map { " (\($0))" } ?? "")", data: r.state.rawValue)
            }
            let metrics = try earlyMetrics(r, until: deadline)
            started = metrics.record
            return .journaled(.done, "\(metrics.record.id) is \(metrics.record.state.rawValue)\(metrics.summary)", data: metrics.record.state.rawValue)
        }
    }

    /// Early metrics: with `--wait`, once the failed run had logged steps, the new run must log
    /// steps too (and, resumed from a checkpoint, get past the failed run's last step) before
    /// the wait ends. Without it, verify reports what the new run logged so far.
    func earlyMetrics(_ started: RunRecord, until deadline: Date) throws -> (record: RunRecord, summary: String) {
        let failedRecord = try ledger.run(id: plan.failedRun)
        // The tracker's step, else what diagnosis read of the failed run's output (a finished
        // run's output on a cluster is read for diagnosis only).
        let before = failedRecord.flatMap { f in
            service.tracking([f]).progress[f.id]?.step ?? (try? service.diagnoseRun(f))?.diagnosis.progress?.lastStep
        }
        let resumed = plan.resumeFrom != nil
        var delays = Backoff.delays(total: max(0, deadline.timeIntervalSince(service.now()))).makeIterator()
        var r = started
        while true {
            let now = service.tracking([r]).progress[r.id]
            let step = now?.step
            let text = now?.text.map { ": \($0)" } ?? ""
            let passed = step.map { s in !resumed || before.map { s > $0 } ?? true } ?? false
            if passed || before == nil || !settings.requireSteps {
                let than = before.map { b in
                    !passed ? "; the failed run reached step \(b)" : resumed ? "; past the failed run's step \(b)" : "; the failed run reached step \(b)"
                } ?? ""
                return (r, step.map { _ in text + than } ?? text)
            }
            if r.state.isFailure { throw failedAtOnce(r) }
            if r.state.isTerminal { return (r, text) }
            guard service.now() < deadline, let delay = delays.next() else {
                let wait = Int(settings.wait)
                let what = step.map { "logged step \($0), not past the failed run's step \(before!)," } ?? "logged no step (the failed run reached step \(before!))"
                throw StepFailed(status: .timedOut, detail: "\(r.id) is running but \(what) within \(wait) s", error: ExptError(
                    .conflict, "the relaunched run \(r.id) is running but \(what) within \(wait) s",
                    hint: "`expt watch \(r.branch)` keeps following it; a longer --wait gives it time to log"))
            }
            service.sleep(delay)
            r = try service.refresh(branches: [branch], fresh: true).first { $0.id == r.id } ?? r
        }
    }

    /// Asks the scheduler afresh (not the command's snapshot) until the run has started, failed,
    /// or `settings.wait` passed, backing off between polls (`Backoff`: a queue takes seconds,
    /// and each poll may be an ssh round trip). The waits add up to `settings.wait`, so a test
    /// whose sleep returns at once still reaches the end.
    func waitForStart(_ runID: String) throws -> RunRecord {
        let deadline = service.now().addingTimeInterval(settings.wait)
        var delays = Backoff.delays(total: settings.wait).makeIterator()
        var record = try ledger.run(id: runID)
        while true {
            record = try service.refresh(branches: [branch], fresh: true).first { $0.id == runID } ?? record
            guard let r = record else { throw ExptError(.failure, "the relaunched run \(runID) is not in the ledger") }
            if hasStarted(r) { return r }
            if r.state.isFailure { throw failedAtOnce(r) }
            guard service.now() < deadline, let delay = delays.next() else { throw timedOut(r) }
            service.sleep(delay)
        }
    }

    /// Running, finished well, or pending for a reason its backend calls a normal wait
    /// (`RunService.pendingVerdict`: a pending job with no reason yet, just submitted, has not
    /// shown a legitimate wait on any backend).
    func hasStarted(_ r: RunRecord) -> Bool {
        switch r.state {
        case .running, .succeeded: return true
        case .pending: return service.pendingVerdict(for: r) == .waiting
        default: return false
        }
    }

    /// The fix is over (its run was launched and ended): journaled, so that fix-and-relaunch
    /// run again fixes this new failure rather than re-verifying the old fix.
    func failedAtOnce(_ r: RunRecord) -> StepFailed {
        let category = service.diagnoseNewFailures([r]).first?.diagnosis ?? "unknown"
        return StepFailed(status: .failed, detail: "\(r.id) failed at once: \(r.state.rawValue) [\(category)]", error: ExptError(
            .failure, "the relaunched run \(r.id) failed at once: \(r.state.rawValue) [\(category)]",
            hint: "`expt diagnose \(r.branch)` explains it; fix the worktree and run fix-and-relaunch again"), journal: r.state.rawValue)
    }

    func timedOut(_ r: RunRecord) -> StepFailed {
        let wait = Int(settings.wait)
        // A scheduler that will not start the job as submitted says why (its backend's words).
        var why = ""
        if r.state == .pending, case .blocked(let reason) = service.pendingVerdict(for: r) { why = "; \(reason)" }
        return StepFailed(status: .timedOut, detail: "\(r.id) is still \(r.state.rawValue) after \(wait) s\(why)", error: ExptError(
            .conflict, "the relaunched run \(r.id) did not start within \(wait) s (it is \(r.state.rawValue)\(r.reason.map { ": \($0)" } ?? "")\(why))",
            hint: "`expt watch \(r.branch)` keeps following it"))
    }
}
