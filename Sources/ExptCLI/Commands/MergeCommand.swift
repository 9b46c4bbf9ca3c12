import ArgumentParser
import ExptCore
import ExptModel

struct MergeCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge an experiment into its base with a merge commit (never squash, never rebase).",
        discussion: "Always two parents, even when a fast-forward is possible. On conflicts nothing changes.")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Option(help: "The branch to merge into (default: the experiment's base).") var into: String?
    @Flag(help: "Compute the merge in memory (conflicts included); write nothing.") var dryRun = false

    func run(in env: ExptEnvironment) throws {
        let r = try Experiments(try env.workspace(global)).merge(branch, into: into, dryRun: dryRun)
        try env.console.emit(r, json: global.json) { MergeCommand.describe(r) }
    }

    static func describe(_ r: MergeResult) -> String {
        if r.dryRun && !r.upToDate { return "would merge \(r.source) into \(r.target) with a merge commit (no conflicts)" }
        return r.upToDate ? "\(r.target) already contains \(r.source); nothing to merge"
                   : "merged \(r.source) into \(r.target) as \(r.commit.prefix(8))"
    }
}
