import Foundation
import ExptModel
import GitKit

/// What to launch, as `expt launch` (or fix-and-relaunch) asks for it.
public struct LaunchRequest: Sendable {
    public var branch: String
    public var backend: String?
    public var profile: String?
    /// Command-line resource overrides; nil fields keep the config's value.
    public var overrides = Resources()
    public var dryRun = false
    public var allowDirty = false
    /// Allow a launch while another run of the branch is still pending or running.
    public var allowConcurrent = false
    /// Resume from this checkpoint with `resume_command`.
    public var resumeFrom: String?
    public var parentRun: String?
    public var array: ArraySpec?
    /// A run id reserved earlier (fix-and-relaunch names the run in the doc before launching).
    public var reservedRunID: String?

    public init(branch: String) { self.branch = branch }
}

/// What a launch submitted (or, with --dry-run, would submit).
public struct LaunchResult: Codable, Sendable {
    public var run: String?
    public var jobId: String?
    public var backend: String
    public var commit: String
    public var state: String
    public var logDir: String?
    public var dryRun: Bool
    public var spec: JobSpec
    /// The config files that applied, in order.
    public var config: [String]
    /// What the backend says about the submission (a pool chosen and why, a web link).
    public var notes: [String] = []
}

extension RunService {
    /// Launches the branch's job at its worktree's committed HEAD: intent → submit → job id, each
    /// recorded in the ledger, under the branch lock. `EXPT_FAULT=after-intent|after-submit`
    /// (tests only) SIGKILLs this process at that point to prove the launch is crash-safe.
    public func launch(_ req: LaunchRequest) throws -> LaunchResult {
        try ws.requireBranch(req.branch)
        let (worktree, _) = try Experiments(ws).ensureWorktree(req.branch)
        forgetWorktree(req.branch)
        let config = try requiredConfig(worktree: worktree)
        let wrepo = try Repository.open(at: worktree)
        // W&B writes its run directories into the worktree: they are run output, excluded
        // (in the shared info/exclude) so they never make it dirty or reach a commit.
        if config.tracker != nil, !req.dryRun { _ = try? ws.repo.ensureExcluded("/" + (config.wandbDir ?? "wandb") + "/") }
        if !req.allowDirty {
            // Run output (checkpoints, W&B directories) is not a change of the experiment.
            let outputs = RunOutputs(checkpointGlob: config.checkpointGlob, wandbDir: config.wandbDir)
            let changes = try wrepo.status().filter { !outputs.contains($0.path) }
            if !changes.isEmpty {
                throw ExptError(.conflict, "the worktree of \(req.branch) has uncommitted changes, so the run would not be reproducible from its commit:\n"
                                + changes.prefix(10).map { "  \($0.change.rawValue) \($0.path)" }.joined(separator: "\n"),
                                hint: "commit them with `expt checkpoint \(req.branch) -m ...`, or pass --allow-dirty")
            }
        }
        guard let commit = try wrepo.headCommit() else { throw ExptError(.invalidInput, "\(req.branch) has no commits") }
        let backendName = req.backend ?? config.backend
        let backend = try self.backend(backendName, config: config)
        let command = backend.needsCommand || req.resumeFrom != nil
            ? try jobCommand(config, resumeFrom: req.resumeFrom, worktree: worktree) : (config.command ?? "")
        let resources = try config.resources(profile: req.profile, overrides: req.overrides)
        // Batch facts from [run] reach the job as variables, so a remedy that rescales the batch
        // (written into expt.toml by fix-and-relaunch) takes effect in scripts that read them.
        var env = config.env
        if let b = config.run.batchSize { env["EXPT_BATCH_SIZE"] = String(b) }
        if let a = config.run.gradAccumulation { env["EXPT_GRAD_ACCUMULATION"] = String(a) }
        if let ckpt = req.resumeFrom { env["EXPT_RESUME_FROM"] = ckpt }
        // A scheduler that requeues the job (preemption, node failure) reruns the same script;
        // these let it resume from the newest checkpoint itself (the shipped batch templates do).
        if let resume = config.resumeCommand, let glob = config.checkpointGlob {
            env["EXPT_RESUME_COMMAND"] = resume
            env["EXPT_CHECKPOINT_GLOB"] = glob
        }
        let array = req.array ?? config.array
        let tracker = try self.tracker(worktree: worktree)
        // Read before the ledger transaction that names the run (spec runs inside it).
        let link = trackerLink(branch: req.branch, resumeOf: req.resumeFrom != nil ? req.parentRun : nil)
        func spec(_ runID: String) -> JobSpec {
            // The tracker's link (W&B run id, group, tags); what [env] sets wins.
            var own = link
            own.runID = runID
            let jobEnv = env.merging(tracker?.environment(own) ?? [:]) { mine, _ in mine }
            var s = JobSpec(runID: runID, branch: req.branch, jobName: JobSpec.jobName(runID: runID, branch: req.branch),
                    workdir: worktree, command: command, environment: jobEnv, resources: resources,
                    logDir: ws.runsDir + "/" + runID, array: array,
                    parameters: ["run_id": runID, "branch": req.branch, "commit": commit.hex])
            s.profile = req.profile
            s.parentRun = req.parentRun
            return s
        }
        if req.dryRun {
            try backend.check(spec("r?"))
            return LaunchResult(run: nil, jobId: nil, backend: backendName, commit: commit.hex, state: "dry-run",
                                logDir: nil, dryRun: true, spec: spec("r?"), config: config.sources)
        }
        let lock = try BranchLock.acquire(dir: ws.stateDir, branch: req.branch)
        defer { lock.release() }
        if !req.allowConcurrent {
            try refresh(branches: [req.branch])
            if let live = try ledger().runs(branch: req.branch).last(where: { !$0.state.isTerminal }) {
                throw ExptError(.conflict, "\(req.branch) already has run \(live.id) \(live.state.rawValue) (job \(live.jobID ?? "?"))",
                                hint: "wait for it (`expt watch \(req.branch)`), cancel it (`expt cancel \(req.branch)`), or pass --allow-concurrent")
            }
        }
        let ledger = try self.ledger()
        let run = try ledger.recordIntent(branch: req.branch, backend: backendName, commit: commit.hex, profile: req.profile,
                                          resources: resources, parentRun: req.parentRun, reserved: req.reservedRunID,
                                          at: now(), makeSpec: spec)
        FaultInjection.point("after-intent")
        let ref: JobRef
        do {
            ref = try backend.submit(run.spec ?? spec(run.id))
        } catch {
            try? ledger.recordFailedSubmit(runID: run.id, error: error)
            throw error
        }
        FaultInjection.point("after-submit")
        let recorded = try ledger.recordSubmitted(runID: run.id, ref: ref, at: now())
        let submitted = recorded.spec ?? spec(run.id)
        return LaunchResult(run: recorded.id, jobId: ref.jobID, backend: backendName, commit: commit.hex,
                            state: recorded.state.rawValue, logDir: recorded.logDir, dryRun: false,
                            spec: submitted, config: config.sources,
                            notes: backend.notes(ref, spec: submitted) + trackerNotes(tracker, submitted))
    }

