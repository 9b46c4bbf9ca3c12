import CLibGit2
import Foundation

/// A worktree as git records it: the main one, or a linked one under `<common-dir>/worktrees`.
public struct WorktreeInfo: Equatable, Sendable {
    /// libgit2's worktree name (no '/'); nil for the main worktree.
    public var name: String?
    public var path: String
    /// The branch checked out there; nil when detached.
    public var branch: String?
    public var isMain: Bool
    /// False when the directory is gone (a stale registration `prune` can remove).
    public var exists: Bool
    public var isLocked: Bool
}

extension Repository {
    /// Every worktree, main first, then linked ones by name.
    public func worktrees() throws -> [WorktreeInfo] {
        // This handle when it is the main worktree: opening it again re-reads every config file.
        let main = isLinkedWorktree ? try Repository.open(at: mainWorkdir) : self
        var result = [WorktreeInfo(name: nil, path: main.workdir, branch: try main.currentBranch(),
                                   isMain: true, exists: true, isLocked: false)]
        // git_worktree_list's rule: a directory of <common-dir>/worktrees with the three files.
        let admin = commonDir + "/worktrees"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: admin)) ?? []
        for name in names.sorted() {
            if let info = try worktree(named: name) { result.append(info) }
        }
        return result
    }

    /// The linked worktree called `name`, or nil: read from its admin directory as git and
    /// libgit2 define it (gitdir names the worktree's `.git` file, `locked` marks a lock).
    /// git_worktree_lookup re-resolved the common directory and re-read each file several
    /// times: 30 system calls a worktree where these are 8.
    public func worktree(named name: String) throws -> WorktreeInfo? {
        let dir = "\(commonDir)/worktrees/\(name)"
        func isFile(_ path: String) -> Bool {
            var st = stat()
            return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
        }
        func exists(_ path: String) -> Bool { var st = stat(); return stat(path, &st) == 0 }
        guard !name.contains("/"), isFile(dir + "/gitdir"), isFile(dir + "/HEAD"), isFile(dir + "/commondir"),
              let gitdir = smallFile(dir + "/gitdir") else { return nil }
        var dotGit = trimmed(gitdir, "\r\n")
        // git 2.48's worktree.useRelativePaths writes it relative to the admin directory.
        if !dotGit.hasPrefix("/") { dotGit = ((dir + "/" + dotGit) as NSString).standardizingPath }
        // The worktree is the directory of its `.git` file.
        let path = Repository.stripSlash(dotGit.utf8.lastIndex(of: UInt8(ascii: "/")).map { $0 == dotGit.startIndex ? "/" : String(dotGit[..<$0]) } ?? dotGit)
        // Read HEAD from the admin dir: it is there even when the working tree was deleted.
        var branch: String?
        if let head = smallFile(dir + "/HEAD") {
            let line = trimmed(head, " \t\r\n")
            if line.hasPrefix("ref: refs/heads/") { branch = String(line.dropFirst("ref: refs/heads/".count)) }
        }
        return WorktreeInfo(name: name, path: path, branch: branch, isMain: false,
                            exists: exists(path), isLocked: exists(dir + "/locked"))
    }

    /// The worktree (main or linked) that has `branch` checked out, if any.
    public func worktree(forBranch branch: String) throws -> WorktreeInfo? {
        try worktrees().first { $0.branch == branch }
    }

    /// Adds a linked worktree at `path` with the existing `branch` checked out.
    /// The worktree name is derived from the branch (no '/' allowed by libgit2) and made unique.
    /// Creates missing parent directories; refuses an existing path or a branch checked out elsewhere.
    @discardableResult
    public func addWorktree(branch: String, at path: String) throws -> WorktreeInfo {
        if FileManager.default.fileExists(atPath: path) {
            throw GitError(operation: "add worktree", subject: path, code: GIT_EEXISTS.rawValue,
                           message: "the path already exists; move it away or choose another branch name")
        }
        if let other = try worktree(forBranch: branch) {
            throw GitError(operation: "add worktree", subject: branch, code: GIT_EEXISTS.rawValue,
                           message: "branch is already checked out at \(other.path)")
        }
        var ref: OpaquePointer?
        try check(git_branch_lookup(&ref, pointer, branch, GIT_BRANCH_LOCAL), "look up branch", branch)
        defer { git_reference_free(ref) }
        let name = try uniqueWorktreeName(for: branch)
        let parent = (path as NSString).deletingLastPathComponent
        // git_worktree_add does not create parent directories.
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        var opts = git_worktree_add_options()
        try check(git_worktree_add_options_init(&opts, UInt32(GIT_WORKTREE_ADD_OPTIONS_VERSION)), "add worktree", path)
        opts.ref = ref
        // Checkout filters (eol, ident, filter drivers) cost a lookup per file; with no
        // attributes anywhere and no autocrlf they would change nothing, so skip them
        // (docs/benchmarks.md, "Where the time goes": 0.8× `git worktree add` instead of 1.3×).
        let tip = try branchTip(branch)
        let parallel = try !needsCheckoutFilters(branchTip: tip)
        if parallel {
            // The files are written by ParallelCheckout: libgit2 only makes the worktree.
            opts.checkout_options.checkout_strategy = GIT_CHECKOUT_NONE.rawValue
        }
        var wt: OpaquePointer?
        try check(git_worktree_add(&wt, pointer, name, path, &opts), "add worktree", path)
        git_worktree_free(wt)
        if parallel { try checkOutInParallel(tip, into: path) }
        guard let info = try worktree(named: name) else {
            throw GitError(operation: "add worktree", subject: path, code: -1, message: "worktree vanished after creation")
        }
        return info
    }

    /// Writes `commit`'s tree into the new, empty worktree at `path` on every core, then its index.
    func checkOutInParallel(_ commit: ObjectID, into path: String) throws {
        let worktree = try Repository.open(at: path)
        // libgit2 wrote an index even without checking out: remove it, so that a checkout cut
        // short leaves a worktree without one, which reads as interrupted (R1).
        unlink(worktree.gitDir + "/index")
        try withCommit(commit) { c in
            var tree: OpaquePointer?
            try check(git_commit_tree(&tree, c), "read tree", commit.short)
            defer { git_tree_free(tree) }
            let (dirs, items) = try ParallelCheckout.items(of: tree!)
            let checkout = ParallelCheckout(worktree: worktree.workdir, objectsRepository: commonDir)
            let stats = try checkout.write(dirs: dirs, items: items, workers: ProcessInfo.processInfo.activeProcessorCount)
            try ParallelCheckout.writeIndex(of: worktree.pointer, tree: tree!, stats: stats)
        }
    }

    func needsCheckoutFilters(branchTip: ObjectID) throws -> Bool {
        try needsFiltersOutsideTheTree() || treeContains(name: ".gitattributes", in: branchTip)
    }

    /// Attributes or autocrlf that apply whatever the tree holds.
    func needsFiltersOutsideTheTree() throws -> Bool {
        if FileManager.default.fileExists(atPath: commonDir + "/info/attributes") { return true }
        if let crlf = try configString("core.autocrlf"), crlf.lowercased() != "false" { return true }
        if try configString("core.attributesFile") != nil { return true }
        let home = ProcessInfo.processInfo.environment["XDG_CONFIG_HOME"] ?? (NSHomeDirectory() + "/.config")
        return FileManager.default.fileExists(atPath: home + "/git/attributes")
    }

    /// True when any entry of the commit's tree (at any depth) is called `name`; stops at the first.
    func treeContains(name: String, in commit: ObjectID) throws -> Bool {
        try withCommit(commit) { c in
            var tree: OpaquePointer?
            try check(git_commit_tree(&tree, c), "read tree", commit.short)
            defer { git_tree_free(tree) }
            final class Box { let name: String; var found = false; init(_ n: String) { name = n } }
            let box = Box(name)
            let payload = Unmanaged.passRetained(box)
            defer { payload.release() }
            let rc = git_tree_walk(tree, GIT_TREEWALK_PRE, { _, entry, payload in
                guard let entry, let payload else { return 0 }
                let b = Unmanaged<Box>.fromOpaque(payload).takeUnretainedValue()
                if String(cString: git_tree_entry_name(entry)) == b.name { b.found = true; return -1 }
                return 0
            }, payload.toOpaque())
            git_error_clear()
            if rc < 0 && !box.found { try check(rc, "walk tree", commit.short) }
            return box.found
        }
    }

    /// A libgit2 worktree name for a branch: '/' is not allowed, so `exp/lr` → `exp-lr`, and
    /// a suffix keeps it unique against existing registrations.
    func uniqueWorktreeName(for branch: String) throws -> String {
        let base = String(branch.map { $0 == "/" ? "-" : $0 })
        var candidate = base
        var n = 2
        while FileManager.default.fileExists(atPath: "\(commonDir)/worktrees/\(candidate)") {
            candidate = "\(base)-\(n)"; n += 1
        }
        return candidate
    }

    /// Removes the registration of a worktree whose directory is gone. Returns true if pruned.
    @discardableResult
    public func pruneWorktree(named name: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: "\(commonDir)/worktrees/\(name)") else { return false }
        var wt: OpaquePointer?
        let rc = git_worktree_lookup(&wt, pointer, name)
        if rc == GIT_ENOTFOUND.rawValue { git_error_clear(); return false }
        try check(rc, "look up worktree", name)
        defer { git_worktree_free(wt) }
        var opts = git_worktree_prune_options()
        try check(git_worktree_prune_options_init(&opts, UInt32(GIT_WORKTREE_PRUNE_OPTIONS_VERSION)), "prune worktree", name)
        opts.flags = 0 // only when invalid and unlocked
        if git_worktree_is_prunable(wt, &opts) <= 0 { git_error_clear(); return false }
        try check(git_worktree_prune(wt, &opts), "prune worktree", name)
        return true
    }

    /// Removes a linked worktree: its directory and its registration. The branch stays.
    public func removeWorktree(named name: String) throws {
        guard let info = try worktree(named: name) else {
            throw GitError(operation: "remove worktree", subject: name, code: GIT_ENOTFOUND.rawValue, message: "no such worktree")
        }
        if info.isLocked {
            throw GitError(operation: "remove worktree", subject: info.path, code: -1,
                           message: "the worktree is locked (`git worktree unlock` it first)")
        }
        if FileManager.default.fileExists(atPath: info.path) {
            try FileManager.default.removeItem(atPath: info.path)
        }
        try pruneWorktree(named: name)
        // Remove now-empty parent directories left by nested branch names (.worktrees/exp/lr).
        var dir = (info.path as NSString).deletingLastPathComponent
        while dir.hasPrefix(mainWorkdir + "/.worktrees/"),
              let items = try? FileManager.default.contentsOfDirectory(atPath: dir), items.isEmpty {
            try? FileManager.default.removeItem(atPath: dir)
            dir = (dir as NSString).deletingLastPathComponent
        }
    }

    /// Ensures `pattern` is a line of `<common-dir>/info/exclude` (shared by every worktree).
    public func ensureExcluded(_ pattern: String) throws -> Bool {
        let infoDir = "\(commonDir)/info"
        let file = "\(infoDir)/exclude"
        try FileManager.default.createDirectory(atPath: infoDir, withIntermediateDirectories: true)
        let current = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        if current.split(separator: "\n").contains(where: { $0.trimmingCharacters(in: .whitespaces) == pattern }) {
            return false
        }
        let sep = current.isEmpty || current.hasSuffix("\n") ? "" : "\n"
        try (current + sep + pattern + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        return true
    }
}

/// `s` without the given ASCII bytes at either end (Foundation's trimming with a character set
/// was 30,000 instructions a call).
private func trimmed(_ s: String, _ bytes: String) -> String {
    let drop = Set(bytes.utf8)
    let u = s.utf8
    guard let first = u.firstIndex(where: { !drop.contains($0) }) else { return "" }
    let last = u.lastIndex(where: { !drop.contains($0) })!
    return String(s[first...last])
}

/// A file of a worktree's admin directory (a path or a ref: under a page), as UTF-8, with
/// one open and reads into one buffer; Foundation's file reading cost ten times as much.
private func smallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n < 0 { if errno == EINTR { continue }; return nil }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[..<n])
    }
    return String(validating: bytes, as: UTF8.self)
}
