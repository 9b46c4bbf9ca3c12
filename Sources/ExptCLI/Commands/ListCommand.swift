import ArgumentParser
import Foundation
import ExptCore
import ExptModel

struct ListCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List experiments: worktree, head, distance from base, doc.")

    @OptionGroup var global: GlobalOptions

    func run(in env: ExptEnvironment) throws {
        let rows = try Experiments(try env.workspace(global)).list()
        try env.console.emit(rows, json: global.json) {
            if rows.isEmpty { return "no experiments yet: `expt new <branch>` creates one" }
            return Table.render(["BRANCH", "WORKTREE", "HEAD", "AHEAD/BEHIND", "LAST COMMIT", "DOC"], rows.map { r in
                [r.branch, r.worktreeExists ? r.worktree : "(missing) \(r.worktree)", String(r.head.prefix(8)),
                 r.ahead.map { "+\($0)/-\(r.behind ?? 0) \(r.base ?? "")" } ?? "-",
                 ISO8601.timestamp(r.lastCommitDate), r.doc ? "yes" : "no"]
            })
        }
    }
}
