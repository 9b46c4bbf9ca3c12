import ArgumentParser
import Foundation
import ExptCore
import ExptModel

struct CancelCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a run (default: the branch's live run), and the branch's W&B sweep.",
        discussion: """
        When the branch's runs belong to a W&B sweep ([wandb] sweep, or what W&B says of its runs), \
        every live run of the branch is cancelled and so is the sweep (`wandb sweep --cancel`); \
        with --stop the sweep only stops (`wandb sweep --stop`: its active runs finish, no new ones \
        start) and the jobs are left to finish. Only the branch's own jobs are touched, never all \
        of the user's.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Option(name: .customLong("run"), help: "The run id, e.g. r12.") var runID: String?
    @Flag(help: "Say which run would be cancelled; cancel nothing.") var dryRun = false
    @Flag(help: "For a sweep: stop it and let its active runs finish, instead of cancelling them.") var stop = false

    /// What a sweep cancel did (or would do): the runs, and the sweep.
    struct SweepResult: Encodable {
        var runs: [RunView]
        var sweep: String
        var command: [String]
        var action: String
        var detail: String
    }

    func run(in env: ExptEnvironment) throws {
        let service = try env.service(global)
        try service.ws.requireBranch(branch)
        if runID == nil, let (tracker, sweep) = try service.sweep(of: branch) {
            return try cancelSweep(service, tracker, sweep, env)
        }
        if stop { throw ValidationError("--stop is for a branch whose runs belong to a W&B sweep; \(branch) has none ([wandb] sweep)") }
        if dryRun {
            let target = try service.cancelTarget(branch: branch, run: runID)
            let view = RunView(target, now: env.now())
            return try env.console.emit(view, json: global.json) {
                target.state.isTerminal ? "\(target.id) has already ended (\(view.stateText)); nothing to cancel"
                                        : "would cancel \(target.id) (job \(target.jobID ?? "?")), now \(view.stateText)"
            }
        }
        let before = try service.findRun(branch: branch, run: runID)
        let after = try service.cancel(branch: branch, run: runID)
        let view = RunView(after, now: env.now())
        try env.console.emit(view, json: global.json) {
            before.state.isTerminal && runID != nil
                ? "\(after.id) had already ended: \(view.stateText)"
                : "\(after.id) (job \(after.jobID ?? "?")): \(view.stateText)"
        }
    }

    /// Cancels every live run of the branch (unless --stop) and then the sweep.
    func cancelSweep(_ service: RunService, _ tracker: RunTracker, _ sweep: String, _ env: ExptEnvironment) throws {
        TrackerText.notices(service, env.console)
        let live = try service.refresh(branches: [branch], fresh: true).filter { !$0.state.isTerminal }
        let command = tracker.cancelSweepCommand(sweep, stop: stop)
        if dryRun {
            let result = SweepResult(runs: live.map { RunView($0, now: env.now()) }, sweep: sweep, command: command, action: "dry_run",
                                     detail: (stop ? "would stop" : "would cancel") + " W&B sweep \(sweep)")
            return try env.console.emit(result, json: global.json) {
                let lines = (stop ? [] : live.map { "would cancel \($0.id) (job \($0.jobID ?? "?")), now \($0.state.rawValue)" })
                    + ["would run: \(command.joined(separator: " "))"]
                    + (stop && !live.isEmpty ? ["left to finish: \(live.map(\.id).joined(separator: ", "))"] : [])
                return lines.joined(separator: "\n")
            }
        }
        // The sweep first: a sweep W&B refuses (a wrong id) leaves the jobs untouched, and a
        // cancelled sweep starts no new run while its jobs are being cancelled.
        let detail = try tracker.cancelSweep(sweep, stop: stop)
        var views: [RunView] = []
        if !stop {
            for r in live { views.append(RunView(try service.cancel(branch: branch, run: r.id), now: env.now())) }
        }
        let result = SweepResult(runs: views, sweep: sweep, command: command, action: stop ? "stopped" : "cancelled", detail: detail)
        try env.console.emit(result, json: global.json) {
            (views.map { "\($0.run) (job \($0.jobId ?? "?")): \($0.stateText)" } + [detail]
                + (stop && !live.isEmpty ? ["left to finish: \(live.map(\.id).joined(separator: ", "))"] : [])).joined(separator: "\n")
        }
    }
}
