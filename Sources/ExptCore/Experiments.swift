import Foundation
import ExptModel
import GitKit

/// What `expt new` made.
public struct NewExperiment: Codable, Sendable {
    public var branch: String
    public var base: String
    public var worktree: String
    public var doc: String
    public var commit: String
}

/// One row of `expt list`.
public struct ExperimentInfo: Codable, Sendable {
    public var branch: String
    public var base: String?
    public var worktree: String
    public var worktreeExists: Bool
    public var head: String
    public var ahead: Int?
    public var behind: Int?
    public var lastCommitDate: Date
    public var doc: Bool
}

/// Branch/worktree lifecycle of experiments. Each operation either completes or leaves the
/// repository as it was.
public struct Experiments {
    public let ws: Workspace
    public var now: @Sendable () -> Date

    public init(_ ws: Workspace, now: @escaping @Sendable () -> Date = { Date() }) {
        self.ws = ws; self.now = now
    }

    /// Creates branch + worktree + committed doc. On any failure, undoes what it made.
    public func create(_ branch: String, from: String?, dryRun: Bool = false) throws -> NewExperiment {
        try ws.requireBornHead()
        // Before any lookup: libgit2 cannot even look up an over-long name.
        try ws.validateNew(branch)
        try ws.requireWorktreesDirectory()
        if try ws.repo.branchExists(branch) {
            throw ExptError(.conflict, "a branch named '\(branch)' already exists",
                            hint: "choose another name, or use `expt worktree \(branch)` to get its worktree")
        }
        let path = ws.worktreePath(for: branch)
        if FileManager.default.fileExists(atPath: path) {
            throw ExptError(.conflict, "the worktree path \(path) already exists",
                            hint: "move it away, or choose another branch name")
        }
        let base = try from ?? ws.defaultBase()
        let start: ObjectID
        do { start = try ws.repo.resolveCommit(base) } catch {
            throw ExptError(.notFound, "cannot start '\(branch)' from '\(base)': no such branch or commit",
                            hint: "pass --from with an existing branch, tag or commit")
        }
        if dryRun {
            return NewExperiment(branch: branch, base: base, worktree: path, doc: ws.docRelativePath(for: branch), commit: start.hex)
        }
        // Worktrees live inside the repository: excluded even where `expt init` never ran
        // (R22), so `git add -A` on the main branch never stages them.
        _ = try ws.repo.ensureExcluded(".worktrees/")
        // The doc commit is made in memory on top of the start point, and the branch created
        // there, so the checkout writes the worktree and its index once.
        let docPath = ws.docRelativePath(for: branch)
        let sig = ws.repo.defaultSignature(time: now())
        var commit = start
        if try !ws.repo.fileExists(docPath, in: start) {
            let doc = try Templates(repoRoot: ws.root).render("branch-doc.md", [
                "branch": branch, "base": base, "date": ISO8601.day(now()),
                "author": "\(sig.name) <\(sig.email)>",
            ])
            commit = try ws.repo.makeCommit(onto: start, adding: [(docPath, doc, false)],
                                            message: "Start experiment \(branch)\n\nExpt-Base: \(base)\n", signature: sig)
        }
        try ws.repo.createBranch(branch, at: commit.hex)
        var worktreeName: String?
        do {
            let wt = try ws.repo.addWorktree(branch: branch, at: path)
            worktreeName = wt.name
            try ws.setBase(base, of: branch)
            return NewExperiment(branch: branch, base: base, worktree: path, doc: docPath, commit: commit.hex)
        } catch {
            if let n = worktreeName { try? ws.repo.removeWorktree(named: n) }
            try? ws.repo.deleteBranch(branch)
            throw error
        }
    }

    /// Every experiment with its worktree, head, distance from its base and doc presence.
    public func list() throws -> [ExperimentInfo] {
        let worktrees = Dictionary(try ws.repo.worktrees().compactMap { w in w.branch.map { ($0, w) } },
                                   uniquingKeysWith: { a, _ in a })
        let bases = try ws.experimentBases()
        var baseTips: [String: ObjectID] = [:]
        return try ws.repo.localBranches().filter { bases[$0] != nil }.map { branch in
            let head = try ws.repo.branchTip(branch)
            let info = try ws.repo.commit(head)
            let base = bases[branch]
            var ahead: Int?, behind: Int?
            if let base, let baseTip = baseTips[base] ?? (try? ws.repo.resolveCommit(base)) {
                baseTips[base] = baseTip
                (ahead, behind) = try ws.repo.aheadBehind(head, baseTip)
            }
            let wt = worktrees[branch]
            return ExperimentInfo(branch: branch, base: base, worktree: wt?.path ?? ws.worktreePath(for: branch),
                                  worktreeExists: wt?.exists ?? false, head: head.hex, ahead: ahead, behind: behind,
                                  lastCommitDate: info.date,
                                  doc: try ws.repo.fileExists(ws.docRelativePath(for: branch), in: head))
        }
    }

    /// The branch's worktree path, recreating it (after pruning a stale registration) when it
    /// was removed. Returns whether it had to be recreated.
    public func ensureWorktree(_ branch: String) throws -> (path: String, recreated: Bool) {
        try ws.requireBranch(branch)
        if let wt = try ws.repo.worktree(forBranch: branch) {
            if wt.exists { return (wt.path, false) }
            if let name = wt.name { try ws.repo.pruneWorktree(named: name) }
        }
        let path = ws.worktreePath(for: branch)
        try ws.requireWorktreesDirectory()
        if FileManager.default.fileExists(atPath: path) {
            throw ExptError(.conflict, "cannot recreate the worktree of '\(branch)': \(path) exists but is not its worktree",
                            hint: "move \(path) away and run the command again")
        }
        try ws.repo.addWorktree(branch: branch, at: path)
        return (path, true)
    }

    /// The existing worktree of a branch, or a clear error.
    public func existingWorktree(_ branch: String) throws -> String {
        try ws.requireBranch(branch)
        guard let wt = try ws.repo.worktree(forBranch: branch), wt.exists else {
            throw ExptError(.notFound, "'\(branch)' has no worktree",
                            hint: "`expt worktree \(branch)` recreates it")
        }
        return wt.path
    }
}
