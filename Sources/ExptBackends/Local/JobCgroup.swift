#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A memory cgroup of one local job: the kernel enforces the limit (no allocation, however
/// brief, gets past it), counts OOM kills and records the peak, so the supervisor only waits.
/// Where no cgroup can be made (no permission, no memory controller) the supervisor falls back
/// to sampling /proc (`MemorySampler`).
///
/// Three ways in, tried in order (`Placement`):
/// - cgroup v1 (this project's machine, older distributions): a child of the supervisor's own
///   memory cgroup, so the job stays under whatever limits already apply to expt;
/// - cgroup v2 with a writable hierarchy (root, or a delegated subtree): `<mount>/expt/<name>`,
///   because v2's "no internal processes" rule forbids a child of the cgroup we are in;
/// - cgroup v2 through systemd: `systemd-run --user --scope -p MemoryMax=…`, which is how an
///   unprivileged user gets a memory cgroup on current distributions (see `SystemdScope`).
struct JobCgroup {
    enum Version: String { case v1, v2 }
    let path: String
    let version: Version

    var procsFile: String { path + "/cgroup.procs" }

    /// Makes a cgroup named `name` limited to `limitBytes` (or only accounting, when nil).
    /// Nil when this machine gives us none; `why` then says why, for the supervisor's log.
    static func create(name: String, limitBytes: Int64?, why: inout String,
                       mountinfo: String = read("/proc/self/mountinfo"), selfCgroup: String = read("/proc/self/cgroup")) -> JobCgroup? {
        guard let base = CgroupLayout.parent(mountinfo: mountinfo, selfCgroup: selfCgroup) else {
            why = "no memory cgroup hierarchy is mounted"
            return nil
        }
        let dir = base.parent + "/" + name
        removeAbandoned(in: base.parent)
        if base.version == .v2, !base.memoryDelegated {
            // `<mount>/expt` must hand the memory controller down, and so must the root above
            // it; enabling a controller that is already on is harmless.
            _ = mkdir(base.parent, 0o755)
            _ = write("+memory", to: (base.parent as NSString).deletingLastPathComponent + "/cgroup.subtree_control")
            guard write("+memory", to: base.parent + "/cgroup.subtree_control") else {
                why = "cannot enable the memory controller in \(base.parent) (\(String(cString: strerror(errno))))"
                return nil
            }
        }
        guard mkdir(dir, 0o755) == 0 || errno == EEXIST else {
            why = "cannot create \(dir) (\(String(cString: strerror(errno))))"
            return nil
        }
        let group = JobCgroup(path: dir, version: base.version)
        if let limitBytes, !group.limit(limitBytes) {
            why = "cannot set the memory limit in \(dir) (\(String(cString: strerror(errno))))"
            group.remove()
            return nil
        }
        return group
    }

    /// Cgroups left by supervisors that were killed before they could remove theirs (named
    /// `expt-<run>-<supervisor pid>-<start ticks>`): removed once that supervisor is gone and
    /// the cgroup is empty (rmdir refuses a cgroup that still has processes).
    private static func removeAbandoned(in parent: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for name in names where name.hasPrefix("expt-") {
            let parts = name.split(separator: "-")
            guard parts.count >= 4, let pid = Int32(parts[parts.count - 2]), let ticks = UInt64(parts[parts.count - 1]),
                  !ProcFS.isAlive(pid: pid, startTicks: ticks) else { continue }
            _ = rmdir(parent + "/" + name)
        }
    }

    /// Sets the hard limit, with swap counted in it where the kernel can (a job must not page
    /// its way past the limit).
    private func limit(_ bytes: Int64) -> Bool {
        switch version {
        case .v1:
            guard Self.write("\(bytes)", to: path + "/memory.limit_in_bytes") else { return false }
            _ = Self.write("\(bytes)", to: path + "/memory.memsw.limit_in_bytes")   // absent without swap accounting
            return true
        case .v2:
            guard Self.write("\(bytes)", to: path + "/memory.max") else { return false }
            _ = Self.write("0", to: path + "/memory.swap.max")
            return true
        }
    }

