import Foundation
import GitKit
import ExptDiagnosis

/// One step of fix-and-relaunch as reported to the user.
public struct FixStep: Codable, Sendable {
    public var step: String
    /// done, skipped, queued, would (dry run), or resumed (done by an earlier, interrupted run).
    public var status: String
    public var detail: String
}

/// What fix-and-relaunch did.
public struct FixResult: Codable, Sendable {
    public var branch: String
    public var failedRun: String
    public var category: String
    public var plan: FixPlan
    public var steps: [FixStep]
    public var commit: String?
    public var newRun: String?
    public var newJob: String?
    public var newState: String?
    /// Outbox items still waiting (push, PR comment), in words.
    public var pending: [String]
    public var dryRun: Bool
}

/// The recorded fix loop (DESIGN.md section 2): worktree → diagnose → plan (or refuse) → doc
/// entry → checkpoint commit with trailers → push → PR comment → relaunch → verify it started.
/// Each step is journaled under `fix:<failed run>` and is also idempotent on its own content
/// (the doc entry, the commit's trailer, the reserved run id), so a run interrupted at any
/// point and started again finishes the job without a second entry, commit, comment or job.
public final class FixAndRelaunch {
    public struct Settings {
        public var options = FixOptions()
        public var dryRun = false
        public var push = true
        public var comment = true
        /// Seconds to wait for the new run to start.
        public var wait: TimeInterval = 30
        public init() {}
    }

    let service: RunService
    let hostFactory: PullRequestHostFactory?
    let settings: Settings
    /// Asked before changing anything, with the plan; false aborts (the CLI prompts on a TTY).
    let confirm: (FixPlan) -> Bool
    var steps: [FixStep] = []

    public init(service: RunService, hostFactory: PullRequestHostFactory?, settings: Settings,
                confirm: @escaping (FixPlan) -> Bool = { _ in true }) {
        self.service = service; self.hostFactory = hostFactory; self.settings = settings; self.confirm = confirm
    }

    var ws: Workspace { service.ws }

    func note(_ step: String, _ status: String, _ detail: String) { steps.append(FixStep(step: step, status: status, detail: detail)) }