    /// The tracker run a launch linked, as a line for the user.
    func trackerNotes(_ tracker: RunTracker?, _ spec: JobSpec) -> [String] {
        guard let tracker, let id = spec.environment["WANDB_RUN_ID"] else { return [] }
        return ["\(tracker.name): run \(id)" + (tracker.url(runID: id).map { " \($0)" } ?? "")]
    }

    /// The shell command of the job; with a checkpoint, `resume_command` with `{checkpoint}`
    /// replaced by the path, quoted for wherever the placeholder stands (bare, in "…" or '…').
    func jobCommand(_ config: ExptConfig, resumeFrom: String?, worktree: String) throws -> String {
        let file = config.sources.last ?? "expt.toml"
        if let ckpt = resumeFrom {
            guard let resume = config.resumeCommand, !resume.isEmpty else {
                throw ExptError(.invalidInput, "cannot resume: \(file) has no resume_command",
                                hint: "add e.g. resume_command = \"python3 train.py --resume {checkpoint}\"")
            }
            guard resume.contains("{checkpoint}") else {
                throw ExptError(.invalidInput, "resume_command in \(file) has no {checkpoint} placeholder")
            }
            return ShellQuote.substitute("{checkpoint}", in: resume, with: ckpt)
        }
        guard let command = config.command, !command.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ExptError(.invalidInput, "no command to run: `command` is not set in \(config.sources.joined(separator: " or "))",
                            hint: "set command = \"python3 train.py\" in expt.toml")
        }
        return command
    }
}

/// Test-only crash points: `EXPT_FAULT=<name>` makes the process SIGKILL itself at `<name>`
/// (docs/testing.md lists them). Read once per process.
public enum FaultInjection {
    static let armed = ProcessInfo.processInfo.environment["EXPT_FAULT"]
    public static func point(_ name: String) {
        guard armed == name else { return }
        kill(getpid(), SIGKILL)
    }
}
