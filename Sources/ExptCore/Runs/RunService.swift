import Foundation
import ExptModel
import GitKit
import ExptDiagnosis
import ExptTOML

/// Runs of experiments: launch, reconcile, refresh, cancel. Every state change goes through the
/// ledger first, so a killed expt never loses or duplicates a job.
public final class RunService {
    public let ws: Workspace
    /// The backends this expt knows (ExptBackends' `BackendRegistry.standard`, or fakes).
    public let registry: BackendRegistry
    public let context: BackendContext
    public var now: @Sendable () -> Date
    /// How a wait between two polls is spent (tests make it instant).
    public var sleep: @Sendable (TimeInterval) -> Void = { Thread.sleep(forTimeInterval: $0) }
    /// Intents younger than this are left alone by reconcile: their launch may still be starting.
    public var reconcileGrace: TimeInterval = 10
    /// Builds the run tracker from `[wandb]` (ExptTrackers' W&B, or a fake), for a worktree.
    public var trackerFactory: (@Sendable (TrackerSettings, String?) -> RunTracker)?
    /// What the tracker could not do this command (wandb missing, not logged in), each said once.
    public internal(set) var trackerNotices: [String] = []
    /// Trackers built so far, by worktree ("" for the root): one per experiment per command.
    var trackers: [String: RunTracker] = [:]
    private var cachedLedger: Ledger?
    /// Backends built so far, by name and the settings table they were built from.
    private var backends: [(name: String, table: TOMLTable?, backend: Backend)] = []
    /// Existing worktrees by branch, listed once per command (nil until first needed).
    private var worktrees: [String: String]?
    /// What this command has polled already: one scheduler snapshot per command, unless a
    /// caller that waits for a change asks for a fresh one.
    private var polledAll = false
    private var polledBranches: Set<String> = []
    /// Configurations by worktree ("" for the root alone), and the rules, read once per
    /// command: an array's diagnosis asks for them once per failed task.
    private var configs: [String: ExptConfig] = [:]
    private var cachedDiagnoser: Diagnoser?

    public init(_ ws: Workspace, registry: BackendRegistry, runner: ProcessRunner, selfExecutable: String,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.ws = ws; self.registry = registry; self.now = now
        self.context = BackendContext(repoRoot: ws.root, runsDir: ws.runsDir, selfExecutable: selfExecutable, runner: runner)
    }

    /// The ledger, opened on first use (created if missing).
    public func ledger() throws -> Ledger {
        if let l = cachedLedger { return l }
        let l = try Ledger(dir: ws.stateDir)
        cachedLedger = l
        return l
    }

    /// The repository-level configuration (for polling, where no single worktree applies).
    public func rootConfig() throws -> ExptConfig { try config(worktree: nil) }

    /// The configuration that applies in `worktree` (the root's alone when nil); the defaults
    /// when there is no expt.toml, an error when one is invalid.
    public func config(worktree: String?) throws -> ExptConfig {
        if let c = configs[worktree ?? ""] { return c }
        var c: ExptConfig
        if let worktree, ExptConfig.worktreeFileIsTheRoots(repoRoot: ws.root, worktree: worktree) {
            // The usual case (the worktree's expt.toml is the committed root file): it merges
            // to the root's table, so decode once, not once per branch (`status` over 50 branches).
            c = try config(worktree: nil)
            c.sources.append(worktree + "/expt.toml")
        } else {
            c = try ExptConfig.loadIfPresent(repoRoot: ws.root, worktree: worktree, backends: registry)
        }
        configs[worktree ?? ""] = c
        return c
    }

    /// Like `config(worktree:)`, but a repository without expt.toml is an error that says how
    /// to create one (launching needs a command).
    public func requiredConfig(worktree: String) throws -> ExptConfig {
        if let c = configs[worktree] { return c }
        let c = try ExptConfig.load(repoRoot: ws.root, worktree: worktree, backends: registry)
        configs[worktree] = c
        return c
    }

