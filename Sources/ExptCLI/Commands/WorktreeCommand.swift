import ArgumentParser
import ExptCore
import ExptModel

struct WorktreeCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "worktree",
        abstract: "Print an experiment's worktree path, recreating the worktree if it was removed.")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String

    struct Output: Encodable { var branch: String; var worktree: String; var recreated: Bool }

    func run(in env: ExptEnvironment) throws {
        let (path, recreated) = try Experiments(try env.workspace(global)).ensureWorktree(branch)
        if recreated && !global.json { env.console.note("recreated the worktree of \(branch)") }
        try env.console.emit(Output(branch: branch, worktree: path, recreated: recreated), json: global.json) { path }
    }
}
