import Foundation
import GitKit
import ExptModel

/// git's `index.lock` left by a process that died mid-commit (R13): with no live holder, it is
/// moved aside (never deleted) so the commit can go on; with one, the error names it. Called
/// under the branch's writer lock, so no other expt command is committing in that worktree.
enum StaleLocks {
    /// Clears the way for a commit in `repo`. Returns where a stale lock was moved, if any.
    @discardableResult
    static func recoverIndexLock(_ repo: Repository, now: Date = Date()) throws -> String? {
        let lock = repo.gitDir + "/index.lock"
        guard FileManager.default.fileExists(atPath: lock) else { return nil }
        // git and libgit2 keep the lock file open until they rename it into place.
        if let pid = holder(of: lock) {
            throw ExptError(.conflict, "the index of \(repo.workdir) is locked by a running process (pid \(pid)): \(lock)",
                            hint: "wait for that process to finish, then run the command again")
        }
        let aside = lock + ".stale-" + ISO8601.timestamp(now).replacingOccurrences(of: ":", with: "")
        do { try FileManager.default.moveItem(atPath: lock, toPath: aside) } catch {
            throw ExptError(.conflict, "the index of \(repo.workdir) is locked by a process that is gone, and the lock could not be moved aside: \(lock)",
                            hint: "move it away by hand (`mv \(lock) \(lock).stale`), then run the command again")
        }
        return aside
    }

    /// The pid of a process that has `path` open, from /proc/<pid>/fd; nil when none does.
    static func holder(of path: String) -> Int32? {
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry) else { continue }
            for fd in (try? fm.contentsOfDirectory(atPath: "/proc/\(entry)/fd")) ?? [] {
                if (try? fm.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\(fd)")) == path { return pid }
            }
        }
        return nil
    }
}