    /// The diagnoser with the built-in rules and the repository's `.expt/rules.toml`.
    public func diagnoser() throws -> Diagnoser {
        if let d = cachedDiagnoser { return d }
        let d = Diagnoser(rules: try RuleSet.load(overridesAt: ws.root + "/.expt/rules.toml", base: try RuleSet.builtin()))
        cachedDiagnoser = d
        return d
    }

    /// The backend of that name, built from the root configuration (or `config`: a launch
    /// uses its worktree's settings).
    public func backend(_ name: String, config: ExptConfig? = nil) throws -> Backend {
        try backend(name, table: (try config ?? rootConfig()).backendTables[name])
    }

    /// The backend that knows `run`: built from the settings of the run's worktree (its
    /// `[<backend>]` table may differ from the root's: another exec prefix, another cluster),
    /// or the root's when the worktree is gone.
    public func backend(for run: RunRecord) throws -> Backend {
        try backend(run.backend, table: try settings(for: run))
    }

    private func backend(_ name: String, table: TOMLTable?) throws -> Backend {
        if let cached = backends.first(where: { $0.name == name && $0.table == table }) { return cached.backend }
        let b = try registry.make(name, table: table, context: context)
        backends.append((name, table, b))
        return b
    }

    /// The per-item outputs of `run` (`[outputs]` of its worktree), nil when not configured.
    func itemOutputs(for run: RunRecord) throws -> ItemOutputs? {
        let wt = existingWorktree(run.branch)
        return ItemOutputs(try config(worktree: wt).outputs, worktree: wt ?? ws.worktreePath(for: run.branch))
    }

    /// The `[<backend>]` table that applies to `run`.
    func settings(for run: RunRecord) throws -> TOMLTable? {
        try config(worktree: existingWorktree(run.branch)).backendTables[run.backend]
    }

    /// The branch's worktree when it exists on disk (`forget` after creating one).
    func forgetWorktree(_ branch: String) { worktrees = nil }

    /// All worktrees are listed once per command (listing costs a libgit2 lookup of every
    /// worktree, so one listing per branch made `status` quadratic in worktrees).
    func existingWorktree(_ branch: String) -> String? {
        if worktrees == nil {
            var byBranch: [String: String] = [:]
            for w in (try? ws.repo.worktrees()) ?? [] where w.exists {
                if let b = w.branch, byBranch[b] == nil { byBranch[b] = w.path }
            }
            worktrees = byBranch
        }
        return worktrees?[branch]
    }

    /// What the pending reason of `run` means on its scheduler. No reason yet (just submitted)
    /// has not shown a legitimate wait.
    public func pendingVerdict(for run: RunRecord) -> PendingVerdict {
        guard let reason = run.reason, !reason.isEmpty, reason != "None" else { return .blocked("no reason given yet") }
        return (try? backend(for: run).pendingVerdict(reason: reason)) ?? .waiting
    }

    // MARK: - Reconcile and refresh

    /// Settles runs left `submitting` by an interrupted launch: found by job name → recorded;
    /// not found, no launch holding the branch lock, and older than the grace → discarded
    /// (the job never started). Returns the runs it changed.
    @discardableResult
    public func reconcile(branches: Set<String>? = nil) throws -> [RunRecord] {
        let ledger = try self.ledger()
        var changed: [RunRecord] = []
        for run in try ledger.runs(states: [.submitting]) where branches?.contains(run.branch) ?? true {
            guard let spec = run.spec else { continue }
            // A launch in progress holds the lock: leave its intent alone.
            guard let lock = try? BranchLock.acquire(dir: ws.stateDir, branch: run.branch) else { continue }
            defer { lock.release() }
            let b = try backend(for: run)
            if let ref = try b.lookup(jobName: spec.jobName, spec: spec) {
                changed.append(try ledger.recordSubmitted(runID: run.id, ref: ref, at: now()))
            } else if now().timeIntervalSince(run.createdAt) > reconcileGrace {
                try ledger.recordFailedSubmit(runID: run.id, error: ExptError(.failure, "interrupted before submitting"))
            }
        }
        return changed
    }

