import ArgumentParser
import ExptCore
import ExptModel

struct CleanCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean", abstract: "Remove an experiment's worktree; the branch stays.")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Flag(help: "Say what would be removed, remove nothing.") var dryRun = false
    @Flag(help: "Remove even with uncommitted changes (they are lost) or a live run.") var force = false

    func run(in env: ExptEnvironment) throws {
        let service = try env.service(global)
        try service.ws.requireBranch(branch)
        if !force { try service.refuseLiveRuns(branch, doing: "removing the worktree") }
        let r = try Experiments(service.ws).clean(branch, dryRun: dryRun, force: force)
        try env.console.emit(r, json: global.json) {
            var s = (dryRun ? "would remove " : "removed ") + r.worktree + " (branch \(branch) kept)"
            if !r.discardedChanges.isEmpty {
                s += "\n" + (dryRun ? "would discard:" : "discarded:") + "\n" + r.discardedChanges.map { "  \($0)" }.joined(separator: "\n")
            }
            return s
        }
    }
}