    public func run(branch: String) throws -> FixResult {
        let ledger = try service.ledger()
        let outbox = Outbox(ws: ws, ledger: ledger, hostFactory: hostFactory)
        if !settings.dryRun { outbox.retryPending(minimumAge: 0) }

        // 1. The worktree.
        let (worktree, recreated) = settings.dryRun ? (try Experiments(ws).existingWorktreeOrPath(branch)) : try Experiments(ws).ensureWorktree(branch)
        note("worktree", recreated ? "done" : "skipped", recreated ? "recreated \(worktree)" : worktree)

        // 2. The failed run (or the interrupted fix of one) and its diagnosis.
        try service.refresh(branches: [branch])
        let failed = try failedRun(branch, ledger)
        let flow = "fix:\(failed.id)"
        let runDiagnosis = try service.diagnose(branch: branch, run: failed.id, persist: !settings.dryRun)
        let diag = runDiagnosis.diagnosis
        note("diagnose", "done", "\(diag.category.rawValue): \(diag.evidence.first.map { "\($0.location): \($0.text)" } ?? diag.explanation)"
             + (runDiagnosis.batch.map { "; batch \($0.verdict.rawValue): \($0.explanation)" } ?? ""))

        // 3–4. The plan, with the retry budget and the no-blind-retry rules.
        let plan: FixPlan
        if let saved = try ledger.journalStep(flow: flow, step: "plan"), let p = LedgerJSON.decode(FixPlan.self, saved.data) {
            plan = p
            note("plan", "resumed", p.changeSummary)
        } else {
            let config = try service.config(worktree: worktree)
            let previous = try failed.parentRun.flatMap { try ledger.journalStep(flow: "fix:\($0)", step: "plan") }
                .flatMap { LedgerJSON.decode(FixPlan.self, $0.data) }
            do {
                plan = try FixPlanner.plan(branch: branch, failed: failed, diagnosis: diag, config: config, options: settings.options,
                                           userChanges: try userChanges(since: failed, worktree: worktree),
                                           previousPlan: previous, history: try ledger.runs(branch: branch),
                                           newRun: settings.dryRun ? "(next run)" : try ledger.reserveRunID(), worktree: worktree,
                                           failedTasks: runDiagnosis.failedTasks)
            } catch let r as FixRefusal {
                throw ExptError(.conflict, "fix-and-relaunch stopped: \(r.reason)", hint: r.hint)
            }
            if settings.dryRun {
                note("plan", "would", plan.changeSummary)
                return dryRunResult(branch, failed, diag, plan)
            }
            guard confirm(plan) else { throw ExptError(.conflict, "fix-and-relaunch cancelled; nothing was changed") }
            try ledger.recordJournal(flow: flow, step: "plan", data: LedgerJSON.encode(plan))
            FaultInjection.point("fix-plan")
            note("plan", "done", plan.changeSummary)
        }

        // 5. The doc entry (once: an entry naming the failed run is never added twice).
        let wrepo = try Repository.open(at: worktree)
        try step(flow, "doc", ledger) {
            let added = try FixRecord.appendEntry(plan: plan, ws: ws, worktree: worktree, repo: wrepo, now: service.now())
            return added ? "added Fix entry for \(plan.failedRun) to \(ws.docRelativePath(for: branch))" : "entry already present"
        }

        // 6. The checkpoint commit with trailers (after the same doc check the hook runs).
        let commit = try step(flow, "commit", ledger) {
            try FixRecord.commit(plan: plan, ws: ws, worktree: worktree, repo: wrepo, now: service.now(),
                                 config: try service.config(worktree: worktree))
        }

        // 7–8. Push and PR comment, through the outbox.
        var pending: [String] = []
        try deliveryStep(flow, "push", ledger, enabled: settings.push, pending: &pending) {
            guard try wrepo.remoteURL("origin") != nil else { return .notApplicable("no remote 'origin'") }
            return .tried(waiting: try outbox.push(branch: branch, commit: commit), done: "pushed \(branch) to origin")
        }
        try deliveryStep(flow, "comment", ledger, enabled: settings.comment, pending: &pending) {
            guard let url = try wrepo.remoteURL("origin"), hostFactory?(url) != nil else {
                return .notApplicable("origin is not a GitHub remote: no pull request to comment on")
            }
            let body = try FixRecord.commentBody(plan: plan, commit: commit, ws: ws)
            return .tried(waiting: try outbox.comment(branch: branch, body: body, marker: "expt:fix:\(plan.failedRun)"),
                          done: "commented on the pull request of \(branch)")
        }

        // 9. Relaunch (once: the reserved run id is the idempotency key).
        let newRun = try step(flow, "launch", ledger) { () -> String in
            if try ledger.run(id: plan.newRun) != nil { return plan.newRun }
            var req = LaunchRequest(branch: branch)
            req.profile = plan.profile
            req.overrides = plan.resources
            req.resumeFrom = plan.resumeFrom
            req.parentRun = plan.failedRun
            req.reservedRunID = plan.newRun
            if let tasks = plan.tasks { req.array = ArraySpec(indices: tasks, maxConcurrent: plan.maxConcurrent) }
            // Everything but run outputs (checkpoints, W&B dirs) was just committed.
            req.allowDirty = true
            return try service.launch(req).run ?? plan.newRun
        }

        // 10. Verify the new run started.
        let state = try verify(newRun, ledger)
        try ledger.recordJournal(flow: flow, step: "verify", data: state.state.rawValue)
        let record = try ledger.run(id: newRun)
        return FixResult(branch: branch, failedRun: plan.failedRun, category: plan.category, plan: plan, steps: steps,
                         commit: commit, newRun: newRun, newJob: record?.jobID, newState: state.state.rawValue,
                         pending: pending, dryRun: false)
    }

