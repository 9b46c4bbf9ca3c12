import Foundation
import ExptModel
import ExptDiagnosis

/// What fix-and-relaunch will do about one failed run. Computed once, journaled, and reused
/// verbatim when an interrupted fix-and-relaunch is run again.
public struct FixPlan: Codable, Sendable, Equatable {
    public var branch: String
    public var failedRun: String
    public var failedJob: String?
    /// The commit the failed run ran.
    public var failedCommit: String
    public var category: String
    public var secondary: String?
    /// The key evidence line, "file:line: text".
    public var evidence: String
    public var remedyKind: String
    public var remedy: String
    /// Files changed in the worktree since the failed run's commit (committed or not).
    public var userChanges: [String]
    public var profile: String?
    public var previousProfile: String?
    public var resources: Resources
    public var previousResources: Resources
    public var resumeFrom: String?
    /// `[run]` batch rescaling written into expt.toml, when the remedy asks for it.
    public var batchSize: Int?
    public var gradAccumulation: Int?
    /// What was fixed, in words (the user's -m, else derived from the remedy).
    public var message: String
    /// The run id the relaunch will get.
    public var newRun: String
    /// For an array run: the task indices to run again (only the failed ones).
    public var tasks: [Int]?
    public var maxConcurrent: Int?

    /// One line for the doc, the commit trailer and the PR comment.
    public var changeSummary: String {
        var parts: [String] = []
        // File names are untrusted: each is one inert word (SafeText, R6).
        if !userChanges.isEmpty { parts.append("edited \(userChanges.prefix(5).map(SafeText.fileName).joined(separator: ", "))\(userChanges.count > 5 ? " and \(userChanges.count - 5) more" : "")") }
        if let profile, profile != previousProfile { parts.append("profile \(profile)") }
        if resources.memoryMB != previousResources.memoryMB, let m = resources.memoryMB {
            parts.append("memory \(previousResources.memoryMB.map(Units.memoryString) ?? "default") → \(Units.memoryString(m))")
        }
        if resources.timeLimitSeconds != previousResources.timeLimitSeconds, let t = resources.timeLimitSeconds {
            parts.append("time limit \(previousResources.timeLimitSeconds.map(Units.durationString) ?? "default") → \(Units.durationString(t))")
        }
        if let b = batchSize { parts.append("batch size → \(b)" + (gradAccumulation.map { ", gradient accumulation → \($0)" } ?? "")) }
        if let tasks { parts.append("rerun only failed task(s) \(tasks.map(String.init).joined(separator: ","))") }
        parts.append(resumeFrom.map { "resume from \($0)" } ?? "restart from scratch")
        return parts.joined(separator: "; ")
    }
}

/// Why fix-and-relaunch stopped instead of relaunching.
public struct FixRefusal: Error, CustomStringConvertible {
    public var reason: String
    public var hint: String?
    /// The retry budget is spent: not a refusal to fix this failure, a call for a person.
    public var budgetSpent = false
    public var description: String { reason }
}

/// Options of `expt fix-and-relaunch` that shape the plan.
public struct FixOptions: Sendable {
    public var message: String?
    public var profile: String?
    /// true: --resume (must resume), false: --restart (never resume), nil: as the diagnosis says.
    public var resume: Bool?
    public var overrides = Resources()
    public init() {}
}

/// Everything a plan is made from. Gathered by fix-and-relaunch; the planner only decides.
public struct FixContext: Sendable {
    public var branch: String
    public var failed: RunRecord
    public var diagnosis: Diagnosis
    public var config: ExptConfig
    public var options: FixOptions
    /// Files changed in the worktree since the failed run's commit (committed or not).
    public var userChanges: [String]
    /// The plan that launched `failed`, if fix-and-relaunch launched it.
    public var previousPlan: FixPlan?
    /// Every run of the branch (for the retry budget).
    public var history: [RunRecord]
    /// The run id the relaunch will get.
    public var newRun: String
    public var worktree: String
    /// For an array: the tasks that failed (only they run again).
    public var failedTasks: [Int]

    public init(branch: String, failed: RunRecord, diagnosis: Diagnosis, config: ExptConfig, options: FixOptions = FixOptions(),
                userChanges: [String] = [], previousPlan: FixPlan? = nil, history: [RunRecord], newRun: String,
                worktree: String, failedTasks: [Int] = []) {
        self.branch = branch; self.failed = failed; self.diagnosis = diagnosis; self.config = config
        self.options = options; self.userChanges = userChanges; self.previousPlan = previousPlan
        self.history = history; self.newRun = newRun; self.worktree = worktree; self.failedTasks = failedTasks
    }

    var category: FailureCategory { diagnosis.category }
    var change: RemedyChange? { diagnosis.remedy.change }
}

