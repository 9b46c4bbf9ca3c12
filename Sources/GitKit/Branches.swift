import CLibGit2

/// Why a branch name is refused, in the words of git's ref-name rules.
public struct InvalidBranchName: Error, CustomStringConvertible, Sendable {
    public var name: String
    public var rule: String
    public var description: String {
        "invalid branch name '\(name.debugDescriptionEscaped)': \(rule)"
    }
}

extension String {
    /// The name with control characters made visible, for messages.
    var debugDescriptionEscaped: String {
        String(unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined())
    }
}

extension Repository {
    /// Validates a branch name. libgit2 (`git_branch_name_is_valid`) is the authority; the
    /// explanation names the first of git's rules the name breaks.
    public static func validateBranchName(_ name: String) throws {
        LibGit2.ensure()
        var valid: Int32 = 0
        try check(git_branch_name_is_valid(&valid, name), "validate branch name", name)
        // libgit2 1.5 accepts a leading '-', which git's CLI refuses and which would read as an
        // option to every tool the name is passed to.
        if valid == 1 && !name.hasPrefix("-") && name != "HEAD" { return }
        throw InvalidBranchName(name: name, rule: explainInvalid(name))
    }

    static func explainInvalid(_ name: String) -> String {
        if name.isEmpty { return "a branch name cannot be empty" }
        if name.hasPrefix("-") { return "a branch name cannot start with '-'" }
        if name == "HEAD" { return "'HEAD' is reserved" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            return "a branch name cannot contain control characters"
        }
        if name.contains(" ") { return "a branch name cannot contain spaces" }
        for c in ["~", "^", ":", "?", "*", "[", "\\"] where name.contains(c) {
            return "a branch name cannot contain '\(c)' (none of ~ ^ : ? * [ \\ are allowed)"
        }
        if name.contains("..") { return "a branch name cannot contain '..'" }
        if name.contains("@{") { return "a branch name cannot contain '@{'" }
        if name == "@" { return "'@' alone is not a branch name" }
        if name.hasSuffix(".lock") || name.contains(".lock/") { return "no part of a branch name can end with '.lock'" }
        if name.hasSuffix(".") { return "a branch name cannot end with '.'" }
        if name.hasPrefix("/") || name.hasSuffix("/") || name.contains("//") {
            return "a branch name cannot start or end with '/' or contain '//'"
        }
        if name.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
            return "no part of a branch name can start with '.'"
        }
        return "git does not accept it as a branch name (see `git check-ref-format --help`)"
    }

    /// True when `refs/heads/<name>` exists.
    public func branchExists(_ name: String) throws -> Bool {
        var ref: OpaquePointer?
        let rc = git_branch_lookup(&ref, pointer, name, GIT_BRANCH_LOCAL)
        if rc == GIT_ENOTFOUND.rawValue { git_error_clear(); return false }
        try check(rc, "look up branch", name)
        git_reference_free(ref)
        return true
    }

    /// The commit a local branch points at.
    public func branchTip(_ name: String) throws -> ObjectID {
        var oid = git_oid()
        try check(git_reference_name_to_id(&oid, pointer, "refs/heads/\(name)"), "look up branch", name)
        return ObjectID(oid)
    }

    /// Every local branch name, sorted.
    public func localBranches() throws -> [String] {
        try localBranchTips().map(\.name)
    }

    /// Every local branch with the commit it points at, sorted by name: one pass over the refs
    /// (looking each tip up again by name re-reads its loose ref and stats packed-refs).
    public func localBranchTips() throws -> [(name: String, tip: ObjectID)] {
        if let tips = RefFiles.localBranchTips(commonDir: commonDir) { return tips }
        var iter: OpaquePointer?
        try check(git_branch_iterator_new(&iter, pointer, GIT_BRANCH_LOCAL), "list branches")
        defer { git_branch_iterator_free(iter) }
        var tips: [(name: String, tip: ObjectID)] = []
        var ref: OpaquePointer?
        var type = GIT_BRANCH_LOCAL
        while true {
            let rc = git_branch_next(&ref, &type, iter)
            if rc == GIT_ITEROVER.rawValue { git_error_clear(); break }
            try check(rc, "list branches")
            defer { git_reference_free(ref) }
            var namePtr: UnsafePointer<CChar>?
            // A symbolic branch (rare) has no direct target: resolve it like branchTip does.
            if git_branch_name(&namePtr, ref) == 0, let namePtr {
                let name = String(cString: namePtr)
                if let target = git_reference_target(ref) { tips.append((name, ObjectID(target.pointee))) }
                else { tips.append((name, try branchTip(name))) }
            }
        }
        return tips.sorted { $0.name < $1.name }
    }

    /// Creates `name` at `startPoint` (any revision). Refuses an existing branch.
    @discardableResult
    public func createBranch(_ name: String, at startPoint: String) throws -> ObjectID {
        try Repository.validateBranchName(name)
        if try branchExists(name) {
            throw GitError(operation: "create branch", subject: name, code: GIT_EEXISTS.rawValue,
                           message: "a branch with that name already exists")
        }
        let target = try resolveCommit(startPoint)
        try withCommit(target) { commit in
            var ref: OpaquePointer?
            try check(git_branch_create(&ref, pointer, name, commit, 0), "create branch", name)
            git_reference_free(ref)
        }
        return target
    }

    /// Deletes a local branch (used to undo a half-finished `expt new`).
    public func deleteBranch(_ name: String) throws {
        var ref: OpaquePointer?
        try check(git_branch_lookup(&ref, pointer, name, GIT_BRANCH_LOCAL), "look up branch", name)
        defer { git_reference_free(ref) }
        try check(git_branch_delete(ref), "delete branch", name)
    }

    /// Runs `body` with a borrowed `git_commit*`.
    func withCommit<T>(_ id: ObjectID, _ body: (OpaquePointer) throws -> T) throws -> T {
        var oid = id.raw
        var commit: OpaquePointer?
        try check(git_commit_lookup(&commit, pointer, &oid), "look up commit", id.short)
        defer { git_commit_free(commit) }
        return try body(commit!)
    }

    /// Moves `refs/heads/<branch>` from `expected` to `new`, failing if it moved meanwhile.
    func moveBranch(_ branch: String, from expected: ObjectID, to new: ObjectID, reflog: String) throws {
        var newOid = new.raw
        var oldOid = expected.raw
        var ref: OpaquePointer?
        try check(git_reference_create_matching(&ref, pointer, "refs/heads/\(branch)", &newOid, 1, &oldOid, reflog),
                  "move branch", branch)
        git_reference_free(ref)
    }
}
