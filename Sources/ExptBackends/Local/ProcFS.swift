#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What `/proc/<pid>/stat` says about one process (Linux only: the local backend's liveness
/// and memory accounting are built on it).
struct ProcStat: Equatable {
    var pid: Int32
    var state: Character      // R, S, D, Z (zombie), T, X (dead), ...
    var ppid: Int32
    var pgrp: Int32
    var session: Int32
    /// Field 22: start time in clock ticks since boot. With the pid it identifies a process
    /// uniquely over the machine's uptime, so a reused pid is never mistaken for ours.
    var startTicks: UInt64
    var rssPages: Int64

    var isDead: Bool { state == "Z" || state == "X" }

    /// Parses the text of `/proc/<pid>/stat`. The command name (field 2) may contain spaces and
    /// parentheses, so fields are counted from the LAST `)`.
    init?(_ text: String) {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
              let pid = Int32(text[..<open].trimmingCharacters(in: .whitespaces)) else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // rest[0] is field 3 (state); field n is rest[n - 3].
        guard rest.count >= 22, let state = rest[0].first,
              let ppid = Int32(rest[1]), let pgrp = Int32(rest[2]), let session = Int32(rest[3]),
              let start = UInt64(rest[19]), let rss = Int64(rest[21]) else { return nil }
        self.pid = pid; self.state = state; self.ppid = ppid; self.pgrp = pgrp; self.session = session
        self.startTicks = start; self.rssPages = rss
    }

    /// The current stat of `pid`, or nil if there is no such process.
    static func read(pid: Int32) -> ProcStat? {
        // /proc files report size 0: read them with read(2) rather than by size.
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = Glibc.read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        return ProcStat(String(decoding: buffer[0..<n], as: UTF8.self))
    }

    /// Every process visible in /proc (those that exit mid-scan are skipped).
    static func all() -> [ProcStat] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var result: [ProcStat] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if let pid = Int32(name), let stat = read(pid: pid) { result.append(stat) }
        }
        return result
    }
}

/// Liveness and memory queries over /proc used by the supervisor and `LocalBackend.poll`.
enum ProcFS {
    static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
    static let ticksPerSecond = Int64(sysconf(Int32(_SC_CLK_TCK)))

    /// True when `pid` runs and is the very process that had `startTicks` (not a zombie, not a
    /// reused pid).
    static func isAlive(pid: Int32, startTicks: UInt64) -> Bool {
        guard pid > 0, let stat = ProcStat.read(pid: pid) else { return false }
        return !stat.isDead && stat.startTicks == startTicks
    }

    /// Live processes of session `sid` or process group `pgid`, excluding `excluding`: a job's
    /// processes, including any that moved to their own process group.
    static func members(session sid: Int32, group pgid: Int32?, excluding: Int32) -> [ProcStat] {
        ProcStat.all().filter { stat in
            stat.pid != excluding && !stat.isDead && (stat.session == sid || (pgid != nil && stat.pgrp == pgid))
        }
    }

    /// Summed resident memory of `processes`, in bytes. Shared pages count once per process,
    /// as in Slurm's jobacct_gather/linux: slightly pessimistic, never optimistic.
    static func rssBytes(_ processes: [ProcStat]) -> Int64 {
        processes.reduce(0) { $0 + $1.rssPages } * pageSize
    }
}
