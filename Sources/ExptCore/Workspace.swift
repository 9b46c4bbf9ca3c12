import Foundation
import ExptModel
import GitKit

/// The expt view of one repository, opened from any of its worktrees or subdirectories:
/// where the main worktree is, where experiments' worktrees and docs live, and where the shared
/// state (ledger, run logs) is kept (`<common-dir>/expt`, seen by every worktree).
public final class Workspace {
    /// A handle on the main worktree.
    public let repo: Repository
    /// The main worktree's root.
    public let root: String
    public let commonDir: String
    /// The worktree the command was started in (may be a linked one).
    public let invokedFrom: String

    /// Opens the repository around `path`. Refuses a bare repo, an unborn HEAD and a repo using
    /// `extensions.worktreeConfig`, in words.
    public init(at path: String) throws {
        let here: Repository
        do { here = try Repository.open(at: path) } catch let e as GitError where e.isNotFound && e.operation == "open repository" {
            throw ExptError(.notFound, "\(path) is not inside a git repository",
                            hint: "run expt inside a repository, pass -C <repository>, or create one with `git init` and `expt init`")
        }
        invokedFrom = here.workdir
        repo = here.isLinkedWorktree ? try Repository.open(at: here.mainWorkdir) : here
        root = repo.workdir
        commonDir = repo.commonDir
    }

    /// `<common-dir>/expt`: ledger, run logs, locks.
    public var stateDir: String { commonDir + "/expt" }
    public var runsDir: String { stateDir + "/runs" }

    /// `.worktrees/<branch>` under the main worktree. Branch names are validated by libgit2
    /// before they get here, which rules out `..` and absolute paths, so the path stays inside.
    public func worktreePath(for branch: String) -> String { root + "/.worktrees/" + branch }
    /// The branch doc, relative to a worktree root.
    public func docRelativePath(for branch: String) -> String { "docs/\(branch).md" }

    /// Fails unless HEAD of the main worktree has a commit (expt branches from it).
    public func requireBornHead() throws {
        if repo.isHeadUnborn {
            throw ExptError(.invalidInput, "the repository at \(root) has no commits yet (unborn HEAD)",
                            hint: "make a first commit, e.g. `git commit --allow-empty -m init`, then try again")
        }
    }

    // MARK: - Experiment metadata (git config, shared by all worktrees)

    /// The base an experiment was created from, recorded by `expt new` in
    /// `branch.<name>.exptbase`; nil for branches expt did not create.
    public func base(of branch: String) throws -> String? {
        try repo.configString("branch.\(branch).exptbase")
    }
    /// Commands that write into a branch on the experiment's behalf (checkpoint,
    /// fix-and-relaunch) take experiments only: on the base branch they would sweep unrelated
    /// files into it or half-write a doc it never had (R15). docs/commands.md lists which
    /// commands take any branch.
    public func requireExperiment(_ branch: String, for command: String) throws {
        try requireComplete(branch)
        guard try base(of: branch) == nil else { return }
        throw ExptError(.invalidInput, "\(branch) is not an experiment (it has no recorded base), so `expt \(command)` will not write into it",
                        hint: "start one with `expt new <name>` (it branches from \(branch)), or use git directly on \(branch)")
    }
    public func setBase(_ base: String, of branch: String) throws {
        try repo.setConfigString("branch.\(branch).exptbase", base)
    }

    /// `expt new` records `branch.<name>.exptcreating = <base>` before it creates anything and
    /// removes it once the branch, worktree and base are all there: a creation killed half way
    /// (a checkout of 2,000 of 3,000 files) is recognised, finished by rerunning `new`, and
    /// refused by everything else (R1).
    public func interruptedCreation(of branch: String) throws -> String? {
        try repo.configString("branch.\(branch).exptcreating")
    }
    func markCreating(_ branch: String, base: String) throws {
        try repo.setConfigString("branch.\(branch).exptcreating", base)
    }
    func clearCreating(_ branch: String) throws {
        try repo.deleteConfig("branch.\(branch).exptcreating")
    }
    /// Refuses a branch whose creation was interrupted: its worktree may be missing files,
    /// which a commit would record as deletions.
    public func requireComplete(_ branch: String) throws {
        guard try interruptedCreation(of: branch) != nil else { return }
        throw ExptError(.conflict, "the creation of '\(branch)' was interrupted, so its worktree may be missing files (a commit would record them as deleted)",
                        hint: "run `expt new \(branch)` again: it finishes the creation")
    }