    /// The run to fix: the latest run when it failed, or the failed run whose fix was
    /// interrupted (its relaunch is the latest run but its flow has no `verify` yet).
    func failedRun(_ branch: String, _ ledger: Ledger) throws -> RunRecord {
        guard let latest = try ledger.latestRun(branch: branch) else {
            throw ExptError(.notFound, "\(branch) has no runs yet, so there is nothing to fix", hint: "`expt launch \(branch)` starts one")
        }
        if let parent = latest.parentRun, try ledger.journalStep(flow: "fix:\(parent)", step: "plan") != nil,
           try ledger.journalStep(flow: "fix:\(parent)", step: "verify") == nil, let p = try ledger.run(id: parent) {
            return p
        }
        // An interrupted fix whose relaunch was not recorded yet leaves the failed run latest.
        guard latest.state.isFailure else {
            let done = latest.parentRun.map { " (it is the relaunch that fixed \($0))" } ?? ""
            throw ExptError(.conflict, "the latest run of \(branch), \(latest.id), did not fail: it is \(latest.state.rawValue)\(done)",
                            hint: latest.state.isTerminal ? "nothing to fix" : "wait for it: `expt watch \(branch)`")
        }
        return latest
    }

    /// Files changed since the failed run's commit: committed since, or not committed yet.
    func userChanges(since failed: RunRecord, worktree: String) throws -> [String] {
        let repo = try Repository.open(at: worktree)
        var paths = Set(try repo.status().map(\.path))
        if let head = try repo.headCommit() {
            paths.formUnion(try repo.changedPaths(from: ObjectID(hex: failed.commit), to: head))
        }
        let doc = ws.docRelativePath(for: failed.branch)
        let config = try service.config(worktree: worktree)
        return paths.filter { $0 != doc && !FixRecord.isRunOutput($0, config: config) }.sorted()
    }

    /// Runs a journaled step once; a journaled result is reused.
    @discardableResult
    func step<T: Codable>(_ flow: String, _ name: String, _ ledger: Ledger, _ body: () throws -> T) throws -> T {
        if let saved = try ledger.journalStep(flow: flow, step: name), let v = LedgerJSON.decode(T.self, saved.data) {
            note(name, "resumed", "\(v)")
            return v
        }
        let v = try body()
        FaultInjection.point("fix-\(name)-unjournaled")
        try ledger.recordJournal(flow: flow, step: name, data: LedgerJSON.encode(v))
        FaultInjection.point("fix-\(name)")
        note(name, "done", "\(v)")
        return v
    }

    /// What a push or comment attempt came to.
    enum Delivery {
        /// Nothing to deliver to (no remote, not a GitHub remote).
        case notApplicable(String)
        /// Tried through the outbox: `waiting` is why it still waits, nil when delivered.
        case tried(waiting: String?, done: String)
    }

    /// Push / comment: done, skipped (disabled or not applicable) or queued in the outbox.
    func deliveryStep(_ flow: String, _ name: String, _ ledger: Ledger, enabled: Bool, pending: inout [String],
                      _ body: () throws -> Delivery) throws {
        if try ledger.journalStep(flow: flow, step: name) != nil { note(name, "resumed", "done earlier"); return }
        guard enabled else { note(name, "skipped", "--no-\(name)"); return }
        var waiting: String?
        switch try body() {
        case .notApplicable(let why):
            note(name, "skipped", why)
        case .tried(let w?, _):
            waiting = w
            pending.append("\(name): \(w)")
            note(name, "queued", "waiting in the outbox: \(w) (`expt outbox --retry` retries)")
        case .tried(nil, let done):
            note(name, "done", done)
        }
        FaultInjection.point("fix-\(name)-unjournaled")
        try ledger.recordJournal(flow: flow, step: name, data: LedgerJSON.encode(waiting ?? "done"))
        FaultInjection.point("fix-\(name)")
    }

