import ArgumentParser
import ExptCore

struct WorktreeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worktree",
        abstract: "Print an experiment's worktree path, recreating the worktree if it was removed.")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String

    struct Output: Encodable { var branch: String; var worktree: String; var recreated: Bool }

    func run() throws {
        let (path, recreated) = try Experiments(try global.workspace()).ensureWorktree(branch)
        if recreated && !global.json { Console().note("recreated the worktree of \(branch)") }
        try Console().emit(Output(branch: branch, worktree: path, recreated: recreated), json: global.json) { path }
    }
}
