import ArgumentParser
import Foundation
import ExptCore
import ExptModel

struct CloseZombiesCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "close-zombies",
        abstract: "Mark tracker runs failed whose jobs have ended (W&B says running, the scheduler says gone).",
        discussion: "Uses W&B's Run.update_state(\"failed\") (wandb 0.31 has it). Exit 0 when every zombie was closed (or none), 5 when one could not be.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Branches to look at (default: all).") var branches: [String] = []
    @Flag(help: "Say which tracker runs would be closed; change nothing.") var dryRun = false

    func run(in env: ExptEnvironment) throws {
        let service = try env.service(global)
        for b in branches { try service.ws.requireBranch(b) }
        let zombies = try service.closeZombies(branches: branches.isEmpty ? nil : Set(branches), dryRun: dryRun)
        TrackerText.notices(service, env.console)
        try env.console.emit(zombies, json: global.json) {
            zombies.isEmpty ? "no zombies: every tracker run that says running has a live job"
                            : zombies.map { "\($0.branch) \($0.run): \($0.detail)" }.joined(separator: "\n")
        }
        if zombies.contains(where: { $0.action == "failed" }) { throw ExitCode(ExitStatus.external.rawValue) }
    }
}
