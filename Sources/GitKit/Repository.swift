import CLibGit2
import Foundation

/// An open repository (main worktree or linked worktree). Owns its `git_repository*`; every
/// other GitKit type borrows it and hands callers Swift values only.
public final class Repository {
    let pointer: OpaquePointer
    /// expt's object writer in this repository's odb (shim.h), the handle for object batches;
    /// nil where git's environment moves the object directory.
    var objectWriter: UnsafeMutableRawPointer?

    init(pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_repository_free(pointer) }

    /// Opens the repository containing `path` (a worktree root or any subdirectory).
    /// Refuses bare repositories and `extensions.worktreeConfig`, which libgit2 1.5 cannot honour.
    public static func open(at path: String) throws -> Repository {
        LibGit2.ensure()
        var repo: OpaquePointer?
        let rc = git_repository_open_ext(&repo, path, 0, nil)
        if rc == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            throw GitError(operation: "open repository", subject: path, code: rc,
                           message: "not a git repository (or any parent up to /)")
        }
        do { try check(rc, "open repository", path) } catch let error as GitError {
            if error.message.contains("unsupported extension") && error.message.lowercased().contains("worktreeconfig") {
                throw GitError(operation: "open repository", subject: path, code: rc, message: worktreeConfigMessage)
            }
            throw error
        }
        let r = Repository(pointer: repo!)
        // libgit2 only refuses the extension when repositoryformatversion is 1; git honours it
        // either way, so check the setting itself.
        if (try? r.configString("extensions.worktreeConfig"))?.lowercased() == "true" {
            throw GitError(operation: "open repository", subject: path, code: -1, message: worktreeConfigMessage)
        }
        if r.isBare {
            throw GitError(operation: "open repository", subject: path, code: -1,
                           message: "it is a bare repository; expt needs a repository with a working tree")
        }
        // New objects are written as git writes them (shim.h, expt_loose_writer), unless git's
        // environment moves the object directory.
        if ProcessInfo.processInfo.environment["GIT_OBJECT_DIRECTORY"] == nil {
            try check(expt_git_attach_loose_writer(r.pointer, r.commonDir + "/objects", &r.objectWriter), "open object database", path)
        }
        return r
    }

    /// Initialises a new repository (used by tests and the demo).
    public static func create(at path: String, initialBranch: String = "main") throws -> Repository {
        LibGit2.ensure()
        var opts = git_repository_init_options()
        try check(git_repository_init_options_init(&opts, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)), "init repository", path)
        opts.flags = GIT_REPOSITORY_INIT_MKPATH.rawValue
        var repo: OpaquePointer?
        try initialBranch.withCString { head in
            opts.initial_head = head
            try check(git_repository_init_ext(&repo, path, &opts), "init repository", path)
        }
        return Repository(pointer: repo!)
    }

    static let worktreeConfigMessage =
        "it sets extensions.worktreeConfig (per-worktree config), which libgit2 1.5 cannot honour; "
        + "expt refuses rather than silently ignore per-worktree settings "
        + "(remove it with `git config --unset extensions.worktreeConfig` if you do not need it)"

    public var isBare: Bool { git_repository_is_bare(pointer) == 1 }
    /// True when this handle is a linked worktree, not the main one.
    public var isLinkedWorktree: Bool { git_repository_is_worktree(pointer) == 1 }

    /// The working tree root, without a trailing slash.
    public var workdir: String {
        guard let p = git_repository_workdir(pointer) else { return "" }
        return Repository.stripSlash(String(cString: p))
    }
    /// This worktree's own git dir (`.git` or `.git/worktrees/<name>`).
    public var gitDir: String { Repository.stripSlash(String(cString: git_repository_path(pointer))) }
    /// The git dir shared by every worktree: where expt keeps its ledger.
    public var commonDir: String { Repository.stripSlash(String(cString: git_repository_commondir(pointer))) }

    /// The main worktree's root (for a linked worktree, the repository it belongs to).
    public var mainWorkdir: String {
        // The common dir is `<main>/.git` for non-bare repositories.
        (commonDir as NSString).deletingLastPathComponent
    }

    static func stripSlash(_ s: String) -> String {
        s.count > 1 && s.hasSuffix("/") ? String(s.dropLast()) : s
    }

    // MARK: - HEAD

    public var isHeadUnborn: Bool { git_repository_head_unborn(pointer) == 1 }
    public var isHeadDetached: Bool { git_repository_head_detached(pointer) == 1 }

    /// The branch checked out here (short name), nil when HEAD is detached.
    /// For an unborn HEAD, the branch it will create.
    public func currentBranch() throws -> String? {
        if isHeadDetached { return nil }
        var ref: OpaquePointer?
        let rc = git_reference_lookup(&ref, pointer, "HEAD")
        try check(rc, "read HEAD")
        defer { git_reference_free(ref) }
        guard let target = git_reference_symbolic_target(ref) else { return nil }
        let full = String(cString: target)
        return full.hasPrefix("refs/heads/") ? String(full.dropFirst("refs/heads/".count)) : full
    }

    /// The commit HEAD points at; nil for an unborn HEAD.
    public func headCommit() throws -> ObjectID? {
        if isHeadUnborn { return nil }
        var oid = git_oid()
        try check(git_reference_name_to_id(&oid, pointer, "HEAD"), "resolve HEAD")
        return ObjectID(oid)
    }

    /// Resolves any revision (`main`, `HEAD~2`, a sha) to a commit id.
    public func resolveCommit(_ spec: String) throws -> ObjectID {
        var obj: OpaquePointer?
        try check(git_revparse_single(&obj, pointer, spec), "resolve revision", spec)
        defer { git_object_free(obj) }
        var commit: OpaquePointer?
        try check(git_object_peel(&commit, obj, GIT_OBJECT_COMMIT), "resolve revision to a commit", spec)
        defer { git_object_free(commit) }
        return ObjectID(git_commit_id(commit).pointee)
    }

    /// The repository's operation state (merge, rebase, ... in progress); "none" when idle.
    public var pendingOperation: String? {
        let state = git_repository_state(pointer)
        return state == GIT_REPOSITORY_STATE_NONE.rawValue ? nil : "state \(state)"
    }
}