    /// Waits up to `settings.wait` for the new run to be running (or pending for a legitimate
    /// scheduler reason, or already finished well).
    func verify(_ runID: String, _ ledger: Ledger) throws -> RunRecord {
        let deadline = Date().addingTimeInterval(settings.wait)
        var record = try ledger.run(id: runID)
        while true {
            record = try service.refresh(branches: [record?.branch ?? ""]).first { $0.id == runID } ?? record
            guard let r = record else { throw ExptError(.failure, "the relaunched run \(runID) is not in the ledger") }
            if r.state == .running || r.state == .succeeded || (r.state == .pending && RunVerification.isLegitimateWait(r.reason)) {
                if r.state == .running, let progress = RunProgress.read(r) { note("verify", "done", "\(r.id) is running (\(progress))"); return r }
                note("verify", "done", "\(r.id) is \(r.state.rawValue)\(r.reason.map { " (\($0))" } ?? "")")
                return r
            }
            if r.state.isFailure {
                let category = service.diagnoseNewFailures([r]).first?.diagnosis ?? "unknown"
                throw ExptError(.failure, "the relaunched run \(r.id) failed at once: \(r.state.rawValue) [\(category)]",
                                hint: "`expt diagnose \(r.branch)` explains it; fix the worktree and run fix-and-relaunch again")
            }
            if Date() >= deadline {
                note("verify", "timeout", "\(r.id) is still \(r.state.rawValue) after \(Int(settings.wait)) s")
                throw ExptError(.conflict, "the relaunched run \(r.id) did not start within \(Int(settings.wait)) s (it is \(r.state.rawValue)\(r.reason.map { ": \($0)" } ?? ""))",
                                hint: "`expt watch \(r.branch)` keeps following it")
            }
            usleep(200_000)
        }
    }

    func dryRunResult(_ branch: String, _ failed: RunRecord, _ d: Diagnosis, _ plan: FixPlan) -> FixResult {
        for (s, text) in [("doc", "append a Fix entry to \(ws.docRelativePath(for: branch))"),
                          ("commit", "commit the worktree with Expt-Run: \(failed.id), Expt-Diagnosis: \(d.category.rawValue)"),
                          ("push", settings.push ? "push \(branch) to origin (if there is one)" : "skip (--no-push)"),
                          ("comment", settings.comment ? "comment on the pull request of \(branch)" : "skip (--no-comment)"),
                          ("launch", "relaunch \(branch): \(plan.changeSummary)"),
                          ("verify", "wait up to \(Int(settings.wait)) s for the new run to start")] {
            note(s, "would", text)
        }
        return FixResult(branch: branch, failedRun: failed.id, category: d.category.rawValue, plan: plan, steps: steps,
                         commit: nil, newRun: nil, newJob: nil, newState: nil, pending: [], dryRun: true)
    }
}

/// Which pending reasons are a normal wait in the queue, and which mean the job cannot start.
public enum RunVerification {
    static let bad = ["launch failed", "BadConstraints", "PartitionDown", "PartitionInactive", "ReqNodeNotAvail",
                      "InvalidAccount", "InvalidQOS", "JobHeldAdmin", "JobHeldUser", "DependencyNeverSatisfied",
                      "AssocGrp", "QOSGrp", "PartitionConfig", "NodeDown"]
    /// A pending job with no reason yet (just submitted) has not shown a legitimate wait.
    public static func isLegitimateWait(_ reason: String?) -> Bool {
        guard let reason, !reason.isEmpty, reason != "None" else { return false }
        return !bad.contains { reason.contains($0) }
    }
}

extension Experiments {
    /// The worktree path without creating anything (dry runs).
    func existingWorktreeOrPath(_ branch: String) throws -> (path: String, recreated: Bool) {
        try ws.requireBranch(branch)
        if let wt = try ws.repo.worktree(forBranch: branch), wt.exists { return (wt.path, false) }
        return (ws.worktreePath(for: branch), false)
    }
}
