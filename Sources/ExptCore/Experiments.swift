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
    /// Set when this `new` finished an interrupted one: where the incomplete worktree went.
    public var finishedInterrupted: Bool = false
    public var movedAside: String?
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
        if try ws.repo.branchExists(branch), let recorded = try ws.interruptedCreation(of: branch) {
            return try finishInterrupted(branch, base: recorded, dryRun: dryRun)
        }
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
        try ws.markCreating(branch, base: base)
        try ws.repo.createBranch(branch, at: commit.hex)
        FaultInjection.point("new-after-branch")
        var worktreeName: String?
        do {
            let wt = try ws.repo.addWorktree(branch: branch, at: path)
            worktreeName = wt.name
            FaultInjection.point("new-after-worktree")
            try ws.setBase(base, of: branch)
            try ws.clearCreating(branch)
            return NewExperiment(branch: branch, base: base, worktree: path, doc: docPath, commit: commit.hex)
        } catch {
            if let n = worktreeName { try? ws.repo.removeWorktree(named: n) }
            try? ws.repo.deleteBranch(branch)
            try? ws.clearCreating(branch)
            throw error
        }
    }

    /// Finishes a `new` that was killed after it created the branch: the worktree it may have
    /// half checked out is moved aside (never deleted) and checked out afresh, then the base
    /// is recorded. The branch, with its doc commit, is kept as it is.
    func finishInterrupted(_ branch: String, base: String, dryRun: Bool) throws -> NewExperiment {
        let path = ws.worktreePath(for: branch)
        let head = try ws.repo.branchTip(branch)
        let docPath = ws.docRelativePath(for: branch)
        let registered = try ws.repo.worktree(forBranch: branch)
        let existing = [registered?.path, path].compactMap { $0 }.first { FileManager.default.fileExists(atPath: $0) }
        let aside = existing.map { _ in interruptedPlace(branch) }
        if dryRun {
            return NewExperiment(branch: branch, base: base, worktree: path, doc: docPath, commit: head.hex,
                                 finishedInterrupted: true, movedAside: aside)
        }
        if let existing, let aside { try moveAside(existing, to: aside, rerun: "expt new \(branch)") }
        if let name = registered?.name { _ = try ws.repo.pruneWorktree(named: name) }
        try ws.repo.addWorktree(branch: branch, at: path)
        try ws.setBase(base, of: branch)
        try ws.clearCreating(branch)
        return NewExperiment(branch: branch, base: base, worktree: path, doc: docPath, commit: head.hex,
                             finishedInterrupted: true, movedAside: aside)
    }

    /// Every experiment with its worktree, head, distance from its base and doc presence.
    /// What comes from objects is remembered by the ids it came from (ListMemo).
    public func list() throws -> [ExperimentInfo] {
        let worktrees = Dictionary(try ws.repo.worktrees().compactMap { w in w.branch.map { ($0, w) } },
                                   uniquingKeysWith: { a, _ in a })
        let bases = try ws.experimentBases()
        let tips = try ws.repo.localBranchTips()
        let tipOf = Dictionary(tips.map { ($0.name, $0.tip) }, uniquingKeysWith: { a, _ in a })
        var baseTips: [String: ObjectID] = [:]
        var memo = ListMemo(stateDir: ws.stateDir)
        var asked = Set<ListMemo.Key>()
        let rows = try tips.filter { bases[$0.name] != nil }.map { branch, head in
            let base = bases[branch]
            // A base that is a branch is taken from the refs, not parsed: libgit2 keeps a parsed
            // commit in its cache in place of the raw object that ahead/behind reads, so a parsed
            // base was re-read from disk for each of 500 experiments. For the same reason the
            // walk comes before the head's commit is read.
            var baseTip: ObjectID?
            if let base, let tip = baseTips[base] ?? tipOf[base] ?? (try? ws.repo.resolveCommit(base)) {
                baseTips[base] = tip
                baseTip = tip
            }
            let key = ListMemo.Key(branch: branch, head: head, baseTip: baseTip)
            asked.insert(key)
            let row = try memo.row(key) {
                let counts = try baseTip.map { try ws.repo.aheadBehind(head, $0) }
                return ListMemo.Row(ahead: counts?.ahead, behind: counts?.behind, commitTime: try ws.repo.commitTime(head),
                                    doc: try ws.repo.fileExists(ws.docRelativePath(for: branch), in: head))
            }
            let wt = worktrees[branch]
            return ExperimentInfo(branch: branch, base: base, worktree: wt?.path ?? ws.worktreePath(for: branch),
                                  worktreeExists: wt?.exists ?? false, head: head.hex, ahead: row.ahead, behind: row.behind,
                                  lastCommitDate: Date(timeIntervalSince1970: TimeInterval(row.commitTime)), doc: row.doc)
        }
        memo.save(keeping: asked)
        return rows
    }

    /// The branch's worktree path, recreating it (after pruning a stale registration) when it
    /// was removed. Returns whether it had to be recreated.
    public func ensureWorktree(_ branch: String) throws -> (path: String, recreated: Bool) {
        try ws.requireBranch(branch)
        try ws.requireComplete(branch)
        if let wt = try ws.repo.worktree(forBranch: branch) {
            if wt.exists, !Self.checkoutWasInterrupted(wt.path) { return (wt.path, false) }
            if wt.exists {
                // A checkout killed half way (no index yet): moved aside, checked out afresh.
                try moveAside(wt.path, to: interruptedPlace(branch), rerun: "expt worktree \(branch)")
            }
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

    /// Where an incomplete worktree of `branch` is kept: `.worktrees/.interrupted/<branch>-<time>`.
    func interruptedPlace(_ branch: String) -> String {
        ws.root + "/.worktrees/.interrupted/" + branch.replacingOccurrences(of: "/", with: "-") + "-"
            + ISO8601.timestamp(now()).replacingOccurrences(of: ":", with: "")
    }

    /// Moves an incomplete worktree aside (research data is never deleted).
    func moveAside(_ from: String, to aside: String, rerun: String) throws {
        try FileManager.default.createDirectory(atPath: (aside as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard rename(from, aside) == 0 else {
            throw ExptError(.failure, "cannot move the incomplete worktree \(from) aside to \(aside): \(String(cString: strerror(errno)))",
                            hint: "move it away by hand, then run `\(rerun)` again")
        }
    }

    /// A linked worktree whose checkout never finished: libgit2 writes its index last, so a
    /// worktree without one is missing files that a commit would record as deleted (R1).
    static func checkoutWasInterrupted(_ path: String) -> Bool {
        guard let r = try? Repository.open(at: path), r.isLinkedWorktree else { return false }
        return !FileManager.default.fileExists(atPath: r.gitDir + "/index")
    }

    /// The existing worktree of a branch, or a clear error.
    public func existingWorktree(_ branch: String) throws -> String {
        try ws.requireBranch(branch)
        try ws.requireComplete(branch)
        guard let wt = try ws.repo.worktree(forBranch: branch), wt.exists else {
            throw ExptError(.notFound, "'\(branch)' has no worktree",
                            hint: "`expt worktree \(branch)` recreates it")
        }
        if Self.checkoutWasInterrupted(wt.path) {
            throw ExptError(.conflict, "the worktree of '\(branch)' at \(wt.path) has no index: its checkout was interrupted, so files are missing from it (a commit would record them as deleted)",
                            hint: "`expt worktree \(branch)` moves it aside and checks it out afresh")
        }
        return wt.path
    }
}
