import Foundation
import ExptModel
import GitKit

/// What a push would publish, scanned for secrets before expt pushes (issue 10, class 1): the
/// messages of the commits the remote does not have yet, and the files those commits changed,
/// as they are at the tip. A line the Redactor would mask stops the push, naming the file (or
/// commit) and line. History is never rewritten by expt, so the hint says what the user can do.
enum PushScan {
    /// How many unpublished commits are read (a branch pushed for the first time may be long).
    static let maxCommits = 500
    /// Files larger than this, or with a NUL byte, are not read.
    static let maxFile = 1 << 20
    /// `EXPT_PUSH_ALLOW_SECRETS=1` pushes anyway, after a person has checked what was flagged.
    static let overrideVariable = "EXPT_PUSH_ALLOW_SECRETS"

    static func refuseSecrets(_ repo: Repository, branch: String, remote: String, base: String?,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if environment[overrideVariable] == "1" { return }
        let tip = try repo.branchTip(branch)
        // What the remote has: its tracking ref of the branch, else the base branch.
        let published = (try? repo.resolveCommit("refs/remotes/\(remote)/\(branch)"))
            ?? base.flatMap { try? repo.branchTip($0) }
        if let published, published == tip { return }
        let commits = try repo.log(from: tip, hiding: published, limit: maxCommits)
        for c in commits {
            if let n = firstSecretLine(c.message) {
                throw refusal(branch, "the message of commit \(c.id.short) (line \(n))")
            }
        }
        // Every unpublished commit's changed files as that commit has them: a secret added and
        // removed again is still in the history the push publishes. Oldest first.
        var seen: Set<String> = []
        for c in commits.reversed() {
            guard let parent = c.parents.first else { continue }
            for path in try repo.changedPaths(from: parent, to: c.id).sorted() {
                guard let text = try repo.fileText(path, in: c.id), text.utf8.count <= maxFile, !text.contains("\0"),
                      seen.insert(path + "\u{0}" + text).inserted else { continue }
                if let n = firstSecretLine(text) {
                    throw refusal(branch, c.id == tip ? "\(path):\(n)" : "\(path):\(n) in commit \(c.id.short)")
                }
            }
        }
    }

    static func firstSecretLine(_ text: String) -> Int? {
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where Redactor.redact(String(line)) != String(line) {
            return i + 1
        }
        return nil
    }

    static func refusal(_ branch: String, _ place: String) -> ExptError {
        ExptError(.invalidInput, "refusing to push \(branch): \(place) looks like a secret",
                  hint: "remove it and commit again; if an earlier commit holds it, rewrite that commit yourself (expt never rewrites history) and rotate the secret. If it is not a secret, push with \(overrideVariable)=1")
    }
}
