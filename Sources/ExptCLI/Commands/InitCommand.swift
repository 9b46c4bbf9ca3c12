import ArgumentParser
import ExptCore
import ExptModel

struct InitCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make this repository an expt repository (idempotent).",
        discussion: """
        Writes expt.toml and the branch-doc hooks (.githooks/), creates docs/, excludes .worktrees/ \
        and sets core.hooksPath. New files are committed on the current branch unless --no-commit.
        """)

    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Write the files but do not commit them.") var noCommit = false
    @Flag(help: "Say what would be created; change nothing.") var dryRun = false

    func run(in env: ExptEnvironment) throws {
        let result = try RepoSetup.initialize(try env.workspace(global), commit: !noCommit, dryRun: dryRun)
        try env.console.emit(result, json: global.json) {
            if result.alreadyInitialized { return "already set up: \(result.root)" }
            if dryRun {
                return (result.created.map { "would create \($0)" }
                        + (result.excluded ? ["would exclude .worktrees/"] : [])
                        + (result.hooksPathChanged ? ["would set core.hooksPath = .githooks"] : [])
                        + ["nothing was changed (--dry-run)"]).joined(separator: "\n")
            }
            var lines = result.created.map { "created \($0)" }
            if result.excluded { lines.append("excluded .worktrees/ (in .git/info/exclude)") }
            if result.hooksPathChanged { lines.append("set core.hooksPath = .githooks") }
            if let c = result.commit { lines.append("committed \(c.prefix(8))") }
            return lines.joined(separator: "\n")
        }
    }
}
