import ArgumentParser
import ExptCore
import ExptModel
import ExptGitHub

struct PRCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "pr",
        abstract: "Open the branch's pull request through gh (the doc is its body), or show the existing one.")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Flag(help: "Open it as a draft.") var draft = false
    @Flag(help: "Show the existing PR or say one would be opened; push and create nothing.") var dryRun = false

    func run(in env: ExptEnvironment) throws {
        let r = try PullRequests.ensure(try env.workspace(global), branch: branch, draft: draft, dryRun: dryRun,
                                        hostFactory: env.pullRequestHost)
        try env.console.emit(r, json: global.json) {
            if r.number == 0 { return "would push \(branch) and open a pull request: \(r.url)" }
            return (r.created ? "opened " : "") + "#\(r.number) \(r.url)"
        }
    }
}