/// Turns a diagnosis into a plan, or refuses: never a blind retry (docs/fix-and-relaunch.md,
/// steps 3 and 4). Pure: every input is in the `FixContext`.
public enum FixPlanner {
    /// The scheduler's doing, not the job's: counted against `max_preemptions`, apart from failures.
    static let interruptions: Set<FailureCategory> = [.preempted, .nodeFailure]

    /// The checks run in this order, so the first reason to stop is the one reported.
    public static func plan(_ c: FixContext) throws -> FixPlan {
        try checkBudget(c)
        try refuseSuccess(c)
        let (profile, resources) = try chooseResources(c)
        let resumeFrom = try chooseResume(c)
        var plan = draft(c, profile: profile, resources: resources, resumeFrom: resumeFrom)
        try refuseBlindRetry(c, plan)
        if plan.message.isEmpty { plan.message = plan.changeSummary }
        return plan
    }

    // MARK: - The retry budget

    static func isInterruption(_ run: RunRecord) -> Bool {
        run.diagnosis.flatMap { FailureCategory(rawValue: $0) }.map { interruptions.contains($0) } ?? false
    }

    /// Failures and interruptions (preemptions, node failures) of the branch, counted apart.
    static func checkBudget(_ c: FixContext) throws {
        let failures = c.history.filter { $0.state.isFailure && !isInterruption($0) }.count
        let preemptions = c.history.filter(isInterruption).count
        let retry = c.config.retry
        if interruptions.contains(c.category) {
            if preemptions > retry.maxPreemptions {
                throw FixRefusal(reason: "the preemption budget is spent: \(preemptions) preemptions or node failures (max_preemptions = \(retry.maxPreemptions))",
                                 hint: "raise [retry] max_preemptions in expt.toml, or move the job to a less contended partition",
                                 budgetSpent: true)
            }
        } else if failures >= retry.maxFailures {
            throw FixRefusal(reason: "the failure budget is spent: \(failures) failed runs of \(c.branch) (max_failures = \(retry.maxFailures))",
                             hint: "a person should look: `expt history \(c.branch)` shows what was tried; raise [retry] max_failures in expt.toml to keep going",
                             budgetSpent: true)
        }
    }

    static func refuseSuccess(_ c: FixContext) throws {
        guard c.category == .success else { return }
        throw FixRefusal(reason: "run \(c.failed.id) shows no failure in its logs (diagnosis: success) although it ended \(c.failed.state.rawValue)",
                         hint: "read `expt logs \(c.branch)`; relaunch by hand with `expt launch \(c.branch)` if that is what you want")
    }

    // MARK: - Resources

    /// What the failed run had, then the profile, then the remedy, then the flags.
    static func chooseResources(_ c: FixContext) throws -> (profile: String?, resources: Resources) {
        let fitting = fittingProfile(c)
        let profile = c.options.profile ?? c.change?.profile ?? fitting ?? c.failed.profile
        var resources = c.failed.resources
        if let p = profile { resources = try resources.overridden(by: profileResources(p, c.config)) }
        resources = escalate(resources, c, byProfile: c.options.profile != nil || fitting != nil)
        return (profile, resources.overridden(by: c.options.overrides))
    }

    /// A memory escalation prefers the smallest configured profile that holds it (e.g.
    /// `highmem`): profiles are what the user vetted for the cluster. None when the user set
    /// the memory by hand.
    static func fittingProfile(_ c: FixContext) -> String? {
        guard c.diagnosis.remedy.kind == .escalateResources, let need = c.change?.memoryMB,
              c.options.overrides.memoryMB == nil else { return nil }
        let had = c.failed.resources.memoryMB ?? 0
        return c.config.profiles.filter { ($0.value.memoryMB ?? 0) >= need && ($0.value.memoryMB ?? 0) > had }
            .min { ($0.value.memoryMB ?? 0, $0.key) < ($1.value.memoryMB ?? 0, $1.key) }?.key
    }

    static func profileResources(_ name: String, _ config: ExptConfig) throws -> Resources {
        guard let r = config.profiles[name] else {
            throw ExptError(.invalidInput, "unknown profile '\(name)'",
                            hint: config.profiles.isEmpty ? "define [profiles.\(name)] in expt.toml"
                                : "known profiles: \(config.profiles.keys.sorted().joined(separator: ", "))")
        }
        return r
    }

    /// The remedy's memory (capped by `[retry] memory_cap`; not when a profile decided the
    /// memory) and time limit, where they exceed what `resources` has.
    static func escalate(_ resources: Resources, _ c: FixContext, byProfile: Bool) -> Resources {
        var r = resources
        if !byProfile, let m = c.change?.memoryMB, m > (r.memoryMB ?? 0) { r.memoryMB = min(m, c.config.retry.memoryCapMB) }
        if let t = c.change?.timeLimitSeconds, t > (r.timeLimitSeconds ?? 0) { r.timeLimitSeconds = t }
        return r
    }

