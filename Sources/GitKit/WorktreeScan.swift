#if canImport(Glibc)
import Glibc
#endif
import CLibGit2
import Dispatch
import Foundation

/// The working tree compared with the index, on every core: what `commitAll` stages. libgit2's
/// status walks the tree on one core and stats every file by its full path; this reads each
/// directory once and stats its entries relative to it (`fstatat`), one directory list per
/// thread, then hashes only the files whose stat data changed.
///
/// It models the common repository only. `scan` returns nil, and the caller uses libgit2's
/// status, when the index has conflicts, intent-to-add, skip-worktree or assume-unchanged
/// entries or submodules, or the configuration changes what a change is (core.filemode,
/// core.ignorecase, core.symlinks, core.autocrlf, sparse checkout, attributes anywhere).
struct WorktreeScan {
    /// One index entry. Its path points into the index (which the scan does not change), so
    /// 20,000 entries cost no String allocations; Strings are made only for what is reported.
    struct Tracked: @unchecked Sendable {   // read-only pointers into the index while the workers run
        var cPath: UnsafePointer<CChar>
        var nameOffset: Int
        var mode: UInt32
        var id: git_oid
        var mtime: git_index_time
        var ctime: git_index_time
        var ino: UInt32
        var uid: UInt32
        var gid: UInt32
        var size: UInt32
        var path: String { String(cString: cPath) }
        var name: UnsafePointer<CChar> { cPath + nameOffset }
    }

    struct Found {
        var entries: [StatusEntry] = []
        /// Tracked files whose content is unchanged but whose stat data moved (a touch, a
        /// checkout): their index entries are refreshed so they are not hashed again.
        var refreshed: [(path: String, stat: stat)] = []
    }

    let repo: Repository
    let workdir: String

    /// Nil when the repository uses something the scan does not model (see the type's doc).
    static func scan(_ repo: Repository, index: OpaquePointer) throws -> Found? {
        try scan(repo, entries: (0..<git_index_entrycount(index)).compactMap { git_index_get_byindex(index, $0)?.pointee })
    }

    /// The same over entries in index order whose paths stay valid while it runs (IndexFile's).
    static func scan(_ repo: Repository, entries: [git_index_entry]) throws -> Found? {
        guard try repo.isPlainForScanning() else { return nil }
        var tracked: [Tracked] = []
        tracked.reserveCapacity(entries.count)
        for e in entries {
            let stage = (Int32(e.flags) & GIT_INDEX_ENTRY_STAGEMASK) >> GIT_INDEX_ENTRY_STAGESHIFT
            if stage != 0 || Int32(e.flags) & Int32(GIT_INDEX_ENTRY_VALID.rawValue) != 0
                || Int32(e.flags_extended) & Int32(GIT_INDEX_ENTRY_EXTENDED_FLAGS.rawValue) != 0
                || e.mode == GIT_FILEMODE_COMMIT.rawValue { return nil }
            let nameOffset = strrchr(e.path, 0x2F).map { e.path.distance(to: $0) + 1 } ?? 0
            // An attributes file anywhere can filter content: libgit2 applies those.
            if strcmp(e.path + nameOffset, ".gitattributes") == 0 { return nil }
            tracked.append(Tracked(cPath: e.path, nameOffset: nameOffset, mode: e.mode, id: e.id, mtime: e.mtime,
                                   ctime: e.ctime, ino: e.ino, uid: e.uid, gid: e.gid, size: e.file_size))
        }
        var indexStat = stat()
        let indexTime = lstat(repo.gitDir + "/index", &indexStat) == 0 ? indexStat.st_mtim : timespec()
        return try WorktreeScan(repo: repo, workdir: repo.workdir).run(tracked, indexTime: indexTime)
    }

    /// One directory's result from a worker.
    private struct DirResult {
        var dirty: [Int] = []            // tracked entries whose stat data differs (or is racy)
        var stats: [Int: stat] = [:]
        var deleted: [Int] = []
        var modeChanged: [Int] = []      // the executable bit flipped: a change whatever the content
        var typeChanged = false
        var untrackedFiles: [String] = []
        var untrackedDirs: [String] = []
    }

