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
    /// (main or linked), that worktree must be clean and is checked out at the merge; the branch
    /// ref is moved with compare-and-swap through that worktree's handle.
    public func merge(_ source: String, into target: String, message: String? = nil,
                      signature: Signature? = nil, dryRun: Bool = false) throws -> MergeOutcome {
        let theirs = try branchTip(source)
        let ours = try branchTip(target)
        if try isAncestor(theirs, of: ours) { return .upToDate }

        // The worktree that has `target` checked out, opened as its own handle.
        var targetRepo: Repository? = nil
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
            let dirty = try r.status(includeUntracked: false)
            if !dirty.isEmpty {
                throw GitError(operation: "merge", subject: target, code: -1, message:
                    "its worktree \(wt.path) has uncommitted changes (\(dirty.prefix(5).map(\.path).joined(separator: ", "))); commit or stash them first",
                               reason: .dirtyWorktree)
            }
            targetRepo = r
        }

        let mergedTree = try mergeTrees(ours: ours, theirs: theirs, source: source, target: target)
        if dryRun { return .wouldMerge }
        let text = message ?? "Merge branch '\(source)' into \(target)\n"
        let commitID = try createCommit(tree: mergedTree, parents: [ours, theirs], message: text,
                                        signature: signature ?? defaultSignature(), updateRef: nil)
        if let r = targetRepo {
            try r.checkoutTree(of: commitID)
            try r.moveBranch(target, from: ours, to: commitID, reflog: "merge \(source): Merge made by expt")
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

    /// Safe checkout of a commit's tree into this worktree (updates files and index; refuses to
    /// overwrite local modifications).
    func checkoutTree(of commitID: ObjectID) throws {
        var opts = git_checkout_options()
        try check(git_checkout_options_init(&opts, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "check out", commitID.short)
        opts.checkout_strategy = GIT_CHECKOUT_SAFE.rawValue
        var raw = commitID.raw
        var obj: OpaquePointer?
        try check(git_object_lookup(&obj, pointer, &raw, GIT_OBJECT_COMMIT), "check out", commitID.short)
        defer { git_object_free(obj) }
        try check(git_checkout_tree(pointer, obj, &opts), "check out merge", workdir)
    }
}
