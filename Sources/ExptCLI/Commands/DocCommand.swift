import ArgumentParser
import Foundation
import ExptCore
import ExptModel

struct DocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doc", abstract: "Branch-doc tools.", subcommands: [Check.self])

    struct Check: ExptCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check a branch doc: it exists, has its sections, and past Fixes entries are unchanged.",
            discussion: "The git hooks installed by `expt init` run this with --hook.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The experiment branch (default: the branch checked out here).") var branch: String?
        @Option(help: "Run as the git hook of this name (pre-commit or commit-msg).") var hook: String?
        @Option(help: "The commit message file (commit-msg hook).") var messageFile: String?

        func validate() throws {
            if let hook, !["pre-commit", "commit-msg"].contains(hook) {
                throw ValidationError("--hook takes pre-commit or commit-msg, not '\(hook)'")
            }
        }

        func run(in env: ExptEnvironment) throws {
            let ws = try env.workspace(global)
            let check = DocCheck(ws)
            let result: DocCheckResult
            if let hook {
                result = try check.hook(hook, in: (global.repo ?? env.directory), messageFile: messageFile)
            } else if let branch {
                result = try check.branch(branch)
            } else {
                guard let b = try ExptCore.currentBranch(at: (global.repo ?? env.directory)) else {
                    throw ExptError(.invalidInput, "HEAD is detached here, so there is no branch to check", hint: "name the branch: expt doc check <branch>")
                }
                result = try check.branch(b)
            }
            try env.console.emit(result, json: global.json) {
                if let s = result.skipped { return hook == nil ? "skipped: \(s)" : "" }
                if result.ok { return hook == nil ? "\(result.doc ?? "doc") is fine" : "" }
                return ""
            }
            if !result.ok {
                let lines = result.problems.map { p in
                    "  \(result.doc ?? "")\(p.line.map { ":\($0)" } ?? ""): \(p.message)\n    → \(p.fix)"
                }
                let error = ExptError(.invalidInput, "the branch doc of \(result.branch ?? "?") breaks \(result.problems.count) rule(s):\n"
                                      + lines.joined(separator: "\n"))
                // With --json the result above already lists the problems: one JSON document.
                guard global.json else { throw error }
                env.console.err("error: " + error.message)
                throw ExitCode(ExitStatus.invalidInput.rawValue)
            }
        }
    }
}
