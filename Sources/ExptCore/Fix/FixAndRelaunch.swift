import Foundation
import ExptModel
import GitKit
import ExptDiagnosis

/// One step of fix-and-relaunch as reported to the user.
public struct FixStep: Codable, Sendable, Equatable {
    public var step: String
    /// JSON: `done`, `resumed`, `skipped`, `queued`, `would` or `timed_out`.
    public var status: StepStatus
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

/// The recorded fix loop (docs/fix-and-relaunch.md): worktree → diagnose → plan (or refuse) →
/// doc entry → checkpoint commit with trailers → push → PR comment → relaunch → verify it
/// started. From the plan on, every step is journaled under `fix:<failed run>` by a
/// `JournaledRunner` and is also idempotent on its own content, so a run interrupted at any
/// point and started again finishes the job without a second entry, commit, comment or job.
public final class FixAndRelaunch {
    public struct Settings {
        public var options = FixOptions()
        public var dryRun = false
        public var push = true
        public var comment = true
        /// Seconds to wait for the new run to start.
        public var wait: TimeInterval = 30
        /// `--wait` was given: the relaunch must also log steps within it (early metrics) when
        /// the failed run had logged steps.
        public var requireSteps = false
        public init() {}
    }

    let service: RunService
    let hostFactory: PullRequestHostFactory?
    let settings: Settings
    /// Asked before changing anything, with the plan; false aborts (the CLI prompts on a TTY).
    let confirm: (FixPlan) -> Bool
    /// What each step did so far: complete in the result, and up to the failing step when
    /// `run` throws.
    public private(set) var steps: [FixStep] = []

    public init(service: RunService, hostFactory: PullRequestHostFactory?, settings: Settings,
                confirm: @escaping (FixPlan) -> Bool = { _ in true }) {
        self.service = service; self.hostFactory = hostFactory; self.settings = settings; self.confirm = confirm
    }

    var ws: Workspace { service.ws }

    static func flow(_ failedRun: String) -> String { "fix:\(failedRun)" }

    public func run(branch: String) throws -> FixResult {
        try ws.requireBranch(branch)
        try ws.requireExperiment(branch, for: "fix-and-relaunch")
        // One fix of a branch at a time, for the whole flow: a second one exits 3 at once
        // instead of racing on the commit, the comment and the relaunch (R12).
        let writer = settings.dryRun ? nil : try BranchLock.acquireWriter(dir: ws.stateDir, branch: branch, doing: "fixing or committing")
        defer { writer?.release() }
        let ledger = try service.ledger()
        let outbox = Outbox(ws: ws, ledger: ledger, hostFactory: hostFactory)
        if !settings.dryRun { outbox.retryPending(minimumAge: 0) }
        let worktree = try worktreeStep(branch)
        steps = [worktree.report]
        // Refused before anything is written (and so before the commit step, which a resumed
        // flow also reaches through here): the fix commits the worktree's changes.
        if let repo = try? Repository.open(at: worktree.path) {
            let config = try service.config(worktree: worktree.path)
            try SecretFiles.refuseUntracked(in: repo, excluding: { FixRecord.isRunOutput($0, config: config) })
        }
        // One scheduler snapshot serves this, the diagnosis and the launch's own check.
        try service.refresh(branches: [branch])
        let failed = try failedRun(branch, ledger)
        let runner = JournaledRunner(ledger: ledger, flow: Self.flow(failed.id), dryRun: settings.dryRun, reports: steps)
        defer { steps = runner.reports }
        let diagnosis = try diagnoseStep(branch, failed, runner)
        let plan = try planStep(failed, diagnosis, worktree: worktree.path, ledger: ledger, runner: runner)
        let fix = FixSteps(self, plan: plan, worktree: worktree.path, ledger: ledger, outbox: outbox)
        try runner.run(fix.all)
        guard !settings.dryRun else {
            return FixResult(branch: branch, failedRun: failed.id, category: diagnosis.diagnosis.category.rawValue, plan: plan,
                             steps: runner.reports, commit: nil, newRun: nil, newJob: nil, newState: nil, pending: [], dryRun: true)
        }
        let job = try ledger.run(id: fix.newRun)?.jobID
        return FixResult(branch: branch, failedRun: plan.failedRun, category: plan.category, plan: plan, steps: runner.reports,
                         commit: fix.commitID, newRun: fix.newRun, newJob: job, newState: fix.started?.state.rawValue,
                         pending: fix.pending, dryRun: false)
    }

    // MARK: - Before the journal: worktree, the failed run, its diagnosis

    /// The worktree, recreated if it was cleaned up; a dry run only finds its path.
    func worktreeStep(_ branch: String) throws -> (path: String, report: FixStep) {
        let experiments = Experiments(ws)
        let (path, recreated) = try settings.dryRun ? experiments.existingWorktreeOrPath(branch) : experiments.ensureWorktree(branch)
        return (path, FixStep(step: "worktree", status: recreated ? .done : .skipped, detail: recreated ? "recreated \(path)" : path))
    }

