import ArgumentParser
import Foundation
import ExptCore
import ExptModel

struct RunsCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "Every run of a branch, with attempts and parents.")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String

    func run(in env: ExptEnvironment) throws {
        let service = try env.service(global)
        try service.ws.requireBranch(branch)
        let views = service.views(service.diagnoseNewFailures(try service.refresh(branches: [branch])))
        TrackerText.notices(service, env.console)
        try env.console.emit(views, json: global.json) {
            if views.isEmpty { return "\(branch) has no runs yet" }
            return Table.render(["RUN", "ATTEMPT", "PARENT", "BACKEND", "JOB", "STATE", "PROFILE", "ELAPSED", "COMMIT"], views.map { v in
                [v.run, "\(v.attempt)", v.parentRun ?? "-", v.backend, v.jobId ?? "-", v.stateText, v.profile ?? "-",
                 v.elapsedSeconds.map(Units.elapsed) ?? "-", String(v.commit.prefix(8))]
            }) + TrackerText.links(views) + TrackerText.discrepancies(views)
        }
    }
}
