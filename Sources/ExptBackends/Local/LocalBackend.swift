#if canImport(Glibc)
import Glibc
#endif
import ExptModel
import Foundation

/// The embedded default backend: each job runs on this machine under a detached supervisor
/// (`expt __supervise <run-dir>`) that outlives the expt command that launched it.
///
/// State lives only in the run directory `<runsRoot>/<run-id>/` (spec.json, supervisor.json,
/// status.json, stdout.log, stderr.log), so any expt process, later, can poll or cancel.
/// Job ids are `<run-id>.<supervisor-pid>`. Linux only (/proc).
public final class LocalBackend: Backend {
    public let name = "local"
    /// The `expt` binary that provides `__supervise`.
    public let supervisorExecutable: String
    /// Run directories are `<runsRoot>/<run-id>`; `JobSpec.logDir` must be that directory.
    public let runsRoot: String
    /// How long `submit` waits for the supervisor to report in.
    public let startTimeout: TimeInterval
    /// `[local] memory_enforcement`: "auto" (a memory cgroup where one can be made, else
    /// sampling), "cgroup" (fail the run without one) or "sampling".
    public let memoryEnforcement: String

    /// How the supervisor learns `memoryEnforcement` (it reads nothing but the run directory
    /// and its environment); removed from the job's environment.
    static let enforcementVariable = "EXPT_LOCAL_MEMORY_ENFORCEMENT"
    public static let enforcementModes = ["auto", "cgroup", "sampling"]

    public init(supervisorExecutable: String, runsRoot: String, startTimeout: TimeInterval = 5,
                memoryEnforcement: String = "auto") {
        self.supervisorExecutable = supervisorExecutable
        self.runsRoot = runsRoot
        self.startTimeout = startTimeout
        self.memoryEnforcement = memoryEnforcement
    }

    /// Starts the supervisor and returns once it has recorded itself (bounded by
    /// `startTimeout`). A supervisor that does not report in is killed, so no untracked job
    /// can start behind an error.
    public func check(_ spec: JobSpec) throws {
        if spec.array != nil {
            throw ExptError(.invalidInput, "the local backend runs one job at a time; \(spec.branch) asks for an array job",
                            hint: "use a cluster backend for sweeps, or launch the tasks one by one")
        }
    }

