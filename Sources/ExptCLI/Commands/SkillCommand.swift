import ArgumentParser
import Foundation
import ExptCore
import ExptModel
import ExptTemplates

struct SkillCommand: ExptCommand {
    static let configuration = CommandConfiguration(
        commandName: "skill",
        abstract: "Print the coding-agent skill for the fix loop (templates/agent-skill.md), or install it.",
        discussion: "See docs/agents.md. Example: expt skill --install .claude/skills/expt-fix-loop")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Write it as SKILL.md into this directory (created if missing).") var install: String?

    struct Output: Encodable { var path: String?; var text: String }

    func run(in env: ExptEnvironment) throws {
        guard let text = EmbeddedTemplates.text("agent-skill.md") else {
            throw ExptError(.failure, "the agent skill is missing from this build")
        }
        var path: String?
        if let dir = install {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            path = (dir as NSString).appendingPathComponent("SKILL.md")
            try text.write(toFile: path!, atomically: true, encoding: .utf8)
        }
        try env.console.emit(Output(path: path, text: text), json: global.json) { path.map { "wrote \($0)" } ?? text }
    }
}
