import ArgumentParser
import ExptCore
import ExptModel

struct SyncCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Merge the experiment's base into it (a merge commit).")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Flag(help: "Compute the merge in memory (conflicts included); write nothing.") var dryRun = false

    func run(in env: ExptEnvironment) throws {
        let r = try Experiments(try env.workspace(global)).sync(branch, dryRun: dryRun)
        try env.console.emit(r, json: global.json) { MergeCommand.describe(r) }
    }
}
