import CLibGit2
import Foundation

/// What `merge` did.
public enum MergeOutcome: Equatable, Sendable {
    /// A merge commit with two parents was made and the target branch moved to it.
    case merged(ObjectID)
    /// The target already contains the source: nothing to do.
    case upToDate
    /// Dry run: a merge commit would be made; nothing was written.
    case wouldMerge
}

/// A merge refused because of conflicts. Nothing on disk was touched.
public struct MergeConflict: Error, CustomStringConvertible, Sendable {
    public var source: String
    public var target: String
    public var paths: [String]
    public var description: String {
        "merging '\(source)' into '\(target)' would conflict in \(paths.count) path(s):\n"
            + paths.map { "  \($0)" }.joined(separator: "\n")
    }
}

extension Repository {
    /// Merges branch `source` into branch `target` with a merge commit (two parents), even when a
    /// fast-forward is possible; never squashes or rebases. The merge is computed in memory
    /// (libgit2 `examples/merge.c` order: state check → analysis → merge → conflict check → tree →
    /// two-parent commit), so a conflict touches nothing. If `target` is checked out in a worktree
    /// (main or linked), that worktree must be clean (or hold only an interrupted attempt's
    /// leftovers of this merge) and gets the merge's paths written, then the branch ref is moved
    /// with compare-and-swap through that worktree's handle (MergeCheckout.swift).
    public func merge(_ source: String, into target: String, message: String? = nil,
                      signature: Signature? = nil, dryRun: Bool = false) throws -> MergeOutcome {
        let theirs = try branchTip(source)
        let ours = try branchTip(target)
        if try isAncestor(theirs, of: ours) { return .upToDate }

        // In memory: a conflict touches nothing.
        let mergedTree = try mergeTrees(ours: ours, theirs: theirs, source: source, target: target)
        // The worktree that has `target` checked out, opened as its own handle.
        var targetRepo: Repository? = nil
        var writes: [MergeWrite] = []
        var resuming = false
        if let wt = try worktree(forBranch: target) {
            guard wt.exists else {
                throw GitError(operation: "merge", subject: target, code: -1,
                               message: "its worktree \(wt.path) is missing; run `git worktree prune` or recreate it",
                               reason: .missingWorktree)
            }
            let r = try Repository.open(at: wt.path)
            if let op = r.pendingOperation {
                throw GitError(operation: "merge", subject: target, code: -1,
                               message: "an operation is in progress in \(wt.path) (\(op)); finish or abort it first",
                               reason: .operationInProgress)
            }
            writes = try r.mergeWrites(from: try treeOf(ours), to: mergedTree)
            resuming = r.interruptedMerge(ours: ours, tree: mergedTree)
            let dirty = try r.status(includeUntracked: false)
            if !dirty.isEmpty, !r.isLeftoverOfMerge(dirty, writes, resuming: resuming) {
                throw GitError(operation: "merge", subject: target, code: -1, message:
                    "its worktree \(wt.path) has uncommitted changes (\(dirty.prefix(5).map(\.path).joined(separator: ", "))); commit or stash them first",
                               reason: .dirtyWorktree)
            }
            let blockers = r.mergeBlockers(writes)
            if !blockers.isEmpty, !resuming {
                throw GitError(operation: "merge", subject: target, code: -1, message:
                    "files in its worktree \(r.workdir) are in the way of the merge and differ from what it writes (\(blockers.prefix(5).joined(separator: ", "))\(blockers.count > 5 ? ", …" : "")); move them away first",
                               reason: .dirtyWorktree)
            }
            targetRepo = r
        }

        if dryRun { return .wouldMerge }
        let text = message ?? "Merge branch '\(source)' into \(target)\n"
        let commitID = try createCommit(tree: mergedTree, parents: [ours, theirs], message: text,
                                        signature: signature ?? defaultSignature(), updateRef: nil)
        if let r = targetRepo {
            // Files first, then the ref: a failed write is rolled back and the ref never moved;
            // a kill in between leaves the marker, by which a rerun knows the files as its own.
            if resuming { try r.setAside(r.mergeBlockers(writes)) }
            try r.markMerge(ours: ours, tree: mergedTree)
            try r.checkoutMerge(commitID, over: ours, writes: writes)
            do {
                try r.moveBranch(target, from: ours, to: commitID, reflog: "merge \(source): Merge made by expt")
            } catch {
                r.rollBack(to: ours, writes)
                throw error
            }
            unlink(r.mergeMarker)
        } else {
            try moveBranch(target, from: ours, to: commitID, reflog: "merge \(source): Merge made by expt")
        }
        return .merged(commitID)
    }

    /// Merges two commits in memory and writes the result tree; throws MergeConflict on conflicts.
    func mergeTrees(ours: ObjectID, theirs: ObjectID, source: String, target: String) throws -> ObjectID {
        var opts = git_merge_options()
        try check(git_merge_options_init(&opts, UInt32(GIT_MERGE_OPTIONS_VERSION)), "merge", source)
        return try withCommit(ours) { ourCommit in
            try withCommit(theirs) { theirCommit in
                var index: OpaquePointer?
                try check(git_merge_commits(&index, pointer, ourCommit, theirCommit, &opts), "merge", source)
                defer { git_index_free(index) }
                if git_index_has_conflicts(index) == 1 {
                    throw MergeConflict(source: source, target: target, paths: try conflictPaths(index!))
                }
                var tree = git_oid()
                try check(git_index_write_tree_to(&tree, index, pointer), "write merged tree", source)
                return ObjectID(tree)
            }
        }
    }

    func conflictPaths(_ index: OpaquePointer) throws -> [String] {
        var iter: OpaquePointer?
        try check(git_index_conflict_iterator_new(&iter, index), "list conflicts")
        defer { git_index_conflict_iterator_free(iter) }
        var paths = Set<String>()
        var a: UnsafePointer<git_index_entry>?, o: UnsafePointer<git_index_entry>?, t: UnsafePointer<git_index_entry>?
        while git_index_conflict_next(&a, &o, &t, iter) == 0 {
            for e in [a, o, t] { if let e, let p = e.pointee.path { paths.insert(String(cString: p)) } }
        }
        git_error_clear()
        return paths.sorted()
    }
}
