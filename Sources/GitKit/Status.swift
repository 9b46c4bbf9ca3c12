import CLibGit2

/// One changed path in a worktree.
public struct StatusEntry: Equatable, Sendable {
    public enum Change: String, Sendable { case added, modified, deleted, renamed, typeChange, untracked, conflicted }
    public var path: String
    public var change: Change
    /// True when the change is only in the working tree (not staged).
    public var inWorkdir: Bool
}

extension Repository {
    /// The changes in this worktree against HEAD (staged, unstaged and untracked; ignored
    /// files excluded, as `git status` does).
    /// - Parameter refreshIndex: write refreshed stat data back to the index (as `git status`
    ///   does), so files left "racily clean" by a checkout are not re-hashed on every later scan.
    /// - Parameter workdirOnly: compare the working tree with the index only, skipping the
    ///   HEAD-to-index diff (a commit written from the index includes staged changes anyway).
    public func status(includeUntracked: Bool = true, refreshIndex: Bool = false, workdirOnly: Bool = false) throws -> [StatusEntry] {
        var opts = git_status_options()
        try check(git_status_options_init(&opts, UInt32(GIT_STATUS_OPTIONS_VERSION)), "read status", workdir)
        opts.show = workdirOnly ? GIT_STATUS_SHOW_WORKDIR_ONLY : GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        var flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        if includeUntracked {
            flags |= GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
        }
        if refreshIndex { flags |= GIT_STATUS_OPT_UPDATE_INDEX.rawValue }
        opts.flags = flags
        var list: OpaquePointer?
        try check(git_status_list_new(&list, pointer, &opts), "read status", workdir)
        defer { git_status_list_free(list) }
        var entries: [StatusEntry] = []
        for i in 0..<git_status_list_entrycount(list) {
            guard let e = git_status_byindex(list, i)?.pointee else { continue }
            let s = e.status.rawValue
            let delta = e.index_to_workdir ?? e.head_to_index
            guard let d = delta?.pointee else { continue }
            let pathPtr = d.new_file.path ?? d.old_file.path
            let path = pathPtr.map { String(cString: $0) } ?? ""
            let change: StatusEntry.Change
            if s & GIT_STATUS_CONFLICTED.rawValue != 0 { change = .conflicted }
            else if s & GIT_STATUS_WT_NEW.rawValue != 0 { change = .untracked }
            else if s & (GIT_STATUS_WT_DELETED.rawValue | GIT_STATUS_INDEX_DELETED.rawValue) != 0 { change = .deleted }
            else if s & GIT_STATUS_INDEX_NEW.rawValue != 0 { change = .added }
            else if s & (GIT_STATUS_WT_RENAMED.rawValue | GIT_STATUS_INDEX_RENAMED.rawValue) != 0 { change = .renamed }
            else if s & (GIT_STATUS_WT_TYPECHANGE.rawValue | GIT_STATUS_INDEX_TYPECHANGE.rawValue) != 0 { change = .typeChange }
            else { change = .modified }
            let wt = s & (GIT_STATUS_WT_NEW.rawValue | GIT_STATUS_WT_MODIFIED.rawValue | GIT_STATUS_WT_DELETED.rawValue
                          | GIT_STATUS_WT_RENAMED.rawValue | GIT_STATUS_WT_TYPECHANGE.rawValue) != 0
            entries.append(StatusEntry(path: path, change: change, inWorkdir: wt))
        }
        return entries
    }
}

extension Repository {
    /// The staged (index) text of a path in this worktree, nil if it is not in the index.
    /// - Parameter indexFile: an index file to read instead of the worktree's (git passes hooks
    ///   a temporary one in `GIT_INDEX_FILE` for `commit -a` and `commit <paths>`).
    public func stagedFileText(_ path: String, indexFile: String? = nil) throws -> String? {
        var index: OpaquePointer?
        if let indexFile {
            try check(git_index_open(&index, indexFile), "open index", indexFile)
        } else {
            try check(git_repository_index(&index, pointer), "open index", workdir)
        }
        defer { git_index_free(index) }
        guard let entry = git_index_get_bypath(index, path, 0) else { return nil }
        var id = entry.pointee.id
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, pointer, &id), "read staged file", path)
        defer { git_blob_free(blob) }
        guard let raw = git_blob_rawcontent(blob) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: raw, count: Int(git_blob_rawsize(blob))), as: UTF8.self)
    }
}
