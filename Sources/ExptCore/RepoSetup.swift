import Foundation
import ExptModel
import GitKit

/// What `expt init` did. Each list is empty when that part was already in place.
public struct InitResult: Codable, Sendable {
    public var root: String
    public var created: [String]
    public var excluded: Bool
    public var hooksPath: String
    public var hooksPathChanged: Bool
    public var commit: String?
    public var alreadyInitialized: Bool { created.isEmpty && !excluded && !hooksPathChanged }
}

/// Makes a repository an expt repository. Idempotent: what exists is left as it is.
public enum RepoSetup {
    public static let hookNames = ["pre-commit", "commit-msg"]

    /// Writes `expt.toml`, `docs/`, the hooks in `.githooks/`, excludes `.worktrees/`, points
    /// `core.hooksPath` at `.githooks`, and commits the new files (only them) unless `commit` is
    /// false.
    public static func initialize(_ ws: Workspace, commit: Bool, dryRun: Bool = false, now: Date = Date()) throws -> InitResult {
        try ws.requireBornHead()
        let templates = Templates(repoRoot: ws.root)
        let fm = FileManager.default
        var files: [(path: String, contents: String, executable: Bool)] = []
        if !fm.fileExists(atPath: ws.root + "/expt.toml") {
            files.append(("expt.toml", try templates.text("expt.toml"), false))
        }
        for hook in hookNames where !fm.fileExists(atPath: ws.root + "/.githooks/" + hook) {
            files.append((".githooks/" + hook, try templates.text("hooks/" + hook), true))
        }
        var created = files.map(\.path)
        if dryRun {
            if !fm.fileExists(atPath: ws.root + "/docs") { created.append("docs/") }
            let excluded = !((try? String(contentsOfFile: ws.commonDir + "/info/exclude", encoding: .utf8)) ?? "")
                .split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == ".worktrees/" }
            let changed = try ws.repo.configString("core.hooksPath") != ".githooks"
            return InitResult(root: ws.root, created: created, excluded: excluded, hooksPath: ".githooks",
                              hooksPathChanged: changed, commit: nil)
        }
        if !fm.fileExists(atPath: ws.root + "/docs") {
            try fm.createDirectory(atPath: ws.root + "/docs", withIntermediateDirectories: true)
            created.append("docs/")
        }
        var commitID: String?
        if !files.isEmpty {
            if commit {
                let sig = ws.repo.defaultSignature(time: now)
                commitID = try ws.repo.commitFiles(files, message: "Set up expt\n\nAdds expt.toml and the branch-doc hooks.\n",
                                                   signature: sig).hex
            } else {
                for f in files {
                    let url = URL(fileURLWithPath: ws.root).appendingPathComponent(f.path)
                    try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try f.contents.write(to: url, atomically: true, encoding: .utf8)
                    if f.executable { try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
                }
            }
        }
        let excluded = try ws.repo.ensureExcluded(".worktrees/")
        let current = try ws.repo.configString("core.hooksPath")
        let changed = current != ".githooks"
        if changed { try ws.repo.setConfigString("core.hooksPath", ".githooks") }
        return InitResult(root: ws.root, created: created, excluded: excluded, hooksPath: ".githooks",
                          hooksPathChanged: changed, commit: commitID)
    }
}
