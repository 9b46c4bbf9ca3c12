import CLibGit2
import Foundation

/// A commit as a Swift value, with its message trailers parsed by libgit2.
public struct CommitInfo: Equatable, Sendable {
    public var id: ObjectID
    public var parents: [ObjectID]
    public var summary: String
    public var message: String
    public var authorName: String
    public var authorEmail: String
    public var date: Date
    /// `Key: value` trailers in order (e.g. `Expt-Run: r7`).
    public var trailers: [(key: String, value: String)]

    public static func == (a: CommitInfo, b: CommitInfo) -> Bool { a.id == b.id }
    public func trailer(_ key: String) -> String? { trailers.first { $0.key == key }?.value }
}

extension Repository {
    /// Reads one commit.
    public func commit(_ id: ObjectID) throws -> CommitInfo {
        try withCommit(id) { c in
            let message = git_commit_message(c).map { String(cString: $0) } ?? ""
            let summary = git_commit_summary(c).map { String(cString: $0) } ?? ""
            let author = git_commit_author(c)!.pointee
            var parents: [ObjectID] = []
            for i in 0..<git_commit_parentcount(c) { parents.append(ObjectID(git_commit_parent_id(c, i).pointee)) }
            return CommitInfo(id: id, parents: parents, summary: summary, message: message,
                              authorName: String(cString: author.name), authorEmail: String(cString: author.email),
                              date: Date(timeIntervalSince1970: TimeInterval(git_commit_time(c))),
                              trailers: Repository.trailers(of: message))
        }
    }

    /// A commit's committer time alone (no message or trailers parsed), in seconds since 1970.
    public func commitTime(_ id: ObjectID) throws -> Int64 {
        try withCommit(id) { Int64(git_commit_time($0)) }
    }

    /// Parses `Key: value` trailers with libgit2's parser (same rules as `git interpret-trailers`).
    public static func trailers(of message: String) -> [(key: String, value: String)] {
        LibGit2.ensure()
        var arr = git_message_trailer_array()
        guard git_message_trailers(&arr, message) == 0 else { git_error_clear(); return [] }
        defer { git_message_trailer_array_free(&arr) }
        var out: [(String, String)] = []
        for i in 0..<arr.count {
            let t = arr.trailers[i]
            out.append((String(cString: t.key), String(cString: t.value)))
        }
        return out
    }

    /// Commits reachable from `start` (newest first), stopping before commits reachable from
    /// `hide`, at most `limit`.
    public func log(from start: ObjectID, hiding hide: ObjectID? = nil, limit: Int = .max) throws -> [CommitInfo] {
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, pointer), "walk history")
        defer { git_revwalk_free(walk) }
        try check(git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue), "walk history")
        var s = start.raw
        try check(git_revwalk_push(walk, &s), "walk history", start.short)
        if let hide {
            var h = hide.raw
            try check(git_revwalk_hide(walk, &h), "walk history", hide.short)
        }
        var result: [CommitInfo] = []
        var oid = git_oid()
        while result.count < limit {
            let rc = git_revwalk_next(&oid, walk)
            if rc == GIT_ITEROVER.rawValue { git_error_clear(); break }
            try check(rc, "walk history")
            result.append(try commit(ObjectID(oid)))
        }
        return result
    }

    /// How many commits `local` has that `upstream` lacks, and the reverse.
    public func aheadBehind(_ local: ObjectID, _ upstream: ObjectID) throws -> (ahead: Int, behind: Int) {
        var ahead = 0, behind = 0
        var l = local.raw, u = upstream.raw
        try check(git_graph_ahead_behind(&ahead, &behind, pointer, &l, &u), "count commits ahead/behind", local.short)
        return (ahead, behind)
    }

    /// True when `ancestor` is reachable from `descendant` (or equal).
    public func isAncestor(_ ancestor: ObjectID, of descendant: ObjectID) throws -> Bool {
        if ancestor == descendant { return true }
        var a = ancestor.raw, d = descendant.raw
        return try check(git_graph_descendant_of(pointer, &d, &a), "check ancestry") == 1
    }
}