    /// Polls every non-terminal run (of `branches`, or all) with ONE call per backend, records
    /// what it learned, marks runs the backend no longer knows as `lost`, and returns the
    /// refreshed records of `branches` (all runs when nil).
    ///
    /// One snapshot per command: a second call for branches already polled reads the ledger
    /// only, unless `fresh` (a caller waiting for a change: watch, verify, logs --follow).
    @discardableResult
    public func refresh(branches: Set<String>? = nil, latestOnly: Bool = false, fresh: Bool = false) throws -> [RunRecord] {
        let ledger = try self.ledger()
        let polled = polledAll || (branches.map { $0.isSubset(of: polledBranches) } ?? false)
        if fresh || !polled { try poll(branches: branches) }
        if let branches { return try branches.sorted().flatMap { try ledger.runs(branch: $0) } }
        return try latestOnly ? ledger.latestAndLiveRuns() : ledger.allRuns()
    }

    private func poll(branches: Set<String>?) throws {
        try reconcile(branches: branches)
        if let branches { polledBranches.formUnion(branches) } else { polledAll = true }
        let ledger = try self.ledger()
        let live = try ledger.nonTerminalRuns().filter { $0.jobID != nil && (branches?.contains($0.branch) ?? true) }
        // One poll per backend and settings: runs whose worktrees share the settings (the
        // usual case) share one scheduler call.
        var groups: [(name: String, table: TOMLTable?, runs: [RunRecord])] = []
        for run in live {
            let table = try settings(for: run)
            if let i = groups.firstIndex(where: { $0.name == run.backend && $0.table == table }) { groups[i].runs.append(run) }
            else { groups.append((run.backend, table, [run])) }
        }
        for (name, table, runs) in groups {
            let refs = runs.compactMap(\.ref)
            let backend = try backend(name, table: table)
            let statuses = try backend.poll(refs)
            for run in runs {
                guard let ref = run.ref else { continue }
                if var s = statuses[ref] {
                    if s.state.isTerminal, !s.tasks.isEmpty, let outputs = try itemOutputs(for: run) {
                        s = try outputs.checked(s, files: backend.files)
                    }
                    // One write per change, not per poll.
                    let same = s.state == run.state && s.rawState == run.rawState && s.reason == run.reason
                        && s.exitCode == run.exitCode && s.tasks == run.tasks && (s.startedAt == nil || run.startedAt != nil)
                    if !same { try ledger.update(runID: run.id, status: s, at: now()) }
                } else {
                    try ledger.update(runID: run.id, status: JobStatus(
                        ref: ref, state: .lost, rawState: "UNKNOWN",
                        reason: "the \(name) backend no longer knows job \(ref.jobID)"), at: now())
                }
            }
        }
    }

    // MARK: - The outbox

    /// Retries pushes and PR comments still waiting, at most once every `backoff` seconds per
    /// item, so any later command delivers them without slowing every call when offline.
    /// Returns how many were delivered.
    @discardableResult
    public func retryOutbox(hostFactory: PullRequestHostFactory?, backoff: TimeInterval = 300) -> Int {
        guard FileManager.default.fileExists(atPath: ws.stateDir + "/" + Ledger.fileName), let ledger = try? ledger() else { return 0 }
        var box = Outbox(ws: ws, ledger: ledger, hostFactory: hostFactory)
        box.now = now
        return box.retryPending(minimumAge: backoff).delivered
    }

    // MARK: - Finding runs

    /// `run` of `branch` (by id), or the branch's latest run; clear errors otherwise.
    public func findRun(branch: String, run: String?) throws -> RunRecord {
        try ws.requireBranch(branch)
        let ledger = try self.ledger()
        if let run {
            guard let r = try ledger.run(id: run) else {
                throw ExptError(.notFound, "there is no run '\(run)'", hint: "`expt runs \(branch)` lists the runs of \(branch)")
            }
            guard r.branch == branch else {
                throw ExptError(.invalidInput, "run \(run) belongs to \(r.branch), not \(branch)")
            }
            return r
        }
        guard let r = try ledger.latestRun(branch: branch) else {
            throw ExptError(.notFound, "\(branch) has no runs yet", hint: "`expt launch \(branch)` starts one")
        }
        return r
    }