    // MARK: - Resume, batch, the plan

    /// The checkpoint to resume from (relative to the worktree), or nil to restart: --resume
    /// insists, --restart declines, else as the diagnosis says (never for an array: its tasks
    /// restart).
    static func chooseResume(_ c: FixContext) throws -> String? {
        let checkpoint = c.diagnosis.checkpoint ?? c.change?.resumeFrom
        let chosen: String?
        switch c.options.resume {
        case true?:
            guard let checkpoint else {
                throw FixRefusal(reason: "--resume was given but no checkpoint was found for \(c.failed.id)",
                                 hint: "check checkpoint_glob in expt.toml (\(c.config.checkpointGlob ?? "unset")), or use --restart")
            }
            chosen = checkpoint
        case false?: chosen = nil
        case nil: chosen = c.diagnosis.resumable && c.config.resumeCommand != nil && c.failed.tasks.isEmpty ? checkpoint : nil
        }
        guard let path = chosen, path.hasPrefix(c.worktree + "/") else { return chosen }
        return String(path.dropFirst(c.worktree.count + 1))
    }

    /// A GPU OOM's batch rescaling, only when `[run]` declares the batch size (that is where it
    /// is written) and no profile was chosen by hand.
    static func rescaleBatch(_ c: FixContext) -> (batchSize: Int?, gradAccumulation: Int?) {
        guard c.category == .oomGPU, c.options.profile == nil, c.config.run.batchSize != nil,
              let batch = c.change?.batchSize else { return (nil, nil) }
        return (batch, c.change?.gradAccumulation)
    }

    static func draft(_ c: FixContext, profile: String?, resources: Resources, resumeFrom: String?) -> FixPlan {
        let d = c.diagnosis, f = c.failed
        let batch = rescaleBatch(c)
        return FixPlan(branch: c.branch, failedRun: f.id, failedJob: f.jobID, failedCommit: f.commit,
                       category: d.category.rawValue, secondary: d.secondary?.rawValue,
                       evidence: d.evidence.first.map { "\($0.location): \($0.text)" } ?? "(no evidence line)",
                       remedyKind: d.remedy.kind.rawValue, remedy: d.remedy.description, userChanges: c.userChanges,
                       profile: profile, previousProfile: f.profile, resources: resources,
                       previousResources: f.resources, resumeFrom: resumeFrom,
                       batchSize: batch.batchSize, gradAccumulation: batch.gradAccumulation,
                       message: c.options.message ?? "", newRun: c.newRun,
                       tasks: f.tasks.isEmpty ? nil : (c.failedTasks.isEmpty ? f.tasks.map(\.index) : c.failedTasks),
                       maxConcurrent: f.spec?.array?.maxConcurrent)
    }

    // MARK: - Never a blind retry

    /// A remedy that needs a change the worktree lacks, one that would change nothing, or the
    /// same fix after the same failure stops the loop.
    static func refuseBlindRetry(_ c: FixContext, _ plan: FixPlan) throws {
        let f = c.failed, kind = c.diagnosis.remedy.kind
        let changesSomething = !c.userChanges.isEmpty || plan.resources != f.resources || plan.profile != f.profile
            || plan.batchSize != nil
        if kind == .needsChange && c.userChanges.isEmpty {
            throw FixRefusal(reason: "\(plan.category) needs a code or config change, and the worktree has none since \(f.id): \(c.diagnosis.remedy.description)",
                             hint: "edit the worktree (`expt worktree \(c.branch)`), then run fix-and-relaunch again; the evidence: \(plan.evidence)")
        }
        if kind == .escalateResources && !changesSomething {
            throw FixRefusal(reason: "the remedy for \(plan.category) would change nothing (resources already at \(f.resources.memoryMB.map(Units.memoryString) ?? "the cap"))",
                             hint: "raise [retry] memory_cap, choose a bigger --profile, or reduce the job's memory use")
        }
        // A newer checkpoint is progress, so resuming from it is not the same fix.
        if let prev = c.previousPlan, prev.category == plan.category, f.parentRun == prev.failedRun,
           !changesSomething, plan.resumeFrom == nil || plan.resumeFrom == prev.resumeFrom {
            throw FixRefusal(reason: "same diagnosis (\(plan.category)) after the same fix: \(f.id) was relaunched by the fix for \(prev.failedRun) and failed the same way, and this fix would change nothing new",
                             hint: "make a real change in the worktree (or pick another --profile) before relaunching; `expt history \(c.branch)` shows the loop")
        }
    }
}