    private func run(_ tracked: [Tracked], indexTime: timespec) throws -> Found {
        // Tracked entries by directory ("" is the root), in index order; every ancestor of a
        // tracked file is a tracked directory.
        var byDir: [String: [Int]] = [:]
        var dirs: Set<String> = [""]
        var previous: (UnsafePointer<CChar>, Int)?
        var current = ""
        for i in tracked.indices {
            let t = tracked[i]
            let length = max(0, t.nameOffset - 1)
            // Index order keeps a directory's files mostly together: a String per run of them.
            if let (p, n) = previous, n == length, memcmp(p, t.cPath, length) == 0 {
                byDir[current, default: []].append(i)
                continue
            }
            previous = (t.cPath, length)
            current = String(decoding: UnsafeRawBufferPointer(start: t.cPath, count: length), as: UTF8.self)
            byDir[current, default: []].append(i)
            var d = current
            while !d.isEmpty, dirs.insert(d).inserted {
                d = d.utf8.lastIndex(of: 0x2F).map { String(d[..<$0]) } ?? ""
            }
        }
        let ordered = dirs.sorted()
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, ordered.count / 8 + 1))
        final class Slots: @unchecked Sendable {
            let buffer: UnsafeMutableBufferPointer<[String: DirResult]>
            init(_ n: Int) { buffer = .allocate(capacity: n); buffer.initialize(repeating: [:]) }
            deinit { buffer.deinitialize(); buffer.deallocate() }
        }
        let slots = Slots(workers)
        let (groups, trackedDirs, root) = (byDir, dirs, workdir)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var out: [String: DirResult] = [:]
            for k in (ordered.count * w / workers)..<(ordered.count * (w + 1) / workers) {
                let dir = ordered[k]
                out[dir] = Self.scanDirectory(dir, in: root, entries: groups[dir] ?? [], tracked: tracked,
                                              trackedDirs: trackedDirs, indexTime: indexTime)
            }
            slots.buffer[w] = out
        }
        var found = Found()
        var dirty: [Int] = [], stats: [Int: stat] = [:], untrackedFiles: [String] = [], untrackedDirs: [String] = []
        for part in slots.buffer {
            for (_, r) in part {
                if r.typeChanged { throw Fallback() }
                dirty += r.dirty; stats.merge(r.stats) { a, _ in a }
                untrackedFiles += r.untrackedFiles; untrackedDirs += r.untrackedDirs
                for i in r.deleted { found.entries.append(StatusEntry(path: tracked[i].path, change: .deleted, inWorkdir: true)) }
                for i in r.modeChanged { found.entries.append(StatusEntry(path: tracked[i].path, change: .modified, inWorkdir: true)) }
            }
        }
        // Content of the stat-dirty files, hashed as they are (no filter applies where the scan
        // runs; git_repository_hashfile would resolve the path and load attributes per file).
        for i in dirty.sorted() {
            if tracked[i].mode == GIT_FILEMODE_LINK.rawValue {
                // Staged again as it is: libgit2 reads the link itself.
                found.entries.append(StatusEntry(path: tracked[i].path, change: .modified, inWorkdir: true))
                continue
            }
            var id = git_oid()
            let path = tracked[i].path
            try check(git_odb_hashfile(&id, workdir + "/" + path, GIT_OBJECT_BLOB), "hash", path)
            var known = tracked[i].id
            if git_oid_equal(&id, &known) == 1, let st = stats[i] {
                found.refreshed.append((path, st))
            } else {
                found.entries.append(StatusEntry(path: path, change: .modified, inWorkdir: true))
            }
        }
        for path in untrackedFiles where !(try isIgnored(path)) {
            found.entries.append(StatusEntry(path: path, change: .untracked, inWorkdir: true))
        }
        for dir in untrackedDirs { try addUntracked(directory: dir, to: &found) }
        found.entries.sort { $0.path < $1.path }
        return found
    }

    /// Thrown inside the scan when the tree has something it hands to libgit2 (a type change).
    struct Fallback: Error {}

    private static func scanDirectory(_ dir: String, in workdir: String, entries: [Int], tracked: [Tracked],
                                      trackedDirs: Set<String>, indexTime: timespec) -> DirResult {
        var r = DirResult()
        let full = dir.isEmpty ? workdir : workdir + "/" + dir
        let fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            // Gone (or replaced by a file or link): every tracked file in it is deleted, or a
            // type change when something else stands there.
            if errno == ENOENT { r.deleted = entries } else { r.typeChanged = true }
            return r
        }
        if let stream = fdopendir(fd) {
            // A directory's files are in the index in byte order of their names: each directory
            // entry is looked up by binary search, and only names git does not track become Strings.
            var seen = [Bool](repeating: false, count: entries.count)
            var others: [(String, UInt8)] = []
            while let entry = readdir(stream) {
                let type = entry.pointee.d_type
                withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    let name = raw.bindMemory(to: CChar.self).baseAddress!
                    if strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || (dir.isEmpty && strcmp(name, ".git") == 0) { return }
                    var (lo, hi) = (0, entries.count)
                    while lo < hi {
                        let mid = (lo + hi) / 2
                        let c = strcmp(tracked[entries[mid]].name, name)
                        if c == 0 { seen[mid] = true; return }
                        if c < 0 { lo = mid + 1 } else { hi = mid }
                    }
                    others.append((String(cString: name), type))
                }
            }
            // Stat relative to the open directory: one path component per lookup.
            let dfd = dirfd(stream)
            for (k, i) in entries.enumerated() {
                let t = tracked[i]
                guard seen[k] else { r.deleted.append(i); continue }
                var st = stat()
                guard fstatat(dfd, t.name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { r.deleted.append(i); continue }
                let isLink = st.st_mode & S_IFMT == S_IFLNK, isFile = st.st_mode & S_IFMT == S_IFREG
                guard (t.mode == GIT_FILEMODE_LINK.rawValue && isLink) || (t.mode != GIT_FILEMODE_LINK.rawValue && isFile) else {
                    r.typeChanged = true
                    continue
                }
                let executable = isFile && st.st_mode & 0o100 != 0
                if isFile && executable != (t.mode == GIT_FILEMODE_BLOB_EXECUTABLE.rawValue) {
                    r.modeChanged.append(i)
                    continue
                }
                let racy = (Int(t.mtime.seconds), Int(t.mtime.nanoseconds)) >= (Int(indexTime.tv_sec), Int(indexTime.tv_nsec))
                if racy || !Self.matches(t, st) { r.dirty.append(i); r.stats[i] = st }
            }
            for (name, type) in others {
                let path = dir.isEmpty ? name : dir + "/" + name
                if trackedDirs.contains(path) { continue }
                var kind = type
                if kind == UInt8(DT_UNKNOWN) {
                    var st = stat()
                    kind = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mode & S_IFMT == S_IFDIR ? UInt8(DT_DIR) : UInt8(DT_REG)
                }
                if kind == UInt8(DT_DIR) { r.untrackedDirs.append(path) } else { r.untrackedFiles.append(path) }
            }
            closedir(stream)
        } else {
            close(fd)
            r.typeChanged = true
        }
        return r
    }

    /// git's stat check (ie_match_stat): mtime and ctime to the nanosecond, inode, owner, size.
    static func matches(_ t: Tracked, _ st: stat) -> Bool {
        t.mtime.seconds == Int32(truncatingIfNeeded: st.st_mtim.tv_sec) && t.mtime.nanoseconds == UInt32(st.st_mtim.tv_nsec)
            && t.ctime.seconds == Int32(truncatingIfNeeded: st.st_ctim.tv_sec) && t.ctime.nanoseconds == UInt32(st.st_ctim.tv_nsec)
            && t.ino == UInt32(truncatingIfNeeded: st.st_ino) && t.uid == st.st_uid && t.gid == st.st_gid
            && t.size == UInt32(truncatingIfNeeded: st.st_size)
    }

    private func isIgnored(_ path: String) throws -> Bool {
        var ignored: Int32 = 0
        try check(git_ignore_path_is_ignored(&ignored, repo.pointer, path), "check ignore rules", path)
        return ignored == 1
    }

    /// An untracked directory as git status shows it with untracked directories recursed:
    /// its files one by one, minus ignored ones. A nested repository is left out: it is never
    /// staged (libgit2 lists one as `dir/` only sometimes; commitAll skips those either way).
    private func addUntracked(directory dir: String, to found: inout Found) throws {
        if try isIgnored(dir + "/") { return }
        let full = workdir + "/" + dir
        if FileManager.default.fileExists(atPath: full + "/.git") { return }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: full) else { return }
        for name in names.sorted() {
            let path = dir + "/" + name
            var st = stat()
            guard lstat(workdir + "/" + path, &st) == 0 else { continue }
            if st.st_mode & S_IFMT == S_IFDIR { try addUntracked(directory: path, to: &found) }
            else if !(try isIgnored(path)) { found.entries.append(StatusEntry(path: path, change: .untracked, inWorkdir: true)) }
        }
    }
}

extension Repository {
    /// The scan over this worktree's index as it is on disk (nil where libgit2's status applies).
    func scanWorktree() throws -> WorktreeScan.Found? {
        var index: OpaquePointer?
        try check(git_repository_index(&index, pointer), "open index", workdir)
        defer { git_index_free(index) }
        do { return try WorktreeScan.scan(self, index: index!) } catch is WorktreeScan.Fallback { return nil }
    }

    /// True when nothing in the configuration changes what the scan considers a change.
    func isPlainForScanning() throws -> Bool {
        func setting(_ key: String) throws -> String? { try configString(key)?.lowercased() }
        if let v = try setting("core.filemode"), v == "false" { return false }
        if let v = try setting("core.ignorecase"), v == "true" { return false }
        if let v = try setting("core.symlinks"), v == "false" { return false }
        if let v = try setting("core.sparsecheckout"), v == "true" { return false }
        if let v = try setting("core.trustctime"), v == "false" { return false }
        if let v = try setting("core.checkstat"), v == "minimal" { return false }
        // Tracked .gitattributes files are looked for in the index by `scan` (cheaper than
        // walking HEAD's tree); an untracked one is staged by libgit2, which applies it.
        return try !needsFiltersOutsideTheTree()
    }
}
