#if canImport(Glibc)
import Glibc
#endif
import CLibGit2
import Foundation

/// Who makes a commit. Defaults to the repository's `user.name`/`user.email`.
public struct Signature: Equatable, Sendable {
    public var name: String
    public var email: String
    public var time: Date
    public init(name: String, email: String, time: Date = Date()) { self.name = name; self.email = email; self.time = time }
}

/// The outcome of `commitAll`.
public enum CommitResult: Equatable, Sendable {
    case committed(ObjectID, changedPaths: Int)
    case nothingToCommit
}

extension Repository {
    /// The configured identity, else the GIT_AUTHOR_* environment, else a neutral `expt` identity
    /// (so a fresh machine without git config can still run the demo).
    public func defaultSignature(time: Date = Date()) -> Signature {
        var sig: UnsafeMutablePointer<git_signature>?
        if git_signature_default(&sig, pointer) == 0, let s = sig {
            defer { git_signature_free(sig) }
            return Signature(name: String(cString: s.pointee.name), email: String(cString: s.pointee.email), time: time)
        }
        git_error_clear()
        let env = ProcessInfo.processInfo.environment
        return Signature(name: env["GIT_AUTHOR_NAME"] ?? "expt", email: env["GIT_AUTHOR_EMAIL"] ?? "expt@localhost", time: time)
    }

    func withSignature<T>(_ s: Signature, _ body: (UnsafeMutablePointer<git_signature>) throws -> T) throws -> T {
        var sig: UnsafeMutablePointer<git_signature>?
        let offset = Int32(TimeZone.current.secondsFromGMT(for: s.time) / 60)
        try check(git_signature_new(&sig, s.name, s.email, git_time_t(s.time.timeIntervalSince1970), offset),
                  "make signature", s.email)
        defer { git_signature_free(sig) }
        return try body(sig!)
    }

    /// Stages every change of this worktree (new, modified and deleted files; ignored files
    /// excluded) and commits it on HEAD. One status scan, then add/remove by path: libgit2's
    /// `git_index_add_all` would miss deletions.
    /// - Parameter excluding: paths for which this returns true stay out of the commit (run
    ///   outputs such as checkpoints that happen not to be ignored).
    public func commitAll(message: String, signature: Signature? = nil,
                          excluding: (String) -> Bool = { _ in false },
                          checking: ([StatusEntry]) throws -> Void = { _ in }) throws -> CommitResult {
        // The new objects leave as one pack (packwriter.h); HEAD moves only once it is written.
        let batching = expt_git_batch_begin(objectWriter) == 1
        defer { expt_git_batch_discard(objectWriter) }
        if let done = try commitWithOwnIndex(message: message, signature: signature, excluding: excluding,
                                             checking: checking, batching: batching) { return done }
        var index: OpaquePointer?
        try check(git_repository_index(&index, pointer), "open index", workdir)
        defer { git_index_free(index) }
        // The parallel scan where it models the repository, libgit2's status otherwise.
        var scanned: WorktreeScan.Found?
        do { scanned = try WorktreeScan.scan(self, index: index!) } catch is WorktreeScan.Fallback { scanned = nil }
        let all = try scanned?.entries ?? status(includeUntracked: true, refreshIndex: true, workdirOnly: true)
        if scanned == nil { try check(git_index_read(index, 1), "read index", workdir) }   // the status refreshed it
        try checking(all)
        let changes = all.filter { !excluding($0.path) }
        for (path, st) in scanned?.refreshed ?? [] { Self.refreshStat(index!, path, st) }
        // A path ending in '/' is a nested repository (git status shows it as one untracked
        // directory); git would add it as an embedded repo by accident, expt leaves it alone.
        for entry in changes where (entry.inWorkdir || entry.change == .conflicted) && !entry.path.hasSuffix("/") {
            if entry.change == .deleted {
                try check(git_index_remove_bypath(index, entry.path), "stage deletion", entry.path)
            } else if scanned != nil {
                // No filter applies where the scan runs: the bytes on disk are the blob.
                try stageAsIs(entry.path, in: index!)
            } else {
                try check(git_index_add_bypath(index, entry.path), "stage", entry.path)
            }
        }
        var treeOid = git_oid()
        if scanned != nil {
            var odb: OpaquePointer?
            try check(git_repository_odb(&odb, pointer), "open object database", workdir)
            defer { git_odb_free(odb) }
            treeOid = try TreeWriter(odb: odb!).write(index!)
        } else {
            try check(git_index_write_tree(&treeOid, index), "write tree", workdir)
        }
        return try commitTree(ObjectID(treeOid), message: message, signature: signature, batching: batching,
                              changedPaths: changes.count) { try check(git_index_write(index), "write index", workdir) }
    }

