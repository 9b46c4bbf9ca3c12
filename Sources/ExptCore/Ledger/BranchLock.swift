#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ExptModel

/// An exclusive per-branch lock so two `expt` commands never launch the same branch at once:
/// a non-blocking `flock` on `<dir>/locks/<branch>.lock`.
///
/// `flock` locks belong to the open file description, so the kernel drops the lock when the
/// holder closes it, exits or is SIGKILLed: a crashed expt never leaves a stale lock, and the
/// file left behind is harmless. The fd is close-on-exec so a job started while holding the
/// lock (the local backend's supervisor) does not inherit and keep it.
public final class BranchLock: @unchecked Sendable {
    public let path: String
    public let branch: String
    private var fd: Int32

    private init(path: String, branch: String, fd: Int32) {
        self.path = path; self.branch = branch; self.fd = fd
    }

    deinit { release() }

    /// `<dir>/locks/<branch>.lock`, with `%` and `/` percent-encoded so distinct branch names
    /// map to distinct files.
    public static func lockPath(dir: String, branch: String) -> String {
        let name = branch.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
        return ((dir as NSString).appendingPathComponent("locks") as NSString).appendingPathComponent(name + ".lock")
    }

    /// The lock one command that writes into a branch's worktree holds (fix-and-relaunch for
    /// its whole flow, checkpoint for its commit): a second writer waits or exits 3 with a clear
    /// message instead of failing on git's own locks (R12, R29). Separate from the launch lock,
    /// which fix-and-relaunch's own launch takes inside it.
    public static func acquireWriter(dir: String, branch: String, doing: String, wait: TimeInterval = 0) throws -> BranchLock {
        let deadline = Date().addingTimeInterval(wait)
        while true {
            do { return try acquire(dir: dir, branch: branch, key: "writer/" + branch, doing: doing) } catch let e as ExptError where e.kind == .conflict {
                guard Date() < deadline else { throw e }
                usleep(100_000)
            }
        }
    }

    /// Takes the lock or throws a `.conflict` naming the holder's pid; never waits.
    public static func acquire(dir: String, branch: String, key: String? = nil, doing: String = "launching") throws -> BranchLock {
        let path = lockPath(dir: dir, branch: key ?? branch)
        let locksDir = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: locksDir, withIntermediateDirectories: true)
        } catch {
            throw ExptError(.failure, "cannot create the lock directory \(locksDir): \(error.localizedDescription)",
                            hint: "check that the repository's git directory is writable")
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let why = String(cString: strerror(errno))
            throw ExptError(.failure, "cannot open the branch lock \(path): \(why)",
                            hint: "check that the repository's git directory is writable")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let err = errno
            let holder = readPID(fd: fd)
            close(fd)
            if err == EWOULDBLOCK {
                let who = holder.map { "held by pid \($0)" } ?? "held by another process"
                throw ExptError(.conflict, "another expt command is already \(doing) \(branch) (lock \(path) \(who))",
                                hint: "wait for it to finish; the lock is released automatically when that process exits")
            }
            throw ExptError(.failure, "cannot lock \(path): \(String(cString: strerror(err)))")
        }
        // Only for the message a second acquirer prints; the flock is what excludes.
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        return BranchLock(path: path, branch: branch, fd: fd)
    }

    /// Releases the lock now (also done on deinit and, by the kernel, on process exit).
    public func release() {
        guard fd >= 0 else { return }
        close(fd)   // closing the only descriptor of the description drops the flock
        fd = -1
    }

    private static func readPID(fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
