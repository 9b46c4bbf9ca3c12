import ArgumentParser
import ExptCore

struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create an experiment: a branch, its worktree in .worktrees/<branch>, and its doc.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The experiment's branch name, e.g. exp/lr-0.1.") var branch: String
    @Option(help: "Start from this branch or commit (default: the main worktree's branch).") var from: String?

    func run() throws {
        let result = try Experiments(try global.workspace()).create(branch, from: from)
        try Console().emit(result, json: global.json) {
            """
            created \(result.branch) from \(result.base) (\(result.commit.prefix(8)))
            worktree: \(result.worktree)
            doc:      \(result.doc)
            """
        }
    }
}
