import ArgumentParser
import Foundation
import ExptCore
import ExptModel

struct HistoryCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Review the fix history: what failed, what changed, and whether the fix worked.",
        discussion: "Without a branch: every experiment, including merged ones (their docs are on the base).")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String?

    func run(in env: ExptEnvironment) throws {
        let ws = try env.workspace(global)
        let ledger = FileManager.default.fileExists(atPath: ws.stateDir + "/" + Ledger.fileName) ? try Ledger(dir: ws.stateDir) : nil
        let entries = try FixHistory.collect(ws, ledger: ledger, branch: branch)
        try env.console.emit(entries, json: global.json) {
            if entries.isEmpty { return "no fixes recorded\(branch.map { " for \($0)" } ?? "")" }
            return entries.map { e in
                let verdict = e.worked == true ? "fixed" : e.worked == false ? "did not fix" : "pending"
                return """
                \(e.branch) fix \(e.number) — \(e.date) — \(e.category)
                  failed:  \(e.failedRun)\(e.failedJob.map { " (job \($0))" } ?? "")
                  why:     \(e.evidence ?? "-")
                  change:  \(e.change ?? "-")
                  commit:  \(e.commit.map { String($0.prefix(8)) } ?? "-")
                  next:    \(e.nextRun ?? "-") → \(e.outcome) [\(verdict)]
                """
            }.joined(separator: "\n")
        }
    }
}