extension Repository {
    /// Runs `body` with the tree entry at `path` in a commit's tree, or nil when absent.
    func withTreeEntry<T>(_ path: String, in commit: ObjectID, _ body: (OpaquePointer?) throws -> T) throws -> T {
        try withCommit(commit) { c in
            var tree: OpaquePointer?
            try check(git_commit_tree(&tree, c), "read tree", commit.short)
            defer { git_tree_free(tree) }
            var entry: OpaquePointer?
            let rc = git_tree_entry_bypath(&entry, tree, path)
            if rc == GIT_ENOTFOUND.rawValue { git_error_clear(); return try body(nil) }
            try check(rc, "look up path", path)
            defer { git_tree_entry_free(entry) }
            return try body(entry)
        }
    }

    /// True when `path` (relative, '/'-separated) is in the commit's tree.
    public func fileExists(_ path: String, in commit: ObjectID) throws -> Bool {
        try withTreeEntry(path, in: commit) { $0 != nil }
    }

    /// The text of a file as committed, nil if absent.
    public func fileText(_ path: String, in commit: ObjectID) throws -> String? {
        try withTreeEntry(path, in: commit) { entry in
            guard let entry else { return nil }
            var blob: OpaquePointer?
            try check(git_blob_lookup(&blob, pointer, git_tree_entry_id(entry)), "read file", path)
            defer { git_blob_free(blob) }
            guard let raw = git_blob_rawcontent(blob) else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: raw, count: Int(git_blob_rawsize(blob))), as: UTF8.self)
        }
    }
}

extension Repository {
    /// Paths that differ between two commits' trees.
    public func changedPaths(from old: ObjectID, to new: ObjectID) throws -> [String] {
        if old == new { return [] }
        return try treeDeltas(from: try treeOf(old), to: try treeOf(new)) { d in
            (d.new_file.path ?? d.old_file.path).map { String(cString: $0) }
        }
    }

    /// The deltas between two trees, as libgit2's diff sees them (paths valid while `body` runs).
    func treeDeltas<T>(from oldTree: ObjectID, to newTree: ObjectID, _ body: (git_diff_delta) -> T?) throws -> [T] {
        var a: OpaquePointer?, b: OpaquePointer?
        var ra = oldTree.raw, rb = newTree.raw
        try check(git_tree_lookup(&a, pointer, &ra), "read tree", oldTree.short)
        defer { git_tree_free(a) }
        try check(git_tree_lookup(&b, pointer, &rb), "read tree", newTree.short)
        defer { git_tree_free(b) }
        var diff: OpaquePointer?
        try check(git_diff_tree_to_tree(&diff, pointer, a, b, nil), "diff", "\(oldTree.short)..\(newTree.short)")
        defer { git_diff_free(diff) }
        return (0..<git_diff_num_deltas(diff)).compactMap { i in git_diff_get_delta(diff, i).flatMap { body($0.pointee) } }
    }
}

extension Repository {
    /// Paths of the blobs under `dir` (recursively) in a commit's tree, sorted.
    public func files(under dir: String, in commit: ObjectID) throws -> [String] {
        try withCommit(commit) { c in
            var tree: OpaquePointer?
            try check(git_commit_tree(&tree, c), "read tree", commit.short)
            defer { git_tree_free(tree) }
            var entry: OpaquePointer?
            let rc = git_tree_entry_bypath(&entry, tree, dir)
            if rc == GIT_ENOTFOUND.rawValue { git_error_clear(); return [] }
            try check(rc, "look up path", dir)
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else { return [] }
            var sub: OpaquePointer?
            try check(git_tree_lookup(&sub, pointer, git_tree_entry_id(entry)), "read tree", dir)
            defer { git_tree_free(sub) }
            final class Box { var paths: [String] = [] }
            let box = Box()
            let payload = Unmanaged.passRetained(box)
            defer { payload.release() }
            try check(git_tree_walk(sub, GIT_TREEWALK_PRE, { root, entry, payload in
                guard let entry, let payload, git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return 0 }
                let name = String(cString: git_tree_entry_name(entry))
                let prefix = root.map { String(cString: $0) } ?? ""
                Unmanaged<Box>.fromOpaque(payload).takeUnretainedValue().paths.append(prefix + name)
                return 0
            }, payload.toOpaque()), "walk tree", dir)
            return box.paths.map { dir + "/" + $0 }.sorted()
        }
    }
}