    /// The run to fix: the latest run when it failed, or the failed run whose fix was
    /// interrupted (its relaunch is the latest run but its flow has no `verify` yet).
    func failedRun(_ branch: String, _ ledger: Ledger) throws -> RunRecord {
        guard let latest = try ledger.latestRun(branch: branch) else {
            throw ExptError(.notFound, "\(branch) has no runs yet, so there is nothing to fix", hint: "`expt launch \(branch)` starts one")
        }
        if let parent = latest.parentRun, try ledger.journalStep(flow: Self.flow(parent), step: "plan") != nil,
           try ledger.journalStep(flow: Self.flow(parent), step: "verify") == nil, let p = try ledger.run(id: parent) {
            return p
        }
        // An interrupted fix whose relaunch was not recorded yet leaves the failed run latest
        // (and its stop step may have cancelled it: its flow is open, so it is still the one).
        let open = try ledger.journalStep(flow: Self.flow(latest.id), step: "plan") != nil
        if latest.wasCancelledByRequest && !open {
            throw ExptError(.conflict, "the latest run of \(branch), \(latest.id), was cancelled by request: it did not fail, so there is nothing to fix",
                            hint: "`expt launch \(branch)` runs it again")
        }
        guard latest.state.isFailure else {
            let done = latest.parentRun.map { " (it is the relaunch that fixed \($0))" } ?? ""
            throw ExptError(.conflict, "the latest run of \(branch), \(latest.id), did not fail: it is \(latest.state.rawValue)\(done)",
                            hint: latest.state.isTerminal ? "nothing to fix" : "wait for it: `expt watch \(branch)`")
        }
        return latest
    }

    /// Diagnoses the failed run; a dry run records no diagnosis in the ledger.
    func diagnoseStep(_ branch: String, _ failed: RunRecord, _ runner: JournaledRunner) throws -> RunDiagnosis {
        let result = try service.diagnose(branch: branch, run: failed.id, persist: !settings.dryRun)
        let d = result.diagnosis
        runner.note("diagnose", .done, "\(d.category.rawValue): \(d.evidence.first.map { "\($0.location): \($0.text)" } ?? d.explanation)"
                    + (result.batch.map { "; batch \($0.verdict.rawValue): \($0.explanation)" } ?? ""))
        return result
    }

    // MARK: - The plan

    /// The plan, journaled once confirmed; a dry run previews it under no reserved run id.
    func planStep(_ failed: RunRecord, _ diagnosis: RunDiagnosis, worktree: String, ledger: Ledger,
                  runner: JournaledRunner) throws -> FixPlan {
        try runner.value("plan", detail: { (p: FixPlan) in p.changeSummary }, preview: {
            try makePlan(failed, diagnosis, worktree: worktree, ledger: ledger) { "(next run)" }
        }, make: {
            let plan = try makePlan(failed, diagnosis, worktree: worktree, ledger: ledger) { try ledger.reserveRunID() }
            // The doc entry it would add is checked now, before the plan is journaled: a refused
            // plan is never replayed by the next attempt (R16).
            if let repo = try? Repository.open(at: worktree) {
                _ = try FixRecord.docWithEntry(plan: plan, ws: ws, worktree: worktree, repo: repo, now: service.now())
            }
            guard confirm(plan) else { throw ExptError(.conflict, "fix-and-relaunch cancelled; nothing was changed") }
            return plan
        })
    }

    /// Gathers the planner's inputs; `newRun` is asked last, so a run id is reserved only once
    /// everything else was read.
    func makePlan(_ failed: RunRecord, _ diagnosis: RunDiagnosis, worktree: String, ledger: Ledger,
                  newRun: () throws -> String) throws -> FixPlan {
        let previous = try failed.parentRun.flatMap { try ledger.journalStep(flow: Self.flow($0), step: "plan") }
            .flatMap { LedgerJSON.decode(FixPlan.self, $0.data) }
        let config = try service.config(worktree: worktree)
        let changes = try userChanges(since: failed, worktree: worktree)
        let history = try ledger.runs(branch: failed.branch)
        let id = try newRun()
        let context = FixContext(branch: failed.branch, failed: failed, diagnosis: diagnosis.diagnosis, config: config,
                                 options: settings.options, userChanges: changes, previousPlan: previous, history: history,
                                 newRun: id, worktree: worktree, failedTasks: diagnosis.failedTasks)
        do {
            return try FixPlanner.plan(context)
        } catch let refusal as FixRefusal {
            throw ExptError(refusal.budgetSpent ? .needsPerson : .conflict, "fix-and-relaunch stopped: \(refusal.reason)", hint: refusal.hint)
        }
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
}

extension Experiments {
    /// The worktree path without creating anything (dry runs).
    func existingWorktreeOrPath(_ branch: String) throws -> (path: String, recreated: Bool) {
        try ws.requireBranch(branch)
        if let wt = try ws.repo.worktree(forBranch: branch), wt.exists { return (wt.path, false) }
        return (ws.worktreePath(for: branch), false)
    }
}