    // MARK: - Live runs

    /// Refuses (exit 3) while `branch` has a run that is still live: its job runs in the
    /// worktree, and removing that would lose its outputs and checkpoints (R3). No ledger yet:
    /// no runs, and none is created.
    public func refuseLiveRuns(_ branch: String, doing what: String) throws {
        guard FileManager.default.fileExists(atPath: ws.stateDir + "/" + Ledger.fileName) else { return }
        let live = try refresh(branches: [branch]).filter { !$0.state.isTerminal }
        guard let run = live.first else { return }
        throw ExptError(.conflict, "run \(run.id) of \(branch) is \(run.state.rawValue) in this worktree (job \(run.jobID ?? "?")), so \(what) would pull its working directory from under it",
                        hint: "cancel it first (`expt cancel \(branch)`), wait for it (`expt watch \(branch)`), or pass --force")
    }

    // MARK: - Cancel

    /// The run `cancel` acts on: `run`, else the branch's latest live run, else its latest.
    public func cancelTarget(branch: String, run: String?) throws -> RunRecord {
        try refresh(branches: [branch])
        if run == nil, let live = try ledger().runs(branch: branch).last(where: { !$0.state.isTerminal }) { return live }
        return try findRun(branch: branch, run: run)
    }

    /// Cancels a run (see `cancelTarget`) and returns it refreshed: polled with a back-off
    /// (`Backoff`: 0.25, 1, 2, 4, 8 s; 15 s in all) until the backend reports the end.
    public func cancel(branch: String, run: String?) throws -> RunRecord {
        var target = try cancelTarget(branch: branch, run: run)
        // A lost run may have left its job's processes behind (the local supervisor died):
        // the backend's cancel still stops them.
        guard !target.state.isTerminal || target.state == .lost else { return target }
        guard let ref = target.ref else {
            throw ExptError(.conflict, "run \(target.id) is still being submitted", hint: "try again in a few seconds")
        }
        let backend = try self.backend(for: target)
        try backend.cancel(ref)
        for delay in Backoff.delays(total: 15) {
            if var s = try backend.poll([ref])[ref] {
                // Recorded as asked for, whatever the scheduler's words (a job killed after the
                // cancel grace reads as signal 9): a requested cancel is not a failure (R14).
                if s.state == .cancelled { s.reason = RunRecord.cancelledByRequest }
                target = try ledger().update(runID: target.id, status: s, at: now())
                if s.state.isTerminal { break }
            } else if target.state == .lost {
                break
            } else {
                // Cancelling deleted it (some schedulers forget a job they delete): cancelled, not lost.
                target = try ledger().update(runID: target.id, status: JobStatus(
                    ref: ref, state: .cancelled, rawState: "DELETED", reason: RunRecord.cancelledByRequest + "; the scheduler no longer lists it"), at: now())
                break
            }
            sleep(delay)
        }
        return target
    }
}

/// Waits between polls of a scheduler: short at first (most ends are quick), then patient:
/// 0.25, 1, 2, 4, 8, 8, … seconds. The quarter-second first wait catches the common fast case
/// (a local job killed at once) without polling several times a second.
public struct Backoff: Sequence, IteratorProtocol {
    private var index = 0
    private static let steps: [TimeInterval] = [0.25, 1, 2, 4, 8]
    public init() {}

    public mutating func next() -> TimeInterval? {
        defer { index += 1 }
        return Self.steps[Swift.min(index, Self.steps.count - 1)]
    }

    /// The waits of a back-off that add up to `total`, the last one shortened to fit.
    public static func delays(total: TimeInterval) -> [TimeInterval] {
        var out: [TimeInterval] = []
        var sum: TimeInterval = 0
        for d in Backoff() {
            guard sum < total else { break }
            let step = Swift.min(d, total - sum)
            out.append(step); sum += step
        }
        return out
    }
}
