import ArgumentParser
import Foundation
import ExptCore
import ExptGitHub

struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Show pushes and PR comments waiting to be delivered; --retry tries them now.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Try to deliver every pending item now.") var retry = false
    @Flag(help: "Also show delivered items.") var all = false

    struct Row: Encodable {
        var id: Int64; var kind: String; var branch: String?; var attempts: Int
        var lastError: String?; var createdAt: Date; var deliveredAt: Date?
    }

    func run() throws {
        let ws = try global.workspace()
        let ledger = try Ledger(dir: ws.stateDir)
        if retry {
            let (delivered, pending) = Outbox(ws: ws, ledger: ledger, hostFactory: GitHubHost.factory).retryPending()
            if !global.json { Console().note("delivered \(delivered), still pending \(pending)") }
        }
        let items = try all ? ledger.allOutbox() : ledger.pendingOutbox()
        let rows = items.map { Row(id: $0.id, kind: $0.kind, branch: $0.branch, attempts: $0.attempts,
                                   lastError: $0.lastError, createdAt: $0.createdAt, deliveredAt: $0.deliveredAt) }
        try Console().emit(rows, json: global.json) {
            if rows.isEmpty { return all ? "the outbox is empty" : "nothing waiting in the outbox" }
            return Table.render(["ID", "KIND", "BRANCH", "ATTEMPTS", "STATE", "LAST ERROR"], rows.map { r in
                ["\(r.id)", r.kind, r.branch ?? "-", "\(r.attempts)", r.deliveredAt == nil ? "pending" : "delivered", r.lastError ?? "-"]
            })
        }
    }
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Review the fix history: what failed, what changed, and whether the fix worked.",
        discussion: "Without a branch: every experiment, including merged ones (their docs are on the base).")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String?

    func run() throws {
        let ws = try global.workspace()
        let ledger = FileManager.default.fileExists(atPath: ws.stateDir + "/ledger.sqlite") ? try Ledger(dir: ws.stateDir) : nil
        let entries = try FixHistory.collect(ws, ledger: ledger, branch: branch)
        try Console().emit(entries, json: global.json) {
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
