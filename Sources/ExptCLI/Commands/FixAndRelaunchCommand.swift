import ArgumentParser
import Foundation
import ExptCore
import ExptModel
import ExptGitHub

struct FixAndRelaunchCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "fix-and-relaunch",
        abstract: "Diagnose the failed run, record the fix, commit, push, comment on the PR, relaunch, verify.",
        discussion: """
        In order: worktree → diagnose → plan (retry budget; never a blind retry) → Fixes entry in \
        docs/<branch>.md → commit with Expt-Run/Expt-Diagnosis/Expt-Fix trailers → push → PR \
        comment via gh → relaunch (resuming from the latest checkpoint when possible) → check the \
        new run started. Every step is journaled: run it again after an interruption and it \
        finishes the job without doing any step twice. Push and comment failures wait in the outbox.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Option(name: .shortAndLong, help: "What was fixed, in words (default: derived from the change).") var message: String?
    @Option(help: "Relaunch with this resource profile.") var profile: String?
    @Flag(help: "Resume from the latest checkpoint (error if there is none).") var resume = false
    @Flag(help: "Restart from scratch even if a checkpoint exists.") var restart = false
    @OptionGroup var resources: ResourceOptions
    @Flag(help: "Print each step; change nothing.") var dryRun = false
    @Flag(name: .shortAndLong, help: "Do not ask for confirmation (required without a terminal).") var yes = false
    @Flag(help: "Do not push the branch.") var noPush = false
    @Flag(help: "Do not comment on the pull request.") var noComment = false
    @Option(help: "Seconds to wait for the new run to start (default 30); given, the new run must also log steps within it, past the failed run's last step when it resumed.") var wait: Int?

    func validate() throws {
        if resume && restart { throw ValidationError("--resume and --restart contradict each other") }
        if let wait, wait < 0 { throw ValidationError("--wait takes a number of seconds") }
    }

    func run(in env: ExptEnvironment) throws {
        let service = try env.service(global)
        var settings = FixAndRelaunch.Settings()
        settings.options.message = message
        settings.options.profile = profile
        settings.options.resume = resume ? true : restart ? false : nil
        settings.options.overrides = try resources.resources()
        settings.dryRun = dryRun
        settings.push = !noPush
        settings.comment = !noComment
        settings.wait = TimeInterval(wait ?? 30)
        settings.requireSteps = wait != nil
        if !dryRun && !yes && !env.stdinIsTTY {
            throw ExptError(.invalidInput, "fix-and-relaunch changes the branch, pushes and relaunches; without a terminal it needs --yes",
                            hint: "add --yes (or --dry-run to see the plan)")
        }
        let console = env.console
        let flow = FixAndRelaunch(service: service, hostFactory: env.pullRequestHost, settings: settings) { plan in
            if yes { return true }
            console.err("fix \(plan.category) of \(plan.failedRun): \(plan.changeSummary)")
            console.writeErr("proceed (commit, push, comment, relaunch as \(plan.newRun))? [y/N] ")
            return (env.readLine() ?? "").lowercased().hasPrefix("y")
        }
        let result = try flow.run(branch: branch)
        try console.emit(result, json: global.json) { FixAndRelaunchCommand.describe(result) }
    }

    static func describe(_ r: FixResult) -> String {
        var lines = ["\(r.dryRun ? "would fix" : "fixed") \(r.category) of \(r.failedRun) on \(r.branch)"]
        for s in r.steps {
            lines.append("  \(mark(s.status)) \(s.step.padding(toLength: 9, withPad: " ", startingAt: 0)) \(s.detail)")
        }
        if let run = r.newRun { lines.append("relaunched as \(run) (job \(r.newJob ?? "?")): \(r.newState ?? "?")") }
        if !r.pending.isEmpty { lines.append("waiting in the outbox (retried by later commands; `expt outbox --retry`):") ; lines += r.pending.map { "  \($0)" } }
        if r.dryRun { lines.append("nothing was changed (--dry-run)") }
        return lines.joined(separator: "\n")
    }

    static func mark(_ status: StepStatus) -> String {
        switch status {
        case .done, .resumed: return "✓"
        case .skipped: return "-"
        case .queued: return "…"
        case .would: return "·"
        case .timedOut, .failed: return "✗"
        }
    }
}
