import ArgumentParser
import Foundation
import ExptCore
import ExptModel

struct StatusCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Refresh and show runs: one scheduler poll per backend, then a table.",
        discussion: "Without branches: the latest run of every branch, plus any run still live.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Branches to show (default: all).") var branches: [String] = []
    @Flag(help: "Show every run, not only the latest of each branch.") var all = false

    func run(in env: ExptEnvironment) throws {
        let service = try env.serviceDeliveringOutbox(global)
        for b in branches { try service.ws.requireBranch(b) }
        let records = try service.refresh(branches: branches.isEmpty ? nil : Set(branches), latestOnly: !all)
        let shown = service.diagnoseNewFailures(all ? records : StatusCommand.latestAndLive(records))
        let views = service.views(shown)
        TrackerText.notices(service, env.console)
        try env.console.emit(views, json: global.json) { StatusCommand.table(views) }
    }

    /// The latest run of each branch, plus earlier runs that are still live.
    static func latestAndLive(_ runs: [RunRecord]) -> [RunRecord] {
        let latest = Dictionary(grouping: runs, by: \.branch).compactMapValues { $0.max { $0.seq < $1.seq } }
        return runs.filter { latest[$0.branch]?.id == $0.id || !$0.state.isTerminal }
    }

    static func table(_ views: [RunView]) -> String {
        if views.isEmpty { return "no runs yet: `expt launch <branch>` starts one" }
        return Table.render(["BRANCH", "RUN", "BACKEND", "JOB", "STATE", "ELAPSED", "PROGRESS", "COMMIT"], views.map { v in
            [v.branch, v.run, v.backend, v.jobId ?? "-", v.stateText, v.elapsedSeconds.map(Units.elapsed) ?? "-",
             v.progress ?? "-", String(v.commit.prefix(8))]
        }) + views.compactMap { v in v.batch.map { "\n\(v.run): " + BatchHealthText.render($0) } }.joined()
            + TrackerText.links(views) + TrackerText.discrepancies(views)
    }
}
