import ArgumentParser
import ExptCore
import ExptModel

struct NewCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create an experiment: a branch, its worktree in .worktrees/<branch>, and its doc.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The experiment's branch name, e.g. exp/lr-0.1.") var branch: String
    @Option(help: "Start from this branch or commit (default: the main worktree's branch).") var from: String?
    @Flag(help: "Check everything and say what would be created; create nothing.") var dryRun = false

    func run(in env: ExptEnvironment) throws {
        let result = try Experiments(try env.workspace(global)).create(branch, from: from, dryRun: dryRun)
        try env.console.emit(result, json: global.json) {
            let aside = result.movedAside.map { "\nthe incomplete worktree \(dryRun ? "would be" : "was") moved aside to \($0)" } ?? ""
            if result.finishedInterrupted {
                return (dryRun ? "would finish" : "finished") + " the interrupted creation of \(result.branch) (\(result.commit.prefix(8)))\nworktree: \(result.worktree)" + aside
            }
            if dryRun { return "would create \(result.branch) from \(result.base) (\(result.commit.prefix(8))) at \(result.worktree) with \(result.doc)" }
            return """
            created \(result.branch) from \(result.base) (\(result.commit.prefix(8)))
            worktree: \(result.worktree)
            doc:      \(result.doc)
            """
        }
    }
}
