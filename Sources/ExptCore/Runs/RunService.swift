import Foundation
import GitKit
import ExptDiagnosis

/// Builds the backend of a given name for a configuration (supplied by the CLI, which knows
/// the concrete adapters; tests supply their own).
public typealias BackendFactory = (_ name: String, _ config: ExptConfig) throws -> Backend

/// Runs of experiments: launch, reconcile, refresh, cancel. Every state change goes through the
/// ledger first, so a killed expt never loses or duplicates a job.
public final class RunService {
    public let ws: Workspace
    public let makeBackend: BackendFactory
    public var now: @Sendable () -> Date
    /// Intents younger than this are left alone by reconcile: their launch may still be starting.
    public var reconcileGrace: TimeInterval = 10
    private var cachedLedger: Ledger?
    private var backends: [String: Backend] = [:]
    /// Configurations by worktree ("" for the root alone), and the rules, read once per
    /// command: an array's diagnosis asks for them once per failed task.
    private var configs: [String: ExptConfig] = [:]
    private var cachedDiagnoser: Diagnoser?

    public init(_ ws: Workspace, makeBackend: @escaping BackendFactory, now: @escaping @Sendable () -> Date = { Date() }) {
        self.ws = ws; self.makeBackend = makeBackend; self.now = now
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
        let c = try ExptConfig.loadIfPresent(repoRoot: ws.root, worktree: worktree)
        configs[worktree ?? ""] = c
        return c
    }

    /// The diagnoser with the built-in rules and the repository's `.expt/rules.toml`.
    public func diagnoser() throws -> Diagnoser {
        if let d = cachedDiagnoser { return d }
        let d = Diagnoser(rules: try RuleSet.load(overridesAt: ws.root + "/.expt/rules.toml", base: try RuleSet.builtin()))
        cachedDiagnoser = d
        return d
    }

    func backend(_ name: String, config: ExptConfig? = nil) throws -> Backend {
        if config == nil, let b = backends[name] { return b }
        let b = try makeBackend(name, config ?? rootConfig())
        if config == nil { backends[name] = b }
        return b
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
            let b = try backend(run.backend)
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
    @discardableResult
    public func refresh(branches: Set<String>? = nil, latestOnly: Bool = false) throws -> [RunRecord] {
        try reconcile(branches: branches)
        let ledger = try self.ledger()
        let live = try ledger.nonTerminalRuns().filter { $0.jobID != nil && (branches?.contains($0.branch) ?? true) }
        for (name, runs) in Dictionary(grouping: live, by: \.backend) {
            let refs = runs.compactMap(\.ref)
            let statuses = try backend(name).poll(refs)
            for run in runs {
                guard let ref = run.ref else { continue }
                if let s = statuses[ref] {
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
        if let branches { return try branches.sorted().flatMap { try ledger.runs(branch: $0) } }
        return try latestOnly ? ledger.latestAndLiveRuns() : ledger.allRuns()
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

    // MARK: - Cancel

    /// Cancels a run (default: the branch's latest non-terminal one) and returns it refreshed.
    public func cancel(branch: String, run: String?) throws -> RunRecord {
        try refresh(branches: [branch])
        let ledger = try self.ledger()
        var target = try findRun(branch: branch, run: run)
        if run == nil, let live = try ledger.runs(branch: branch).last(where: { !$0.state.isTerminal }) { target = live }
        // A lost run may have left its job's processes behind (the local supervisor died):
        // the backend's cancel still stops them.
        guard !target.state.isTerminal || target.state == .lost else { return target }
        guard let ref = target.ref else {
            throw ExptError(.conflict, "run \(target.id) is still being submitted", hint: "try again in a few seconds")
        }
        try backend(target.backend).cancel(ref)
        // Wait briefly for the backend to report the end, so the answer is the real state.
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let s = try backend(target.backend).poll([ref])[ref] {
                target = try ledger.update(runID: target.id, status: s, at: now())
                if s.state.isTerminal { break }
            } else if target.state == .lost {
                break
            }
            usleep(100_000)
        }
        return target
    }
}
