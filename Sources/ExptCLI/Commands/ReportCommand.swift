import ArgumentParser
import Foundation
import ExptCore
import ExptModel

struct ReportCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The active experiments as markdown: latest run, state, progress, W&B link, preemptions, last fix, discrepancies.",
        discussion: "--output writes it to a file inside the repository (e.g. a status document the team commits); it is replaced whole, never half-written.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Write the report to this file (inside the repository) instead of stdout.") var output: String?

    func run(in env: ExptEnvironment) throws {
        let service = try env.service(global)
        let report = try service.report()
        TrackerText.notices(service, env.console)
        guard let output else {
            return try env.console.emit(report, json: global.json) { report.markdown }
        }
        let path = try ReportCommand.confined(output, base: global.repo ?? env.directory, root: service.ws.root)
        let text = global.json ? try JSONOutput.encode(report) + "\n" : report.markdown
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw ExptError(.failure, "cannot write the report to \(path): \(error.localizedDescription)",
                            hint: "check that the directory exists and is writable")
        }
        if !global.json { env.console.out("wrote \(report.experiments.count) experiment(s) to \(path)") }
    }

    /// `path` made absolute and checked to be inside the repository (not in .git), so a report
    /// never overwrites a file elsewhere.
    static func confined(_ path: String, base: String, root: String) throws -> String {
        let absolute = path.hasPrefix("/") ? path : base + "/" + path
        let resolved = URL(fileURLWithPath: absolute).standardizedFileURL.resolvingSymlinksInPath().path
        let top = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
        guard resolved.hasPrefix(top + "/"), !resolved.dropFirst(top.count).hasPrefix("/.git/"),
              !FileManager.default.fileExists(atPath: resolved) || !isDirectory(resolved) else {
            throw ExptError(.invalidInput, "--output \(path) is not a file inside the repository \(root)",
                            hint: "write the report inside the repository, e.g. --output docs/status.md")
        }
        return resolved
    }

    static func isDirectory(_ p: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: p, isDirectory: &d) && d.boolValue
    }
}
