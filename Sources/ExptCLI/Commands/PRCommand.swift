import ArgumentParser
import ExptCore

struct PRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pr",
        abstract: "Open the branch's pull request through gh (the doc is its body), or show the existing one.")

    @OptionGroup var global: GlobalOptions
    @Argument var branch: String
    @Flag(help: "Open it as a draft.") var draft = false

    func run() throws {
        let r = try PullRequests.ensure(try global.workspace(), branch: branch, draft: draft, hostFactory: GitHubHost.factory)
        try Console().emit(r, json: global.json) { (r.created ? "opened " : "") + "#\(r.number) \(r.url)" }
    }
}
