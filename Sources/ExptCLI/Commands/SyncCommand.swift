import ArgumentParser
import ExptCore

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Merge the experiment's base into it (a merge commit).")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Flag(help: "Compute the merge in memory (conflicts included); write nothing.") var dryRun = false

    func run() throws {
        let r = try Experiments(try global.workspace()).sync(branch, dryRun: dryRun)
        try Console().emit(r, json: global.json) { MergeCommand.describe(r) }
    }
}
