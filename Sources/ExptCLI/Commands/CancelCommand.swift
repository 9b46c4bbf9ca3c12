import ArgumentParser
import Foundation
import ExptCore

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a run (default: the branch's live run).")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Option(name: .customLong("run"), help: "The run id, e.g. r12.") var runID: String?
    @Flag(help: "Say which run would be cancelled; cancel nothing.") var dryRun = false

    func run() throws {
        let service = try Backends.service(global)
        if dryRun {
            try service.refresh(branches: [branch])
            let all = try service.ledger().runs(branch: branch)
            let target = runID == nil ? try (all.last { !$0.state.isTerminal } ?? service.findRun(branch: branch, run: nil))
                                      : try service.findRun(branch: branch, run: runID)
            let view = RunView(target, now: Date())
            return try Console().emit(view, json: global.json) {
                target.state.isTerminal ? "\(target.id) has already ended (\(view.stateText)); nothing to cancel"
                                        : "would cancel \(target.id) (job \(target.jobID ?? "?")), now \(view.stateText)"
            }
        }
        let before = try service.findRun(branch: branch, run: runID)
        let after = try service.cancel(branch: branch, run: runID)
        let view = RunView(after, now: Date())
        try Console().emit(view, json: global.json) {
            before.state.isTerminal && runID != nil
                ? "\(after.id) had already ended: \(view.stateText)"
                : "\(after.id) (job \(after.jobID ?? "?")): \(view.stateText)"
        }
    }
}
