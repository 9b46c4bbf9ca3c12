import ArgumentParser
import Foundation
import ExptCore
import ExptModel
import ExptGitHub

struct OutboxCommand: ExptCommand {
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

    func run(in env: ExptEnvironment) throws {
        let ws = try env.workspace(global)
        let ledger = try Ledger(dir: ws.stateDir)
        if retry {
            var box = Outbox(ws: ws, ledger: ledger, hostFactory: env.pullRequestHost)
            box.now = env.now
            let (delivered, pending) = box.retryPending()
            if !global.json { env.console.note("delivered \(delivered), still pending \(pending)") }
        }
        let items = try all ? ledger.allOutbox() : ledger.pendingOutbox()
        let rows = items.map { Row(id: $0.id, kind: $0.kind, branch: $0.branch, attempts: $0.attempts,
                                   lastError: $0.lastError, createdAt: $0.createdAt, deliveredAt: $0.deliveredAt) }
        try env.console.emit(rows, json: global.json) {
            if rows.isEmpty { return all ? "the outbox is empty" : "nothing waiting in the outbox" }
            return Table.render(["ID", "KIND", "BRANCH", "ATTEMPTS", "STATE", "LAST ERROR"], rows.map { r in
                ["\(r.id)", r.kind, r.branch ?? "-", "\(r.attempts)", r.deliveredAt == nil ? "pending" : "delivered", r.lastError ?? "-"]
            })
        }
    }
}
