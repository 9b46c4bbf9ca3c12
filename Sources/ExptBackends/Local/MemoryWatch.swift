#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// How the supervisor keeps a job within its memory limit and learns its peak.
///
/// - `cgroup`: the kernel enforces the limit; the supervisor is woken by the OOM event and
///   samples one small file every 30 s for the RSS figure only.
/// - `sampling` (no cgroup available, or `[local] memory_enforcement = "sampling"`): the
///   supervisor sums the RSS of the job's processes from /proc and kills above the limit.
///   Sampling is paced by headroom: every 100 ms near the limit, every 2 s far below it, every
///   10 s without a limit. A spike shorter than the interval can get past it: that is why the
///   cgroup comes first.
final class MemoryWatch {
    enum Enforcement: String, Sendable {
        case auto, cgroup, sampling
    }

    let cgroup: JobCgroup?
    let limitBytes: Int64?
    /// Largest summed RSS seen by sampling.
    private(set) var peakRSS: Int64 = 0
    private(set) var lastRSS: Int64 = 0
    private var eventFD: Int32 = -1
    private var oomControlFD: Int32 = -1

    /// Why there is no cgroup, for the supervisor's log (nil with one).
    private(set) var fallbackReason: String?

    init(name: String, limitBytes: Int64?, enforcement: Enforcement) {
        self.limitBytes = limitBytes
        var why = "sampling was asked for ([local] memory_enforcement)"
        cgroup = enforcement == .sampling ? nil : JobCgroup.create(name: name, limitBytes: limitBytes, why: &why)
        if cgroup == nil { fallbackReason = why }
    }

    var mode: String { cgroup.map { "cgroup-\($0.version.rawValue)" } ?? "sampling" }

    /// Arranges for `waker` to wake on an OOM kill in the cgroup (v1: an eventfd registered in
    /// cgroup.event_control; v2: memory.events changes).
    func arm(_ waker: SupervisorWaker) {
        guard let cgroup else { return }
        switch cgroup.version {
        case .v1:
            eventFD = Self.eventfd.map { $0(0, O_CLOEXEC | O_NONBLOCK) } ?? -1   // EFD_* equal O_* on Linux
            oomControlFD = open(cgroup.path + "/memory.oom_control", O_RDONLY | O_CLOEXEC)
            if eventFD >= 0, oomControlFD >= 0,
               JobCgroup.write("\(eventFD) \(oomControlFD)", to: cgroup.path + "/cgroup.event_control") {
                waker.watch(fd: eventFD)
            }
        case .v2:
            _ = waker.watchFile(cgroup.path + "/memory.events")
        }
    }

    /// eventfd(2), looked up at run time: Swift's Glibc module does not include sys/eventfd.h.
    private typealias EventFD = @convention(c) (UInt32, Int32) -> Int32
    private static let eventfd: EventFD? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "eventfd") else { return nil }
        return unsafeBitCast(symbol, to: EventFD.self)
    }()

    /// Samples the job's memory now; returns nanoseconds until the next sample is due.
    func sample(members: () -> [ProcStat]) -> UInt64 {
        if let cgroup {
            // Only for the figure in status.json: the kernel enforces the limit and keeps the
            // peak, so a sample every 30 s is plenty (each wake costs an idle supervisor CPU).
            lastRSS = cgroup.rssBytes() ?? 0
            peakRSS = max(peakRSS, lastRSS)
            return 30_000_000_000
        }
        lastRSS = ProcFS.rssBytes(members())
        peakRSS = max(peakRSS, lastRSS)
        return Self.samplingInterval(rss: lastRSS, limit: limitBytes)
    }

    /// The pace of /proc sampling for a job at `rss` under `limit`.
    static func samplingInterval(rss: Int64, limit: Int64?) -> UInt64 {
        guard let limit, limit > 0 else { return 10_000_000_000 }
        switch Double(rss) / Double(limit) {
        case ..<0.25: return 2_000_000_000
        case ..<0.5: return 1_000_000_000
        case ..<0.75: return 300_000_000
        default: return 100_000_000
        }
    }

    /// True once the job is over its limit: the kernel killed in its cgroup, or a sample
    /// went above the limit.
    var limitReached: Bool {
        if let cgroup { return cgroup.oomKills() > 0 }
        guard let limitBytes else { return false }
        return lastRSS > limitBytes
    }

    /// The memory to report: the cgroup's peak charge when the kernel killed (what it
    /// counted against the limit), else the largest sample or `waitMaxRSSKB` (the largest
    /// single process, from wait4, which also counts shared library pages), whichever is larger.
    func reportedPeakBytes(waitMaxRSSKB: Int, oom: Bool) -> Int64 {
        if oom, let peak = cgroup?.peakBytes() { return peak }
        return max(peakRSS, Int64(waitMaxRSSKB) * 1024)
    }

    /// Live pids of the cgroup (nil without one).
    func members() -> [Int32]? { cgroup?.members() }

    func close() {
        if eventFD >= 0 { Glibc.close(eventFD) }
        if oomControlFD >= 0 { Glibc.close(oomControlFD) }
        cgroup?.remove()
    }
}
