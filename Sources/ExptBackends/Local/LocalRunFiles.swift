import ExptModel
import Foundation

/// The files of one local run directory (`<runs-root>/<run-id>/`), the only channel between
/// `LocalBackend` (in whichever expt process) and the detached supervisor.
struct LocalRunFiles {
    let dir: String

    var spec: String { path("spec.json") }
    var supervisor: String { path("supervisor.json") }
    var status: String { path("status.json") }
    var cancelMarker: String { path("cancel-requested") }
    var stdout: String { path("stdout.log") }
    var stderr: String { path("stderr.log") }
    /// The supervisor's own stdout/stderr: only its own failures land here.
    var supervisorLog: String { path("supervisor.log") }

    private func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    /// Room kept for the last status write: a job that fills the disk must not leave the
    /// supervisor unable to say how it ended (issue 10, R18).
    var statusReserve: String { path("status.json.reserve") }
    static let reserveBytes = 8192

    func readSupervisor() -> SupervisorInfo? { Self.read(SupervisorInfo.self, supervisor) }
    func readStatus() -> LocalExitStatus? {
        if case .ok(let s) = readStatusFile() { return s }
        return nil
    }

    enum StatusFile { case missing, ok(LocalExitStatus), unreadable(String) }

    /// status.json, telling a file that is not there from one that cannot be read: the latter
    /// means the outcome is unknown, never that the supervisor vanished (R30).
    func readStatusFile() -> StatusFile {
        var st = stat()
        guard lstat(status, &st) == 0 else { return .missing }
        guard st.st_mode & S_IFMT == S_IFREG else { return .unreadable("it is not a regular file") }
        guard st.st_size <= 1 << 20 else { return .unreadable("it is \(st.st_size) bytes, not a status") }
        guard let data = FileManager.default.contents(atPath: status) else { return .unreadable(String(cString: strerror(errno))) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return .ok(try decoder.decode(LocalExitStatus.self, from: data)) } catch {
            return .unreadable(data.isEmpty ? "it is empty" : "it is not valid status JSON")
        }
    }

    /// Sets aside `reserveBytes` for the final status (see `writeStatus`).
    func reserveStatusSpace() {
        let fd = open(statusReserve, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let blank = [UInt8](repeating: 0x20, count: Self.reserveBytes)
        _ = blank.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
    }

    /// Writes the final status: atomically as usual, else (no space left) over the reserved
    /// blocks in place, then renamed into place; the reserve is removed either way.
    func writeStatus(_ value: LocalExitStatus) throws {
        do {
            try Self.writeAtomically(value, to: status)
            unlink(statusReserve)
        } catch {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            let data = try encoder.encode(value)
            let fd = open(statusReserve, O_WRONLY | O_CLOEXEC)
            guard fd >= 0, data.count <= Self.reserveBytes else { if fd >= 0 { close(fd) }; throw error }
            let written = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            let ok = written == data.count && ftruncate(fd, off_t(data.count)) == 0 && fsync(fd) == 0
            close(fd)
            guard ok, rename(statusReserve, status) == 0 else { throw error }
        }
    }

    /// True when the filesystem holding the run directory has (almost) no space left.
    func filesystemIsFull() -> Bool { DiskSpace.isFull(at: dir) }

    /// Writes JSON to a temporary file and renames it over `path`, so a reader sees the old
    /// content or the new one, never a partial file.
    static func writeAtomically<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(value)
        let temp = path + ".tmp.\(getpid())"
        do { try data.write(to: URL(fileURLWithPath: temp)) } catch {
            unlink(temp)
            throw error
        }
        guard rename(temp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temp)
            throw ExptError(.failure, "cannot write \(path): \(why)")
        }
    }

    static func read<T: Decodable>(_ type: T.Type, _ path: String) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(type, from: data)
    }

    /// Appends one line to a log file (created if missing), as the job's own writes do.
    static func appendLine(_ line: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The last `lines` lines of a text file, for error messages.
    static func tail(_ path: String, lines: Int = 8) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// `supervisor.json`: who supervises the run. Written before the job starts (without the
/// `job*` fields) and again once it has started.
struct SupervisorInfo: Codable, Equatable {
    var pid: Int32
    /// Field 22 of /proc/<pid>/stat: liveness checks compare it, so pid reuse is detected.
    var startTicks: UInt64
    var pgid: Int32
    var jobPgid: Int32?
    var jobStartTicks: UInt64?
    var startedAt: Date?
    /// "cgroup-v1", "cgroup-v2" or "sampling": how the job's memory limit is enforced.
    var memoryEnforcement: String?
    /// The job's memory cgroup, while it runs.
    var cgroup: String?
    /// The job's limits, copied from spec.json so a poll reads one small file per run.
    var timeLimitSeconds: Int?
    var memoryLimitMB: Int?

    enum CodingKeys: String, CodingKey {
        case pid, pgid, cgroup
        case startTicks = "start_ticks", jobPgid = "job_pgid", jobStartTicks = "job_start_ticks", startedAt = "started_at",
             memoryEnforcement = "memory_enforcement", timeLimitSeconds = "time_limit_seconds", memoryLimitMB = "memory_limit_mb"
    }
}

/// `status.json`: how the job ended, written once by the supervisor as its last act.
struct LocalExitStatus: Codable, Equatable {
    /// The supervisor that wrote it, so a status left by an earlier run in the same directory
    /// is never attributed to a later one.
    var supervisorPid: Int32
    var state: JobState
    /// Slurm-like: COMPLETED, FAILED, OUT_OF_MEMORY, TIMEOUT, CANCELLED.
    var rawState: String
    var reason: String?
    var exitCode: Int32?
    var signal: Int32?
    var startedAt: Date?
    var endedAt: Date
    var maxRSSMB: Int?
    var memoryLimitMB: Int?
    var timeLimitSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case state, reason, signal
        case supervisorPid = "supervisor_pid", rawState = "raw_state", exitCode = "exit_code",
             startedAt = "started_at", endedAt = "ended_at", maxRSSMB = "max_rss_mb",
             memoryLimitMB = "memory_limit_mb", timeLimitSeconds = "time_limit_seconds"
    }
}
