import ArgumentParser
import ExptCore
import ExptModel

struct CheckpointCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint", abstract: "Commit everything in an experiment's worktree.")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Option(name: .shortAndLong, help: "The commit message.") var message: String
    @Flag(help: "Say how many changes would be committed; commit nothing.") var dryRun = false

    func validate() throws {
        if message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("the commit message (-m) cannot be empty")
        }
    }

    func run(in env: ExptEnvironment) throws {
        let r = try Experiments(try env.workspace(global)).checkpoint(branch, message: message, dryRun: dryRun)
        try env.console.emit(r, json: global.json) {
            if dryRun { return "would commit \(r.changedPaths) change(s) on \(branch)" }
            return r.committed ? "committed \(r.changedPaths) change(s) on \(branch) as \(r.commit.prefix(8))"
                        : "nothing to commit in \(branch) (at \(r.commit.prefix(8)))"
        }
    }
}
