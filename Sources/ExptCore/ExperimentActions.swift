import Foundation
import ExptModel
import GitKit

/// What `expt checkpoint` did.
public struct CheckpointResult: Codable, Sendable {
    public var branch: String
    public var committed: Bool
    public var commit: String
    public var changedPaths: Int
}

/// What `expt merge` / `expt sync` did.
public struct MergeResult: Codable, Sendable {
    public var source: String
    public var target: String
    public var merged: Bool
    public var commit: String
    public var upToDate: Bool
    public var dryRun: Bool = false
}

/// What `expt clean` removes (or would remove).
public struct CleanResult: Codable, Sendable {
    public var branch: String
    public var worktree: String
    public var removed: Bool
    public var dryRun: Bool
    public var discardedChanges: [String]
}

extension Experiments {
    /// Commits everything in the branch's worktree. `.nothingToCommit` is not an error.
    /// The message is redacted like a fix commit's: fix-and-relaunch pushes the branch.
    public func checkpoint(_ branch: String, message: String, dryRun: Bool = false) throws -> CheckpointResult {
        let path = try existingWorktree(branch)
        try ws.requireExperiment(branch, for: "checkpoint")
        let r = try Repository.open(at: path)
        let outputs = RunOutputs.of(repoRoot: ws.root, worktree: path)
        if dryRun {
            try SecretFiles.refuseUntracked(in: r)
            let n = try r.status().filter { ($0.inWorkdir || $0.change != .untracked) && !outputs.contains($0.path) }.count
            return CheckpointResult(branch: branch, committed: false, commit: try r.headCommit()?.hex ?? "", changedPaths: n)
        }
        let message = Redactor.redact(message)
        // Concurrent checkpoints of one branch take turns (up to 30 s), and wait for a running
        // fix-and-relaunch, instead of failing on git's index and ref locks (R29).
        let writer = try BranchLock.acquireWriter(dir: ws.stateDir, branch: branch, doing: "fixing or committing", wait: 30)
        defer { writer.release() }
        try StaleLocks.recoverIndexLock(r, now: now())
        // One scan of the worktree serves the secret check and the commit.
        switch try r.commitAll(message: message.hasSuffix("\n") ? message : message + "\n",
                               signature: r.defaultSignature(time: now()), excluding: outputs.contains,
                               checking: { try SecretFiles.refuseUntracked($0, in: r) }) {
        case .committed(let id, let n):
            return CheckpointResult(branch: branch, committed: true, commit: id.hex, changedPaths: n)
        case .nothingToCommit:
            return CheckpointResult(branch: branch, committed: false, commit: try r.headCommit()?.hex ?? "", changedPaths: 0)
        }
    }

    /// Merges `branch` into `into` (default: its recorded base) with a merge commit.
    public func merge(_ branch: String, into: String?, dryRun: Bool = false) throws -> MergeResult {
        try ws.requireBranch(branch)
        guard let target = try into ?? ws.base(of: branch) else {
            throw ExptError(.invalidInput, "'\(branch)' has no recorded base branch to merge into",
                            hint: "pass --into <branch>")
        }
        try ws.requireBranch(target)
        if target == branch { throw ExptError(.invalidInput, "cannot merge '\(branch)' into itself") }
        return try mergeBranches(source: branch, target: target, dryRun: dryRun)
    }

    /// Merges the experiment's base into it (a merge commit on the experiment).
    public func sync(_ branch: String, dryRun: Bool = false) throws -> MergeResult {
        try ws.requireBranch(branch)
        guard let base = try ws.base(of: branch) else {
            throw ExptError(.invalidInput, "'\(branch)' has no recorded base branch to sync from",
                            hint: "it was not created by `expt new`; merge by hand with `expt merge <base> --into \(branch)`")
        }
        try ws.requireBranch(base)
        return try mergeBranches(source: base, target: branch, dryRun: dryRun)
    }

    func mergeBranches(source: String, target: String, dryRun: Bool) throws -> MergeResult {
        // A stale index.lock in the target's worktree (a killed git or expt) would fail the
        // checkout: moved aside like checkpoint does, a live holder named (R10).
        if !dryRun, let wt = try ws.repo.worktree(forBranch: target), wt.exists {
            try StaleLocks.recoverIndexLock(try Repository.open(at: wt.path), now: now())
        }
        do {
            let sig = ws.repo.defaultSignature(time: now())
            switch try ws.repo.merge(source, into: target, signature: sig, dryRun: dryRun) {
            case .wouldMerge:
                return MergeResult(source: source, target: target, merged: false,
                                   commit: try ws.repo.branchTip(target).hex, upToDate: false, dryRun: true)
            case .merged(let id):
                return MergeResult(source: source, target: target, merged: true, commit: id.hex, upToDate: false, dryRun: false)
            case .upToDate:
                return MergeResult(source: source, target: target, merged: false,
                                   commit: try ws.repo.branchTip(target).hex, upToDate: true, dryRun: dryRun)
            }
        } catch let c as MergeConflict {
            throw ExptError(.conflict, c.description + "\nnothing was changed.",
                            hint: "run `expt sync` on the experiment and resolve the conflicts in its worktree, then merge again")
        } catch let g as GitError where g.reason == .dirtyWorktree || g.reason == .operationInProgress {
            throw ExptError(.conflict, g.description)
        } catch let g as GitError where DiskSpace.isFull(at: ws.repo.commonDir) {
            // libgit2 reports a commit object it could not write as "object not found" (R31).
            throw ExptError(.failure, "no space left on device while merging '\(source)' into '\(target)': the filesystem holding \(ws.repo.commonDir) is full; '\(target)' was not moved (\(g.message))",
                            hint: "free disk space there, then run the merge again")
        }
    }

    /// Removes the branch's worktree and keeps the branch. Refuses when the worktree has
    /// uncommitted changes unless `force`.
    public func clean(_ branch: String, dryRun: Bool, force: Bool) throws -> CleanResult {
        try ws.requireBranch(branch)
        guard let wt = try ws.repo.worktree(forBranch: branch), let name = wt.name else {
            if try ws.repo.worktree(forBranch: branch)?.isMain == true {
                throw ExptError(.conflict, "'\(branch)' is checked out in the main worktree, which expt never removes")
            }
            throw ExptError(.notFound, "'\(branch)' has no worktree to clean")
        }
        var changes: [String] = []
        if wt.exists {
            changes = try Repository.open(at: wt.path).status().map { "\($0.change.rawValue) \($0.path)" }
            if !changes.isEmpty && !force {
                throw ExptError(.conflict, "the worktree \(wt.path) has uncommitted changes:\n"
                                + changes.prefix(20).map { "  \($0)" }.joined(separator: "\n"),
                                hint: "commit them with `expt checkpoint \(branch) -m ...`, or pass --force to discard them")
            }
        }
        if !dryRun { try ws.repo.removeWorktree(named: name) }
        return CleanResult(branch: branch, worktree: wt.path, removed: !dryRun, dryRun: dryRun, discardedChanges: changes)
    }
}
