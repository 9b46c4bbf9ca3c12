import ArgumentParser
import Foundation
import ExptCore
import ExptModel

struct CancelCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a run (default: the branch's live run).")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Option(name: .customLong("run"), help: "The run id, e.g. r12.") var runID: String?
    @Flag(help: "Say which run would be cancelled; cancel nothing.") var dryRun = false

    func run(in env: ExptEnvironment) throws {
        let service = try env.service(global)
        if dryRun {
            let target = try service.cancelTarget(branch: branch, run: runID)
            let view = RunView(target, now: env.now())
            return try env.console.emit(view, json: global.json) {
                target.state.isTerminal ? "\(target.id) has already ended (\(view.stateText)); nothing to cancel"
                                        : "would cancel \(target.id) (job \(target.jobID ?? "?")), now \(view.stateText)"
            }
        }
        let before = try service.findRun(branch: branch, run: runID)
        let after = try service.cancel(branch: branch, run: runID)
        let view = RunView(after, now: env.now())
        try env.console.emit(view, json: global.json) {
            before.state.isTerminal && runID != nil
                ? "\(after.id) had already ended: \(view.stateText)"
                : "\(after.id) (job \(after.jobID ?? "?")): \(view.stateText)"
        }
    }
}