    /// The branch new experiments start from by default: the main worktree's branch.
    public func defaultBase() throws -> String {
        guard let b = try repo.currentBranch() else {
            throw ExptError(.invalidInput, "the main worktree at \(root) has a detached HEAD, so there is no default base branch",
                            hint: "check out a branch there, or pass --from <branch>")
        }
        return b
    }

    /// Every experiment's recorded base, by branch, from one config read.
    public func experimentBases() throws -> [String: String] {
        var bases: [String: String] = [:]
        for e in try repo.configSubsections(section: "branch", key: "exptbase") { bases[e.subsection] = e.value }
        return bases
    }

    /// Local branches that are experiments (have a recorded base), sorted.
    public func experimentBranches() throws -> [String] {
        let bases = try experimentBases()
        return try repo.localBranches().filter { bases[$0] != nil }
    }

    /// Fails with a clear error unless `branch` is a valid, existing local branch.
    public func requireBranch(_ branch: String) throws {
        try validate(branch)
        guard try repo.branchExists(branch) else {
            throw ExptError(.notFound, "there is no branch '\(branch)'",
                            hint: "`expt list` shows the experiments; `expt new \(branch)` creates one")
        }
    }

    /// Validates a branch name through libgit2, as an ExptError naming the rule broken.
    public func validate(_ branch: String) throws {
        do { try Repository.validateBranchName(branch) } catch let e as InvalidBranchName {
            throw ExptError(.invalidInput, e.description, hint: "choose a name like exp/lr-0.1")
        }
    }

    /// A name for a NEW experiment: git's rules, and expt's own (R27, R32). Existing branches
    /// are only held to git's, so no command locks a user out of a branch they have.
    public func validateNew(_ branch: String) throws {
        try validate(branch)
        if let s = branch.unicodeScalars.first(where: SafeText.isInvisible) {
            throw ExptError(.invalidInput, String(format: "'%@' contains the invisible or bidi character U+%04X: it would look like another name in every list", branch, s.value),
                            hint: "choose a name of visible characters, like exp/lr-0.1")
        }
        if branch.utf8.count > Self.maxBranchBytes {
            throw ExptError(.invalidInput, "a branch name may be at most \(Self.maxBranchBytes) bytes (this one has \(branch.utf8.count)): its worktree and its git metadata are named after it, and each must fit a file name",
                            hint: "choose a shorter name")
        }
        // refs/heads/a and refs/heads/a/b cannot both exist: git stores refs as files and folders.
        for other in try repo.localBranches() {
            if branch.hasPrefix(other + "/") {
                throw ExptError(.invalidInput, "the branch \(other) exists, so \(branch) cannot be a branch (git keeps \(other) where \(other)/… would go)",
                                hint: "choose another name, e.g. \(other)-\(branch.dropFirst(other.count + 1).replacingOccurrences(of: "/", with: "-"))")
            }
            if other.hasPrefix(branch + "/") {
                throw ExptError(.invalidInput, "the branch \(other) exists, so \(branch) cannot be a branch (git keeps \(branch)/… as a folder)",
                                hint: "choose another name")
            }
        }
    }

    /// Worktrees live in `.worktrees/`: a file of that name is an error that says so (R28).
    public func requireWorktreesDirectory() throws {
        var isDir: ObjCBool = false
        let dir = root + "/.worktrees"
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), !isDir.boolValue {
            throw ExptError(.conflict, "\(dir) is a file; expt keeps the experiments' worktrees in that directory",
                            hint: "move the file aside (e.g. `mv .worktrees .worktrees.file`), then run the command again")
        }
    }

    /// Long enough for any real name, short enough that `.git/worktrees/<name>` fits NAME_MAX.
    public static let maxBranchBytes = 200
}

/// The branch checked out in the worktree around `path`, nil when detached.
public func currentBranch(at path: String) throws -> String? {
    try Repository.open(at: path).currentBranch()
}
