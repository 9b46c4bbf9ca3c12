import Foundation

/// Free space, for naming a full disk as such (an ENOSPC surfaces from libgit2 as "object not
/// found", from a supervisor as a missing status): one threshold for every caller.
public enum DiskSpace {
    /// Below this many free bytes a filesystem counts as full: small writes (a status file,
    /// a commit object) start to fail there.
    public static let fullBelow: UInt64 = 64 << 10

    /// Bytes available to unprivileged writers on the filesystem holding `path`; nil if unknown.
    public static func available(at path: String) -> UInt64? {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return nil }
        return UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
    }

    public static func isFull(at path: String) -> Bool { available(at: path).map { $0 < fullBelow } ?? false }
}
