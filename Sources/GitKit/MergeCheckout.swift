import CLibGit2
import Foundation

/// Writing a merge into the worktree that has the target checked out, so that an interruption
/// or an error never strands the merge's files there (issue 10, R10). Only the paths the merge
/// changes are touched; each is first classified, so nothing is written unless every one is
/// free (absent, as the target has it, or already what the merge writes: a leftover of an
/// earlier attempt, which is then simply finished). A failed write is rolled back.
struct MergeWrite {
    var path: String
    /// The blob the target has there (nil: the merge adds the path).
    var before: ObjectID?
    /// The blob the merge writes (nil: the merge deletes the path).
    var after: ObjectID?
}

extension Repository {
    /// What turning tree `oldTree` into tree `newTree` writes, path by path.
    func mergeWrites(from oldTree: ObjectID, to newTree: ObjectID) throws -> [MergeWrite] {
        try treeDeltas(from: oldTree, to: newTree) { d in
            guard let p = d.new_file.path ?? d.old_file.path else { return nil }
            let added = d.status == GIT_DELTA_ADDED, deleted = d.status == GIT_DELTA_DELETED
            return MergeWrite(path: String(cString: p), before: added ? nil : ObjectID(d.old_file.id),
                              after: deleted ? nil : ObjectID(d.new_file.id))
        }
    }

    /// The blob id a working-tree file would have (nil when absent), as `git hash-object`.
    func workdirBlob(_ path: String) -> ObjectID? {
        let full = workdir + "/" + path
        var st = stat()
        guard lstat(full, &st) == 0, st.st_mode & S_IFMT != S_IFDIR else { return nil }
        var oid = git_oid()
        guard git_repository_hashfile(&oid, pointer, full, GIT_OBJECT_BLOB, nil) == 0 else { git_error_clear(); return nil }
        return ObjectID(oid)
    }

    /// `<git dir>/EXPT_MERGE` ("<target tip> <merged tree>"): written before the merge's files,
    /// removed once the ref moved or the files were rolled back. Found by a rerun of the same
    /// merge, it says that odd content at the merge's paths (a file cut short by a kill) is the
    /// merge's own.
    var mergeMarker: String { gitDir + "/EXPT_MERGE" }

    func interruptedMerge(ours: ObjectID, tree: ObjectID) -> Bool {
        (try? String(contentsOfFile: mergeMarker, encoding: .utf8)) == "\(ours.hex) \(tree.hex)\n"
    }

    func markMerge(ours: ObjectID, tree: ObjectID) throws {
        do { try "\(ours.hex) \(tree.hex)\n".write(toFile: mergeMarker, atomically: true, encoding: .utf8) } catch {
            throw GitError(operation: "merge", subject: workdir, code: -1, message: "cannot write \(mergeMarker): \(error.localizedDescription)")
        }
    }

    /// Moves what an interrupted attempt half wrote at `paths` into `<git dir>/expt-merge-aside-<time>/`
    /// (never deleted): the merge then writes them whole.
    func setAside(_ paths: [String]) throws {
        let aside = gitDir + "/expt-merge-aside-\(Int(Date().timeIntervalSince1970))"
        for p in paths {
            let to = aside + "/" + p
            try FileManager.default.createDirectory(atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard rename(workdir + "/" + p, to) == 0 else {
                throw GitError(operation: "merge", subject: p, code: -1, message: "cannot move an interrupted merge's leftover aside: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Paths where this worktree holds something the merge would overwrite and that is neither
    /// the target's version nor the merge's own: a person's file, never touched.
    func mergeBlockers(_ writes: [MergeWrite]) -> [String] {
        writes.filter { w in
            let here = workdirBlob(w.path)
            return here != nil && here != w.before && here != w.after
        }.map(\.path)
    }

    /// True when every uncommitted change in this worktree is one the merge itself writes, in
    /// its final form: what an interrupted earlier attempt left (R10).
    /// With `resuming` (the marker of this very merge is there), any content at its paths is.
    func isLeftoverOfMerge(_ changes: [StatusEntry], _ writes: [MergeWrite], resuming: Bool) -> Bool {
        let byPath = Dictionary(writes.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        return changes.allSatisfy { c in
            guard let w = byPath[c.path] else { return false }
            return resuming || workdirBlob(c.path) == w.after
        }
    }

    /// Writes the merge's paths (files and index) from `merged`; on failure puts them back as
    /// `ours` had them and removes what it added, then rethrows.
    func checkoutMerge(_ merged: ObjectID, over ours: ObjectID, writes: [MergeWrite]) throws {
        guard !writes.isEmpty else { return }
        do {
            try forceCheckout(merged, paths: writes.map(\.path))
        } catch {
            rollBack(to: ours, writes)
            throw error
        }
    }

    /// Puts the merge's paths back as `ours` has them: what it added (and wrote whole) goes.
    func rollBack(to ours: ObjectID, _ writes: [MergeWrite]) {
        try? forceCheckout(ours, paths: writes.map(\.path))
        for w in writes where w.before == nil && workdirBlob(w.path) != nil && workdirBlob(w.path) == w.after {
            unlink(workdir + "/" + w.path)
        }
        unlink(mergeMarker)
    }

    /// Checks out exactly `paths` of a commit, overwriting them: callers have checked that
    /// nothing of a person's is at those paths.
    private func forceCheckout(_ commitID: ObjectID, paths: [String]) throws {
        var opts = git_checkout_options()
        try check(git_checkout_options_init(&opts, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "check out", commitID.short)
        opts.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH.rawValue
        var raw = commitID.raw
        var obj: OpaquePointer?
        try check(git_object_lookup(&obj, pointer, &raw, GIT_OBJECT_COMMIT), "check out", commitID.short)
        defer { git_object_free(obj) }
        let cStrings = paths.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers: [UnsafeMutablePointer<CChar>?] = cStrings
        try pointers.withUnsafeMutableBufferPointer { buf in
            opts.paths = git_strarray(strings: buf.baseAddress, count: buf.count)
            try check(git_checkout_tree(pointer, obj, &opts), "check out merge", workdir)
        }
    }
}
