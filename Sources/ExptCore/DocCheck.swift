import Foundation
import ExptModel
import GitKit

/// The outcome of `expt doc check`.
public struct DocCheckResult: Codable, Sendable {
    public var branch: String?
    public var doc: String?
    /// Why nothing was checked (not an experiment branch), if so.
    public var skipped: String?
    public var problems: [DocProblem]
    public var ok: Bool { problems.isEmpty }
}

/// Runs the branch-doc rules where git's hooks run them, and by hand.
public struct DocCheck {
    public let ws: Workspace
    public init(_ ws: Workspace) { self.ws = ws }

    /// pre-commit: the staged doc of the branch being committed, against HEAD's.
    /// commit-msg: additionally, a message with an `Expt-Fix` trailer must add a Fixes entry.
    public func hook(_ hook: String, in worktree: String, messageFile: String?) throws -> DocCheckResult {
        let repo = try Repository.open(at: worktree)
        guard let branch = try repo.currentBranch(), try ws.base(of: branch) != nil else {
            return DocCheckResult(branch: try? repo.currentBranch(), doc: nil, skipped: "not an experiment branch", problems: [])
        }
        let path = ws.docRelativePath(for: branch)
        let old = try repo.headCommit().flatMap { try repo.fileText(path, in: $0) }.map(BranchDoc.init)
        // A relative GIT_INDEX_FILE is relative to the worktree root, where git runs hooks.
        let indexFile = ProcessInfo.processInfo.environment["GIT_INDEX_FILE"].map {
            $0.hasPrefix("/") ? $0 : repo.workdir + "/" + $0
        }
        guard let staged = try repo.stagedFileText(path, indexFile: indexFile) else {
            return DocCheckResult(branch: branch, doc: path, skipped: nil, problems: [DocProblem(
                .missingDoc, line: nil, message: "the experiment's doc \(path) is missing from this commit",
                fix: "restore it (git checkout HEAD -- \(path)) or recreate it from templates/branch-doc.md")])
        }
        let new = BranchDoc(staged)
        var problems = DocRules.check(new, against: old)
        if hook == "commit-msg", let messageFile {
            let message = (try? String(contentsOfFile: messageFile, encoding: .utf8)) ?? ""
            let fixTrailer = Repository.trailers(of: message).contains { $0.key == "Expt-Fix" }
            if fixTrailer && new.fixes.count <= (old?.fixes.count ?? 0) {
                problems.append(DocProblem(.trailerWithoutEntry, line: nil, message: "the commit message has an Expt-Fix trailer but \(path) gains no Fixes entry",
                                           fix: "add a `### Fix N — date — category` entry to '## Fixes' describing the fix"))
            }
        }
        return DocCheckResult(branch: branch, doc: path, skipped: nil, problems: problems)
    }

    /// By hand: the worktree's copy of the doc (or the committed one when there is no worktree)
    /// against the branch tip, and every commit of the branch since its base against its parent.
    public func branch(_ branch: String) throws -> DocCheckResult {
        try ws.requireBranch(branch)
        guard try ws.base(of: branch) != nil else {
            return DocCheckResult(branch: branch, doc: nil, skipped: "not an experiment branch", problems: [])
        }
        let path = ws.docRelativePath(for: branch)
        let tip = try ws.repo.branchTip(branch)
        let committed = try ws.repo.fileText(path, in: tip)
        var current = committed
        if let wt = try ws.repo.worktree(forBranch: branch), wt.exists {
            // A doc that is a symlink would commit a path, not the doc (R24).
            let file = wt.path + "/" + path
            if (try? FileManager.default.attributesOfItem(atPath: file))?[.type] as? FileAttributeType == .typeSymbolicLink {
                return DocCheckResult(branch: branch, doc: path, skipped: nil, problems: [DocProblem(
                    .notAFile, line: nil, message: "the doc \(path) is a symbolic link, not a file: git would commit the link, not the doc",
                    fix: "replace it with a regular file (copy the text, remove the link) and commit it")])
            }
            if let text = try? String(contentsOfFile: file, encoding: .utf8) { current = text }
        }
        guard let current else {
            return DocCheckResult(branch: branch, doc: path, skipped: nil, problems: [DocProblem(
                .missingDoc, line: nil, message: "\(branch) has no doc at \(path)",
                fix: "create it from templates/branch-doc.md and commit it (`expt checkpoint \(branch) -m 'add doc'`)")])
        }
        var problems = DocRules.check(BranchDoc(current), against: committed.map(BranchDoc.init))
        // History: no commit on the branch may have edited a past entry.
        let hide = try ws.base(of: branch).flatMap { try? ws.repo.resolveCommit($0) }
        for c in try ws.repo.log(from: tip, hiding: hide, limit: 500) where c.parents.count >= 1 {
            guard let after = try ws.repo.fileText(path, in: c.id),
                  let before = try ws.repo.fileText(path, in: c.parents[0]) else { continue }
            for p in DocRules.check(BranchDoc(after), against: BranchDoc(before), requiredSections: [])
            where p.rewritesHistory {
                problems.append(DocProblem(p.rule, line: p.line, message: "commit \(c.id.short) (\(c.summary)): \(p.message)", fix: p.fix))
            }
        }
        return DocCheckResult(branch: branch, doc: path, skipped: nil, problems: problems)
    }
}
