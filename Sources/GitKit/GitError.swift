import CLibGit2
import Foundation

/// A libgit2 failure in words: what expt was doing, on what, and libgit2's own message.
public struct GitError: Error, CustomStringConvertible, Sendable {
    /// What expt was doing, e.g. "add worktree".
    public var operation: String
    /// What it was doing it to (a branch, a path), if anything.
    public var subject: String?
    /// libgit2's return code (`GIT_ENOTFOUND` = -3, `GIT_EEXISTS` = -4, ...).
    public var code: Int32
    public var message: String
    /// What kind of failure, for callers to match on (never the message text).
    public var reason: Reason

    /// The failures callers handle differently, in the spirit of git2-rs's `ErrorCode`.
    public enum Reason: Sendable, Equatable {
        case notFound, exists
        /// The worktree has uncommitted changes (a merge into it would mix them in).
        case dirtyWorktree
        /// A merge, rebase, cherry-pick, … is in progress there.
        case operationInProgress
        /// A registered worktree's directory is gone.
        case missingWorktree
        case other
    }

    public init(operation: String, subject: String?, code: Int32, message: String, reason: Reason? = nil) {
        self.operation = operation; self.subject = subject; self.code = code; self.message = message
        self.reason = reason ?? (code == GIT_ENOTFOUND.rawValue ? .notFound : code == GIT_EEXISTS.rawValue ? .exists : .other)
    }

    public var description: String {
        let on = subject.map { " '\($0)'" } ?? ""
        return "git: could not \(operation)\(on): \(message)"
    }

    public var isNotFound: Bool { reason == .notFound }
    public var isExists: Bool { reason == .exists }
}

/// Checks a libgit2 return code. `git_error_last` is thread-local and only meaningful right
/// after the failing call, so it is read here at once and then cleared.
@discardableResult
func check(_ rc: Int32, _ operation: String, _ subject: String? = nil) throws -> Int32 {
    guard rc < 0 else { return rc }
    var message = "libgit2 error \(rc)"
    if let err = git_error_last(), let text = err.pointee.message {
        message = String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }
    git_error_clear()
    throw GitError(operation: operation, subject: subject, code: rc, message: message)
}

/// Initialises libgit2 once per process.
enum LibGit2 {
    static let initialized: Bool = {
        git_libgit2_init()
        // libgit2 re-hashes every object it reads and re-checks every object a new tree or
        // commit points to; git does neither. Both cost 10-12% of `expt new` and `expt
        // checkpoint` on 20k files (docs/benchmarks.md), and guard only against corruption
        // that `git fsck` finds anyway.
        _ = expt_git_enable_strict_object_creation(0)
        _ = expt_git_enable_strict_hash_verification(0)
        return true
    }()
    static func ensure() { _ = initialized }
}