    /// Pids in the cgroup: every process of the job, including any that left its process
    /// group or session.
    func members() -> [Int32] {
        Self.read(procsFile).split(separator: "\n").compactMap { Int32($0) }
    }

    /// How many processes the kernel's OOM killer ended in this cgroup.
    func oomKills() -> Int {
        let text = Self.read(path + (version == .v1 ? "/memory.oom_control" : "/memory.events"))
        return CgroupLayout.field("oom_kill", in: text).map(Int.init) ?? 0
    }

    /// The most memory the cgroup was charged at once (v1 `max_usage_in_bytes`, v2
    /// `memory.peak`, kernel ≥ 5.19). It counts page cache too, so it is never below the RSS.
    func peakBytes() -> Int64? {
        Int64(Self.read(path + (version == .v1 ? "/memory.max_usage_in_bytes" : "/memory.peak"))
            .trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Resident anonymous memory now (v1 `total_rss`, v2 `anon`), from one small file read.
    func rssBytes() -> Int64? {
        CgroupLayout.field(version == .v1 ? "total_rss" : "anon", in: Self.read(path + "/memory.stat"))
    }

    /// Removes the (empty) cgroup; a kernel object, not data. Retried briefly because the
    /// kernel lets go of a killed process's charge a moment after it is reaped.
    func remove() {
        for _ in 0..<50 {
            if rmdir(path) == 0 || errno == ENOENT { return }
            usleep(20_000)
        }
    }

    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
    }

    static func read(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            result += buffer[0..<n]
        }
        return String(decoding: result, as: UTF8.self)
    }
}

/// Where a job's cgroup goes, from `/proc/self/mountinfo` and `/proc/self/cgroup` (pure, so
/// the v1, v2 and hybrid layouts are tested on their text).
enum CgroupLayout {
    struct Parent: Equatable {
        var parent: String
        var version: JobCgroup.Version
        /// v2 only: the parent already lists `memory` in its subtree_control.
        var memoryDelegated = false
    }

    /// v1 when a v1 hierarchy has the memory controller (a hybrid system such as this
    /// project's machine keeps memory there, not in the unified tree); else v2 when the
    /// unified hierarchy offers memory.
    static func parent(mountinfo: String, selfCgroup: String,
                       controllers: (String) -> String = { JobCgroup.read($0) }) -> Parent? {
        var v2Mount: String?
        for line in mountinfo.split(separator: "\n") {
            // "<id> <parent> <maj:min> <root> <mount point> <options> <optional…> - <type> <source> <super options>"
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " ").map(String.init)
            let tail = halves[1].split(separator: " ").map(String.init)
            guard fields.count >= 5, let type = tail.first else { continue }
            let root = fields[3], point = unescape(fields[4])
            if type == "cgroup", tail.count >= 3, tail[2].split(separator: ",").contains("memory") {
                guard let own = ownPath(selfCgroup, controller: "memory") else { continue }
                return Parent(parent: join(point, relative(own, to: root)), version: .v1)
            }
            if type == "cgroup2", root == "/" { v2Mount = point }
        }
        guard let mount = v2Mount, controllers(mount + "/cgroup.controllers").split(separator: " ")
            .map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }).contains("memory") else { return nil }
        let top = mount + "/expt"
        return Parent(parent: top, version: .v2, memoryDelegated: controllers(top + "/cgroup.subtree_control").contains("memory"))
    }

    /// Our path in the v1 hierarchy of `controller` (`4:memory:/a/b`).
    static func ownPath(_ selfCgroup: String, controller: String) -> String? {
        for line in selfCgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].split(separator: ",").contains(Substring(controller)) { return String(parts[2]) }
        }
        return nil
    }

    /// A `key value` line of a cgroup stat file.
    static func field(_ key: String, in text: String) -> Int64? {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return Int64(parts[1]) }
        }
        return nil
    }

    private static func relative(_ path: String, to root: String) -> String {
        guard root != "/", path.hasPrefix(root) else { return path }
        return String(path.dropFirst(root.count))
    }

    private static func join(_ a: String, _ b: String) -> String {
        b.isEmpty || b == "/" ? a : a + (b.hasPrefix("/") ? b : "/" + b)
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    private static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
            .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
    }
}
