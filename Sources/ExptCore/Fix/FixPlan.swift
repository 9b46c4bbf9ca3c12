import Foundation
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
        if !userChanges.isEmpty { parts.append("edited \(userChanges.prefix(5).joined(separator: ", "))\(userChanges.count > 5 ? " and \(userChanges.count - 5) more" : "")") }
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

/// Turns a diagnosis into a plan, or refuses: never a blind retry.
public enum FixPlanner {
    /// - Parameters:
    ///   - previousPlan: the plan that launched `failed`, if fix-and-relaunch launched it.
    ///   - history: every run of the branch (for the retry budget).
    public static func plan(branch: String, failed: RunRecord, diagnosis d: Diagnosis, config: ExptConfig,
                            options: FixOptions, userChanges: [String], previousPlan: FixPlan?,
                            history: [RunRecord], newRun: String, worktree: String,
                            failedTasks: [Int] = []) throws -> FixPlan {
        let category = d.category.rawValue
        // The retry budget: preemptions and node failures counted apart from failures.
        let interrupted: Set<String> = ["preempted", "node_failure"]
        let failures = history.filter { $0.state.isFailure && !interrupted.contains($0.diagnosis ?? "") }.count
        let preemptions = history.filter { interrupted.contains($0.diagnosis ?? "") }.count
        if interrupted.contains(category) {
            if preemptions > config.retry.maxPreemptions {
                throw FixRefusal(reason: "the preemption budget is spent: \(preemptions) preemptions or node failures (max_preemptions = \(config.retry.maxPreemptions))",
                                 hint: "raise [retry] max_preemptions in expt.toml, or move the job to a less contended partition")
            }
        } else if failures >= config.retry.maxFailures {
            throw FixRefusal(reason: "the failure budget is spent: \(failures) failed runs of \(branch) (max_failures = \(config.retry.maxFailures))",
                             hint: "look at `expt history \(branch)`; raise [retry] max_failures in expt.toml to keep going")
        }
        if d.category == .success {
            throw FixRefusal(reason: "run \(failed.id) shows no failure in its logs (diagnosis: success) although it ended \(failed.state.rawValue)",
                             hint: "read `expt logs \(branch)`; relaunch by hand with `expt launch \(branch)` if that is what you want")
        }

        // Resources: what the failed run had, then the profile, then the remedy, then flags.
        // A memory escalation prefers the smallest configured profile that holds it (e.g.
        // `highmem`): profiles are what the user vetted for the cluster.
        var resources = failed.resources
        var fitting: String?
        if let need = d.remedy.change?.memoryMB, d.remedy.kind == .escalateResources, options.overrides.memoryMB == nil {
            fitting = config.profiles.filter { ($0.value.memoryMB ?? 0) >= need && ($0.value.memoryMB ?? 0) > (failed.resources.memoryMB ?? 0) }
                .min { ($0.value.memoryMB ?? 0, $0.key) < ($1.value.memoryMB ?? 0, $1.key) }?.key
        }
        var profile = options.profile ?? d.remedy.change?.profile ?? fitting ?? failed.profile
        if let p = profile {
            guard let pr = config.profiles[p] else {
                throw ExptError(.invalidInput, "unknown profile '\(p)'",
                                hint: config.profiles.isEmpty ? "define [profiles.\(p)] in expt.toml" : "known profiles: \(config.profiles.keys.sorted().joined(separator: ", "))")
            }
            resources = resources.overridden(by: pr)
        }
        let change = d.remedy.change
        if options.profile == nil, fitting == nil, let m = change?.memoryMB, m > (resources.memoryMB ?? 0) {
            resources.memoryMB = min(m, config.retry.memoryCapMB)
            if change?.profile == nil { profile = failed.profile }
        }
        if let t = change?.timeLimitSeconds, t > (resources.timeLimitSeconds ?? 0) { resources.timeLimitSeconds = t }
        resources = resources.overridden(by: options.overrides)

        // Resume or restart.
        var resumeFrom: String?
        let checkpoint = d.checkpoint ?? change?.resumeFrom
        switch options.resume {
        case true?:
            guard let checkpoint else {
                throw FixRefusal(reason: "--resume was given but no checkpoint was found for \(failed.id)",
                                 hint: "check checkpoint_glob in expt.toml (\(config.checkpointGlob ?? "unset")), or use --restart")
            }
            resumeFrom = checkpoint
        case false?: resumeFrom = nil
        case nil: resumeFrom = d.resumable && config.resumeCommand != nil && failed.tasks.isEmpty ? checkpoint : nil
        }
        if let r = resumeFrom, r.hasPrefix(worktree + "/") { resumeFrom = String(r.dropFirst(worktree.count + 1)) }

        let batch = d.category == .oomGPU && options.profile == nil ? change?.batchSize : nil
        let plan = FixPlan(branch: branch, failedRun: failed.id, failedJob: failed.jobID,
                           failedCommit: failed.commit, category: category,
                           secondary: d.secondary?.rawValue,
                           evidence: d.evidence.first.map { "\($0.location): \($0.text)" } ?? "(no evidence line)",
                           remedyKind: d.remedy.kind.rawValue, remedy: d.remedy.description, userChanges: userChanges,
                           profile: profile, previousProfile: failed.profile, resources: resources,
                           previousResources: failed.resources, resumeFrom: resumeFrom,
                           batchSize: batch.flatMap { config.run.batchSize != nil ? $0 : nil },
                           gradAccumulation: batch != nil && config.run.batchSize != nil ? change?.gradAccumulation : nil,
                           message: options.message ?? "", newRun: newRun,
                           tasks: failed.tasks.isEmpty ? nil : (failedTasks.isEmpty ? failed.tasks.map(\.index) : failedTasks),
                           maxConcurrent: failed.spec?.array?.maxConcurrent)

        // Never a blind retry.
        let changesSomething = !userChanges.isEmpty || resources != failed.resources || profile != failed.profile
            || plan.batchSize != nil
        if d.remedy.kind == .needsChange && userChanges.isEmpty {
            throw FixRefusal(reason: "\(category) needs a code or config change, and the worktree has none since \(failed.id): \(d.remedy.description)",
                             hint: "edit the worktree (`expt worktree \(branch)`), then run fix-and-relaunch again; the evidence: \(plan.evidence)")
        }
        if d.remedy.kind == .escalateResources && !changesSomething {
            throw FixRefusal(reason: "the remedy for \(category) would change nothing (resources already at \(failed.resources.memoryMB.map(Units.memoryString) ?? "the cap"))",
                             hint: "raise [retry] memory_cap, choose a bigger --profile, or reduce the job's memory use")
        }
        if let prev = previousPlan, prev.category == category, failed.parentRun == prev.failedRun {
            let sameFix = !changesSomething && (resumeFrom == nil || resumeFrom == prev.resumeFrom)
            if sameFix {
                throw FixRefusal(reason: "same diagnosis (\(category)) after the same fix: \(failed.id) was relaunched by the fix for \(prev.failedRun) and failed the same way, and this fix would change nothing new",
                                 hint: "make a real change in the worktree (or pick another --profile) before relaunching; `expt history \(branch)` shows the loop")
            }
        }
        var p = plan
        if p.message.isEmpty { p.message = p.changeSummary }
        return p
    }
}