    /// Commits `tree` on HEAD unless HEAD already has it, then writes the index (both paths of
    /// commitAll end here).
    private func commitTree(_ tree: ObjectID, message: String, signature: Signature?, batching: Bool,
                            changedPaths: Int, writeIndex: () throws -> Void) throws -> CommitResult {
        let head = try headCommit()
        if let head, try treeOf(head) == tree {
            try writeIndex()
            return .nothingToCommit
        }
        let id = try createCommit(tree: tree, parents: head.map { [$0] } ?? [], message: message,
                                  signature: signature ?? defaultSignature(), updateRef: batching ? nil : "HEAD")
        if batching {
            try check(expt_git_batch_commit(objectWriter), "write objects", workdir)
            try advanceHead(from: head, to: id, message: message)
        }
        try writeIndex()
        return .committed(id, changedPaths: changedPaths)
    }

    /// commitAll where the index is one IndexFile models and the scan applies: read, staged
    /// and written by expt (IndexFile), the rest as on libgit2's path. Nil, having changed
    /// nothing, where either does not apply.
    private func commitWithOwnIndex(message: String, signature: Signature?, excluding: (String) -> Bool,
                                    checking: ([StatusEntry]) throws -> Void, batching: Bool) throws -> CommitResult? {
        guard let file = IndexFile.load(gitDir + "/index") else { return nil }
        // Before the scan: the index the commit is made from is the one written.
        try file.lock()
        let scanned: WorktreeScan.Found
        do {
            guard let found = try WorktreeScan.scan(self, entries: file.entries) else { return nil }
            scanned = found
        } catch is WorktreeScan.Fallback { return nil }
        try checking(scanned.entries)
        let changes = scanned.entries.filter { !excluding($0.path) }
        for (path, st) in scanned.refreshed { file.refresh(path, st) }
        // As on libgit2's path: a path ending in '/' is a nested repository, left alone.
        for entry in changes where entry.inWorkdir && !entry.path.hasSuffix("/") {
            if entry.change == .deleted { file.remove(entry.path) } else { file.upsert(try blobEntry(entry.path), path: entry.path) }
        }
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, pointer), "open object database", workdir)
        defer { git_odb_free(odb) }
        let tree = ObjectID(try TreeWriter(odb: odb!).write(file.entries))
        return try commitTree(tree, message: message, signature: signature, batching: batching,
                              changedPaths: changes.count) { try file.save() }
    }

    /// Moves HEAD (its branch, or HEAD itself when detached) from `head` to the new commit, as
    /// git_commit_create's update_ref does, failing if it moved meanwhile; the reflog reads as
    /// git's.
    func advanceHead(from head: ObjectID?, to id: ObjectID, message: String) throws {
        let summary = message.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        var raw = id.raw
        var ref: OpaquePointer?
        let name = try currentBranch().map { "refs/heads/" + $0 } ?? "HEAD"
        if let head {
            var old = head.raw
            try check(git_reference_create_matching(&ref, pointer, name, &raw, 1, &old, "commit: " + summary), "move branch", name)
        } else {
            try check(git_reference_create(&ref, pointer, name, &raw, 0, "commit (initial): " + summary), "commit", name)
        }
        git_reference_free(ref)
    }

    /// Stages a file as its bytes are (a link as its target), with its stat data: what
    /// git_index_add_bypath does without its attribute lookups and path resolution (a realpath
    /// per file), which cost more than the hashing.
    func stageAsIs(_ path: String, in index: OpaquePointer) throws {
        var entry = try blobEntry(path)
        try path.withCString { cPath in
            entry.path = cPath
            try check(git_index_add(index, &entry), "stage", path)
        }
    }

    /// The file's blob, written, and its index entry (without its path).
    func blobEntry(_ path: String) throws -> git_index_entry {
        let full = workdir + "/" + path
        var st = stat()
        guard lstat(full, &st) == 0 else { throw GitError(operation: "stage", subject: path, code: -1, message: String(cString: strerror(errno))) }
        var id = git_oid()
        if st.st_mode & S_IFMT == S_IFLNK {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: full)
            _ = try Array(target.utf8).withUnsafeBytes { try check(git_blob_create_from_buffer(&id, pointer, $0.baseAddress, $0.count), "stage", path) }
        } else {
            guard let data = FileManager.default.contents(atPath: full) else {
                throw GitError(operation: "stage", subject: path, code: -1, message: "cannot read the file")
            }
            _ = try data.withUnsafeBytes { try check(git_blob_create_from_buffer(&id, pointer, $0.baseAddress, $0.count), "stage", path) }
        }
        var entry = git_index_entry()
        entry.id = id
        entry.mode = st.st_mode & S_IFMT == S_IFLNK ? GIT_FILEMODE_LINK.rawValue
            : st.st_mode & 0o100 != 0 ? GIT_FILEMODE_BLOB_EXECUTABLE.rawValue : GIT_FILEMODE_BLOB.rawValue
        entry.setStat(st)
        return entry
    }

    /// Writes fresh stat data into the index entry of an unchanged file (what a status refresh does).
    static func refreshStat(_ index: OpaquePointer, _ path: String, _ st: stat) {
        guard let constEntry = git_index_get_bypath(index, path, 0) else { return }
        UnsafeMutablePointer(mutating: constEntry).pointee.setStat(st)
    }

    /// The tree id of a commit.
    public func treeOf(_ commit: ObjectID) throws -> ObjectID {
        try withCommit(commit) { ObjectID(git_commit_tree_id($0).pointee) }
    }

    /// Creates a commit object; moves `updateRef` (e.g. "HEAD") when given.
    func createCommit(tree: ObjectID, parents: [ObjectID], message: String, signature: Signature,
                      updateRef: String?) throws -> ObjectID {
        var treeRaw = tree.raw
        var treePtr: OpaquePointer?
        try check(git_tree_lookup(&treePtr, pointer, &treeRaw), "look up tree", tree.short)
        defer { git_tree_free(treePtr) }
        var parentPtrs: [OpaquePointer?] = []
        defer { parentPtrs.forEach { git_commit_free($0) } }
        for p in parents {
            var raw = p.raw
            var c: OpaquePointer?
            try check(git_commit_lookup(&c, pointer, &raw), "look up commit", p.short)
            parentPtrs.append(c)
        }
        var out = git_oid()
        _ = try withSignature(signature) { sig in
            try parentPtrs.withUnsafeMutableBufferPointer { buf in
                try check(git_commit_create(&out, pointer, updateRef, sig, sig, "UTF-8", message, treePtr,
                                            parents.count, buf.baseAddress), "create commit", updateRef ?? "")
            }
        }
        return ObjectID(out)
    }

    /// Commits exactly these files (paths relative to this worktree) on HEAD and writes them to
    /// the worktree. The tree is HEAD's tree plus these files, built in an in-memory index, so
    /// anything else the user has staged stays staged and out of this commit. Order: objects and
    /// commit first, then the files, then HEAD (compare-and-swap) and the index; if writing a file
    /// fails, the files already written are removed and HEAD has not moved.
    public func commitFiles(_ files: [(path: String, contents: String, executable: Bool)], message: String,
                            signature: Signature? = nil) throws -> ObjectID {
        let head = try headCommit()
        let id = try makeCommit(onto: head, adding: files, message: message, signature: signature ?? defaultSignature())
        var written: [URL] = []
        do {
            for f in files {
                let url = URL(fileURLWithPath: workdir).appendingPathComponent(f.path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try f.contents.write(to: url, atomically: true, encoding: .utf8)
                written.append(url)
                if f.executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
            }
            guard let branch = try currentBranch() else {
                throw GitError(operation: "commit", subject: workdir, code: -1, message: "HEAD is detached")
            }
            if let head {
                try moveBranch(branch, from: head, to: id, reflog: "commit: \(message.split(separator: "\n").first ?? "")")
            } else {
                var raw = id.raw
                var ref: OpaquePointer?
                try check(git_reference_create(&ref, pointer, "refs/heads/\(branch)", &raw, 0, "commit (initial)"), "commit", branch)
                git_reference_free(ref)
            }
        } catch {
            for url in written { try? FileManager.default.removeItem(at: url) }
            throw error
        }
        // Keep the worktree's real index in step for these paths, so `git status` is clean.
        var index: OpaquePointer?
        try check(git_repository_index(&index, pointer), "open index", workdir)
        defer { git_index_free(index) }
        for f in files { try check(git_index_add_bypath(index, f.path), "stage", f.path) }
        try check(git_index_write(index), "write index", workdir)
        return id
    }

    /// A commit object whose tree is `parent`'s tree plus `files`, built in an in-memory index;
    /// no ref moves and nothing is written to any worktree. (`expt new` makes the doc commit
    /// this way before checking the branch out, so the big index is written once.)
    public func makeCommit(onto parent: ObjectID?, adding files: [(path: String, contents: String, executable: Bool)],
                           message: String, signature: Signature) throws -> ObjectID {
        var mem: OpaquePointer?
        try check(git_index_new(&mem), "build commit", workdir)
        defer { git_index_free(mem) }
        if let parent {
            try withCommit(parent) { c in
                var tree: OpaquePointer?
                try check(git_commit_tree(&tree, c), "read tree", parent.short)
                defer { git_tree_free(tree) }
                try check(git_index_read_tree(mem, tree), "read tree", parent.short)
            }
        }
        for f in files {
            var blob = git_oid()
            let bytes = Array(f.contents.utf8)
            try check(git_blob_create_from_buffer(&blob, pointer, bytes, bytes.count), "write blob", f.path)
            var entry = git_index_entry()
            entry.mode = f.executable ? 0o100755 : 0o100644
            entry.id = blob
            entry.file_size = UInt32(truncatingIfNeeded: bytes.count)
            try f.path.withCString { p in
                entry.path = p
                try check(git_index_add(mem, &entry), "stage", f.path)
            }
        }
        var treeOid = git_oid()
        try check(git_index_write_tree_to(&treeOid, mem, pointer), "write tree", workdir)
        return try createCommit(tree: ObjectID(treeOid), parents: parent.map { [$0] } ?? [], message: message,
                                signature: signature, updateRef: nil)
    }
}

extension git_index_entry {
    /// The stat data git keeps for a file (times to the nanosecond, device, inode, owner, size),
    /// from lstat or fstat: what lets the next status skip hashing it.
    mutating func setStat(_ st: stat) {
        ctime = git_index_time(seconds: Int32(truncatingIfNeeded: st.st_ctim.tv_sec), nanoseconds: UInt32(st.st_ctim.tv_nsec))
        mtime = git_index_time(seconds: Int32(truncatingIfNeeded: st.st_mtim.tv_sec), nanoseconds: UInt32(st.st_mtim.tv_nsec))
        dev = UInt32(truncatingIfNeeded: st.st_dev)
        ino = UInt32(truncatingIfNeeded: st.st_ino)
        uid = st.st_uid
        gid = st.st_gid
        file_size = UInt32(truncatingIfNeeded: st.st_size)
    }
}
