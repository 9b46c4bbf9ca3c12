import ArgumentParser
import Foundation
import ExptCore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Refresh and show runs: one scheduler poll per backend, then a table.",
        discussion: "Without branches: the latest run of every branch, plus any run still live.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Branches to show (default: all).") var branches: [String] = []
    @Flag(help: "Show every run, not only the latest of each branch.") var all = false

    func run() throws {
        let service = try Backends.serviceDeliveringOutbox(global)
        for b in branches { try service.ws.requireBranch(b) }
        let records = try service.refresh(branches: branches.isEmpty ? nil : Set(branches), latestOnly: !all)
        let shown = service.diagnoseNewFailures(all ? records : StatusCommand.latestAndLive(records))
        let views = service.views(shown)
        try Console().emit(views, json: global.json) { StatusCommand.table(views) }
    }

    /// The latest run of each branch, plus earlier runs that are still live.
    static func latestAndLive(_ runs: [RunRecord]) -> [RunRecord] {
        let latest = Dictionary(grouping: runs, by: \.branch).compactMapValues { $0.max { $0.seq < $1.seq } }
        return runs.filter { latest[$0.branch]?.id == $0.id || !$0.state.isTerminal }
    }

    static func table(_ views: [RunView]) -> String {
        if views.isEmpty { return "no runs yet: `expt launch <branch>` starts one" }
        return Table.render(["BRANCH", "RUN", "BACKEND", "JOB", "STATE", "ELAPSED", "PROGRESS", "COMMIT"], views.map { v in
            [v.branch, v.run, v.backend, v.jobId ?? "-", v.stateText, v.elapsedSeconds.map(humanDuration) ?? "-",
             v.progress ?? "-", String(v.commit.prefix(8))]
        }) + views.compactMap { v in v.batch.map { "\n\(v.run): " + BatchHealthText.render($0) } }.joined()
    }
}

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "Every run of a branch, with attempts and parents.")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String

    func run() throws {
        let service = try Backends.service(global)
        try service.ws.requireBranch(branch)
        let views = service.views(service.diagnoseNewFailures(try service.refresh(branches: [branch])))
        try Console().emit(views, json: global.json) {
            if views.isEmpty { return "\(branch) has no runs yet" }
            return Table.render(["RUN", "ATTEMPT", "PARENT", "BACKEND", "JOB", "STATE", "PROFILE", "ELAPSED", "COMMIT"], views.map { v in
                [v.run, "\(v.attempt)", v.parentRun ?? "-", v.backend, v.jobId ?? "-", v.stateText, v.profile ?? "-",
                 v.elapsedSeconds.map(humanDuration) ?? "-", String(v.commit.prefix(8))]
            })
        }
    }
}

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a run (default: the branch's live run).")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Option(name: .customLong("run"), help: "The run id, e.g. r12.") var runID: String?
    @Flag(help: "Say which run would be cancelled; cancel nothing.") var dryRun = false

    func run() throws {
        let service = try Backends.service(global)
        if dryRun {
            try service.refresh(branches: [branch])
            let all = try service.ledger().runs(branch: branch)
            let target = runID == nil ? try (all.last { !$0.state.isTerminal } ?? service.findRun(branch: branch, run: nil))
                                      : try service.findRun(branch: branch, run: runID)
            let view = RunView(target, now: Date())
            return try Console().emit(view, json: global.json) {
                target.state.isTerminal ? "\(target.id) has already ended (\(view.stateText)); nothing to cancel"
                                        : "would cancel \(target.id) (job \(target.jobID ?? "?")), now \(view.stateText)"
            }
        }
        let before = try service.findRun(branch: branch, run: runID)
        let after = try service.cancel(branch: branch, run: runID)
        let view = RunView(after, now: Date())
        try Console().emit(view, json: global.json) {
            before.state.isTerminal && runID != nil
                ? "\(after.id) had already ended: \(view.stateText)"
                : "\(after.id) (job \(after.jobID ?? "?")): \(view.stateText)"
        }
    }
}