    public func submit(_ spec: JobSpec) throws -> JobRef {
        try check(spec)
        let files = LocalRunFiles(dir: spec.logDir)
        do {
            try FileManager.default.createDirectory(atPath: files.dir, withIntermediateDirectories: true)
            // A reused run directory (resume) keeps its logs, which are appended to, but not the
            // previous supervisor's state files.
            for stale in [files.status, files.supervisor, files.cancelMarker] { unlink(stale) }
            try LocalRunFiles.writeAtomically(spec, to: files.spec)
        } catch let error as ExptError {
            throw error
        } catch {
            throw ExptError(.failure, "cannot prepare the run directory \(files.dir): \(error.localizedDescription)",
                            hint: "check that the repository's git directory is writable")
        }
        var environment = ProcessInfo.processInfo.environment
        environment[Self.enforcementVariable] = memoryEnforcement
        let pid = try Spawn.spawn([supervisorExecutable, "__supervise", files.dir],
                                  environment: environment, stdin: "/dev/null",
                                  stdout: files.supervisorLog, stderr: files.supervisorLog, grouping: .newSession)
        // The supervisor is our child until we exit; reap it so a finished one does not linger
        // as a zombie in a long-lived process (liveness checks treat zombies as dead anyway).
        Thread.detachNewThread { var status: Int32 = 0; _ = waitpid(pid, &status, 0) }

        let deadline = Date().addingTimeInterval(startTimeout)
        while Date() < deadline {
            if let info = files.readSupervisor(), info.pid == pid {
                return JobRef(backend: name, jobID: "\(spec.runID).\(pid)")
            }
            if ProcStat.read(pid: pid).map({ $0.isDead }) ?? true {
                throw ExptError(.failure, "the local supervisor for \(spec.runID) exited before starting the job:\n"
                                + LocalRunFiles.tail(files.supervisorLog),
                                hint: "check that \(supervisorExecutable) is this expt's binary; its log is \(files.supervisorLog)")
            }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        throw ExptError(.failure, "the local supervisor for \(spec.runID) did not start within \(Int(startTimeout)) s; it was stopped and the job did not run",
                        hint: "the machine may be overloaded; retry the launch")
    }

    /// Status from the run directory: status.json when the job ended, else the supervisor's
    /// liveness (pid + start ticks: a reused pid reads as gone). Refs whose run directory has
    /// no record of that supervisor are left out (unknown to this backend).
    public func poll(_ refs: [JobRef]) throws -> [JobRef: JobStatus] {
        var result: [JobRef: JobStatus] = [:]
        for ref in refs {
            guard let (runID, pid) = Self.parse(ref.jobID) else { continue }
            let files = runFiles(runID)
            if let status = files.readStatus(), status.supervisorPid == pid {
                result[ref] = Self.jobStatus(ref, status)
                continue
            }
            guard let info = files.readSupervisor(), info.pid == pid else { continue }
            if ProcFS.isAlive(pid: info.pid, startTicks: info.startTicks) {
                let started = info.jobPgid != nil
                result[ref] = JobStatus(
                    ref: ref, state: started ? .running : .pending, rawState: started ? "RUNNING" : "STARTING",
                    startedAt: info.startedAt, elapsedSeconds: info.startedAt.map { Int(Date().timeIntervalSince($0)) },
                    timeLimitSeconds: info.timeLimitSeconds, requestedMemoryMB: info.memoryLimitMB)
                continue
            }
            let spec = LocalRunFiles.read(JobSpec.self, files.spec)
            // It may have written its status and exited between the two reads above.
            if let status = files.readStatus(), status.supervisorPid == pid {
                result[ref] = Self.jobStatus(ref, status)
                continue
            }
            var raw = "SUPERVISOR_GONE", reason = "the supervisor process is gone and left no exit status"
            if case .unreadable(let why) = files.readStatusFile() {
                // The outcome is unknown, not lost to a node: never a retryable failure (R30).
                raw = "STATUS_UNREADABLE"
                reason = "status.json of \(runID) is unreadable (\(why)): the run's outcome is unknown"
            } else if files.filesystemIsFull() {
                raw = "DISK_FULL"
                reason = "the supervisor could not record how the job ended: the filesystem holding \(files.dir) is full (no space left on device)"
            }
            if jobStillRuns(info) { reason += "; the job's processes are still running (cancel it to stop them)" }
            result[ref] = JobStatus(ref: ref, state: .lost, rawState: raw, reason: reason,
                                    startedAt: info.startedAt, timeLimitSeconds: spec?.resources.timeLimitSeconds,
                                    requestedMemoryMB: spec?.resources.memoryMB)
        }
        return result
    }

    /// Asks the supervisor to cancel: a `cancel-requested` marker (which wakes it through
    /// inotify; it then escalates TERM → KILL after the grace) plus an immediate SIGTERM to
    /// the job's process group. A finished job is left alone. If the supervisor is gone but
    /// the job's processes remain, they are killed directly.
    public func cancel(_ ref: JobRef) throws {
        guard let (runID, pid) = Self.parse(ref.jobID) else {
            throw ExptError(.invalidInput, "\(ref.jobID) is not a local job id (expected <run-id>.<pid>)")
        }
        let files = runFiles(runID)
        if let status = files.readStatus(), status.supervisorPid == pid { return }   // already over
        guard let info = files.readSupervisor(), info.pid == pid else {
            throw ExptError(.notFound, "no local job \(ref.jobID): \(files.dir) has no record of supervisor \(pid)",
                            hint: "`expt status` shows the runs expt knows")
        }
        guard FileManager.default.createFile(atPath: files.cancelMarker, contents: Data("requested by pid \(getpid())\n".utf8)) else {
            throw ExptError(.failure, "cannot write the cancel request \(files.cancelMarker)",
                            hint: "check that \(files.dir) is writable")
        }
        if ProcFS.isAlive(pid: info.pid, startTicks: info.startTicks) {
            if let group = info.jobPgid, jobStillRuns(info) { kill(-group, SIGTERM) }
        } else if let group = info.jobPgid, jobStillRuns(info) {
            kill(-group, SIGKILL)
        }
    }

    public func logs(_ ref: JobRef, spec: JobSpec) -> [LogSource] {
        let files = LocalRunFiles(dir: spec.logDir)
        return [LogSource(kind: .stdout, path: files.stdout), LogSource(kind: .stderr, path: files.stderr)]
    }

    /// The ref of the supervisor recorded in `spec.logDir`, if one ever started there.
    public func lookup(jobName: String, spec: JobSpec) throws -> JobRef? {
        guard let info = LocalRunFiles(dir: spec.logDir).readSupervisor() else { return nil }
        return JobRef(backend: name, jobID: "\(spec.runID).\(info.pid)")
    }

    // MARK: - Helpers

    private func runFiles(_ runID: String) -> LocalRunFiles {
        LocalRunFiles(dir: (runsRoot as NSString).appendingPathComponent(runID))
    }

    /// `r12.4242` → ("r12", 4242). The pid follows the last dot.
    static func parse(_ jobID: String) -> (runID: String, pid: Int32)? {
        guard let dot = jobID.lastIndex(of: "."), let pid = Int32(jobID[jobID.index(after: dot)...]), pid > 0 else { return nil }
        let runID = String(jobID[..<dot])
        return runID.isEmpty || runID.contains("/") || runID == ".." ? nil : (runID, pid)
    }

    /// True when the job's leader is the process the supervisor started (start ticks match).
    private func jobStillRuns(_ info: SupervisorInfo) -> Bool {
        guard let group = info.jobPgid, let ticks = info.jobStartTicks else { return false }
        return ProcFS.isAlive(pid: group, startTicks: ticks)
    }

    static func jobStatus(_ ref: JobRef, _ status: LocalExitStatus) -> JobStatus {
        JobStatus(ref: ref, state: status.state, rawState: status.rawState, reason: status.reason,
                  exitCode: status.exitCode, signal: status.signal, startedAt: status.startedAt, endedAt: status.endedAt,
                  elapsedSeconds: status.startedAt.map { Int(status.endedAt.timeIntervalSince($0)) },
                  timeLimitSeconds: status.timeLimitSeconds, maxRSSMB: status.maxRSSMB,
                  requestedMemoryMB: status.memoryLimitMB)
    }
}

extension LocalBackend {
    /// The `[local]` table; any other key in it is reported as unknown.
    public struct Settings: Decodable, Sendable {
        public var memoryEnforcement: String?
    }

    public static let entry = BackendEntry(name: "local", settings: Settings.self) { s, context in
        let mode = s.memoryEnforcement ?? "auto"
        guard enforcementModes.contains(mode) else {
            throw ExptError(.invalidInput, "[local] memory_enforcement = \"\(mode)\" is not a mode expt knows",
                            hint: "use one of \(enforcementModes.map { "\"\($0)\"" }.joined(separator: ", ")) (docs/backends/local.md)")
        }
        return LocalBackend(supervisorExecutable: context.selfExecutable, runsRoot: context.runsDir, memoryEnforcement: mode)
    }
}
