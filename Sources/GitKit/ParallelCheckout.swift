#if canImport(Glibc)
import Glibc
#endif
import CLibGit2
import Dispatch
import Foundation

/// Checks a commit's tree out into an empty new worktree on every core, then writes its index
/// once. libgit2 1.5 (like git, whose checkout.workers defaults to 1) writes files one by one on
/// one core, and creating 20,000 files is nearly all kernel time, which two cores halve.
///
/// Only for trees that need no checkout filters (no attributes, no autocrlf: see
/// `needsCheckoutFilters`); the caller falls back to libgit2's checkout otherwise. The index is
/// written last, so a checkout killed half way leaves a worktree without an index, which expt
/// recognises as interrupted (R1).
struct ParallelCheckout {
    struct Item {
        var path: String
        var id: git_oid
        var mode: UInt32    // 0o100644, 0o100755, 0o120000 (symlink) or 0o160000 (submodule)
    }

    let worktree: String
    let objectsRepository: String

    /// The blobs, symlinks and submodule directories of `tree`, with every path checked: no
    /// component may be empty, ".", "..", or ".git" in any case (what libgit2's path validation
    /// refuses on Linux), so nothing is written outside the worktree.
    static func items(of tree: OpaquePointer) throws -> (dirs: [String], items: [Item]) {
        final class Box { var dirs: [String] = []; var items: [Item] = []; var bad: String? }
        let box = Box()
        let payload = Unmanaged.passRetained(box)
        defer { payload.release() }
        let rc = git_tree_walk(tree, GIT_TREEWALK_PRE, { root, entry, payload in
            guard let root, let entry, let payload else { return -1 }
            let b = Unmanaged<Box>.fromOpaque(payload).takeUnretainedValue()
            let name = String(cString: git_tree_entry_name(entry))
            let lowered = name.lowercased()
            if name.isEmpty || name == "." || name == ".." || lowered == ".git" || name.contains("/") || name.utf8.contains(0) {
                b.bad = String(cString: root) + name
                return -1
            }
            let path = String(cString: root) + name
            let mode = git_tree_entry_filemode(entry).rawValue
            switch mode {
            case GIT_FILEMODE_TREE.rawValue: b.dirs.append(path)
            case GIT_FILEMODE_BLOB.rawValue, GIT_FILEMODE_BLOB_EXECUTABLE.rawValue, GIT_FILEMODE_LINK.rawValue, GIT_FILEMODE_COMMIT.rawValue:
                b.items.append(Item(path: path, id: git_tree_entry_id(entry).pointee, mode: mode))
            default:
                b.bad = path
                return -1
            }
            return 0
        }, payload.toOpaque())
        if let bad = box.bad {
            git_error_clear()
            throw GitError(operation: "check out", subject: bad, code: -1, message: "the tree has a path that cannot be checked out safely")
        }
        try check(rc, "walk tree")
        return (box.dirs, box.items)
    }

    /// What lstat said of each written file, by path, for the index.
    typealias Stats = [String: stat]

    /// Writes every item under `worktree` (directories first, then files on `workers` threads,
    /// each with its own repository handle: libgit2 objects are not shared across threads).
    func write(dirs: [String], items: [Item], workers: Int) throws -> Stats {
        for dir in dirs where mkdir(worktree + "/" + dir, 0o777) != 0 && errno != EEXIST {
            throw GitError(operation: "check out", subject: dir, code: -1, message: "cannot create the directory: \(String(cString: strerror(errno)))")
        }
        let count = max(1, min(workers, items.count / 500 + 1))
        // One slot per worker, each written by its worker only.
        final class Slots: @unchecked Sendable {
            let buffer: UnsafeMutableBufferPointer<Result<Stats, Error>?>
            init(_ n: Int) { buffer = .allocate(capacity: n); buffer.initialize(repeating: nil) }
            deinit { buffer.deinitialize(); buffer.deallocate() }
        }
        let results = Slots(count)
        // Contiguous slices of the tree-ordered items: each thread writes its own directories
        // (two threads creating files in one directory contend for its lock).
        DispatchQueue.concurrentPerform(iterations: count) { slice in
            let range = (items.count * slice / count)..<(items.count * (slice + 1) / count)
            results.buffer[slice] = Result { try writeSlice(Array(items[range])) }
        }
        var stats = Stats(minimumCapacity: items.count)
        for result in results.buffer {
            switch result {
            case .success(let part)?: stats.merge(part) { a, _ in a }
            case .failure(let error)?: throw error
            case nil: throw GitError(operation: "check out", subject: worktree, code: -1, message: "a checkout worker did not finish")
            }
        }
        return stats
    }

    private func writeSlice(_ items: [Item]) throws -> Stats {
        var repo: OpaquePointer?
        try check(git_repository_open_ext(&repo, objectsRepository, UInt32(GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue), nil), "open repository", objectsRepository)
        defer { git_repository_free(repo) }
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, repo), "open object database")
        defer { git_odb_free(odb) }
        var stats = Stats(minimumCapacity: items.count)
        for item in items {
            let target = worktree + "/" + item.path
            var st = stat()
            if item.mode == GIT_FILEMODE_COMMIT.rawValue {
                // A submodule is an empty directory until it is initialised, as git leaves it.
                guard mkdir(target, 0o777) == 0 || errno == EEXIST else { throw writeError(item.path) }
                continue
            }
            var id = item.id
            var object: OpaquePointer?
            try check(git_odb_read(&object, odb, &id), "read blob", item.path)
            defer { git_odb_object_free(object) }
            let data = git_odb_object_data(object)
            let size = git_odb_object_size(object)
            if item.mode == GIT_FILEMODE_LINK.rawValue {
                let link = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
                guard symlink(link, target) == 0, lstat(target, &st) == 0 else { throw writeError(item.path) }
            } else {
                let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, item.mode == GIT_FILEMODE_BLOB_EXECUTABLE.rawValue ? 0o777 : 0o666)
                guard fd >= 0 else { throw writeError(item.path) }
                var written = 0
                while written < size {
                    let n = Glibc.write(fd, data.map { $0 + written }, size - written)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { let e = writeError(item.path); close(fd); throw e }
                    written += n
                }
                guard fstat(fd, &st) == 0 else { let e = writeError(item.path); close(fd); throw e }
                close(fd)
            }
            stats[item.path] = st
        }
        return stats
    }

    private func writeError(_ path: String) -> GitError {
        let why = errno == ENOSPC ? "no space left on device" : String(cString: strerror(errno))
        return GitError(operation: "check out", subject: path, code: -1, message: "cannot write the file: \(why)")
    }

    /// Fills the worktree's index from `tree` with the stat data of the files just written, and
    /// writes it: the next status compares sizes and times instead of hashing every file.
    static func writeIndex(of repository: OpaquePointer, tree: OpaquePointer, stats: Stats) throws {
        var index: OpaquePointer?
        try check(git_repository_index(&index, repository), "open index")
        defer { git_index_free(index) }
        try check(git_index_read_tree(index, tree), "read tree into index")
        for i in 0..<git_index_entrycount(index) {
            guard let constEntry = git_index_get_byindex(index, i) else { continue }
            let entry = UnsafeMutablePointer(mutating: constEntry)
            guard let st = stats[String(cString: entry.pointee.path)] else { continue }
            entry.pointee.setStat(st)
            // In memory only: libgit2 does not re-check files it knows it just wrote.
            entry.pointee.flags_extended |= UInt16(GIT_INDEX_ENTRY_UPTODATE.rawValue)
        }
        try check(git_index_write(index), "write index")
    }
}
