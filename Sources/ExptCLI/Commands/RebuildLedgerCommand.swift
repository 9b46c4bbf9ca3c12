import ArgumentParser
import Foundation
import ExptCore
import ExptModel

struct RebuildLedgerCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild-ledger",
        abstract: "Rebuild a missing run ledger from the run directories (.git/expt/runs/r<n>/run.json).",
        discussion: """
            Each run is recovered as launched (branch, backend, job id, commit, spec); its state is then asked of \
            its backend, so a live job is tracked again. The fix journal and the outbox are not recoverable. \
            Exit 3 when a ledger exists; --dry-run lists what would be recovered and writes nothing.
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "List the runs that would be recovered; write nothing.") var dryRun = false

    struct Row: Encodable { var run: String; var branch: String; var backend: String; var job: String?; var state: String }
    struct Output: Encodable { var dryRun: Bool; var runs: [Row]; var skipped: [String] }

    func run(in env: ExptEnvironment) throws {
        let service = try env.service(global)
        let rebuilt = try Ledger.rebuild(dir: service.ws.stateDir, dryRun: dryRun, at: env.now())
        // Learn each recovered run's state from its backend; a failed poll leaves them pending
        // (the ledger is rebuilt either way) and says why.
        var records = rebuilt.runs
        if !dryRun {
            do { records = try service.refresh(fresh: true) } catch {
                env.console.note("the recovered runs stay pending until a poll succeeds: \(error)")
            }
        }
        let rows = records.map { Row(run: $0.id, branch: $0.branch, backend: $0.backend, job: $0.jobID, state: $0.state.rawValue) }
        try env.console.emit(Output(dryRun: dryRun, runs: rows, skipped: rebuilt.skipped), json: global.json) {
            var lines = [dryRun ? "would recover \(rows.count) run(s); nothing written" : "rebuilt the run ledger with \(rows.count) run(s)"]
            if !rows.isEmpty {
                lines.append(Table.render(["RUN", "BRANCH", "BACKEND", "JOB", "STATE"],
                                          rows.map { [$0.run, $0.branch, $0.backend, $0.job ?? "-", $0.state] }))
            }
            for s in rebuilt.skipped { lines.append("skipped \(s): no record of a launched run") }
            if !dryRun { lines.append("the fix journal and the outbox were not recoverable") }
            return lines.joined(separator: "\n")
        }
    }
}
