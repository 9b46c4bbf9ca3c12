#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import ExptModel
import Foundation

/// The detached wrapper around one local job (`expt __supervise <run-dir>`): starts the job in
/// its own process group, enforces its memory and time limits, honours cancel requests, and
/// writes `status.json` when it ends. It plays the part slurmstepd plays on a cluster, and
/// writes the same kind of lines into the job's stderr so diagnosis rules match both.
public enum LocalSupervisor {
    /// Runs the supervisor for the run directory; returns the process exit status (0 once a
    /// status was recorded, 2 when the run directory is unusable).
    public static func run(runDir: String) -> Int32 {
        do {
            try Supervision(runDir: runDir).run()
            return 0
        } catch {
            FileHandle.standardError.write(Data("expt __supervise: \(error)\n".utf8))
            return 2
        }
    }
}

/// One supervision of one job. Single-threaded and event-driven: it sleeps in one poll(2)
/// until the job exits, a cancel or the kernel's OOM event arrives, or a deadline passes
/// (`SupervisorWaker`), so an idle supervisor costs nothing between events.
private final class Supervision {
    let files: LocalRunFiles
    let spec: JobSpec
    let grace: Double
    let enforcement: MemoryWatch.Enforcement
    var jobPid: pid_t = 0
    var memory: MemoryWatch!

    init(runDir: String) throws {
        let absolute = runDir.hasPrefix("/") ? runDir : FileManager.default.currentDirectoryPath + "/" + runDir
        files = LocalRunFiles(dir: absolute)
        guard let spec = LocalRunFiles.read(JobSpec.self, files.spec) else {
            throw ExptError(.failure, "cannot read the job spec \(files.spec)")
        }
        self.spec = spec
        let environment = ProcessInfo.processInfo.environment
        grace = environment["EXPT_LOCAL_KILL_GRACE"].flatMap(Double.init) ?? 10
        enforcement = environment[LocalBackend.enforcementVariable].flatMap(MemoryWatch.Enforcement.init) ?? .auto
    }

    func run() throws {
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let waker = SupervisorWaker(runDir: files.dir)

        let me = getpid()
        guard let stat = ProcStat.read(pid: me) else { throw ExptError(.failure, "cannot read /proc/\(me)/stat") }
        var info = SupervisorInfo(pid: me, startTicks: stat.startTicks, pgid: getpgrp())
        info.timeLimitSeconds = spec.resources.timeLimitSeconds
        info.memoryLimitMB = spec.resources.memoryMB
        // Written before the job starts: from here on `poll` can tell "alive" from "gone".
        try LocalRunFiles.writeAtomically(info, to: files.supervisor)
        files.reserveStatusSpace()

        if cancelRequested() { return try finish(.cancelled, "CANCELLED", reason: "cancelled before it started", started: nil, wait: nil) }
        guard chdir(spec.workdir) == 0 else {
            let why = "cannot enter the working directory \(spec.workdir): \(String(cString: strerror(errno)))"
            LocalRunFiles.appendLine("expt-local: error: \(why)", to: files.stderr)
            return try finish(.failed, "FAILED", reason: why, started: nil, wait: nil)
        }
        var environment = ProcessInfo.processInfo.environment.merging(spec.environment) { $1 }
        environment["EXPT_RUN_ID"] = spec.runID
        environment["EXPT_RUN_DIR"] = files.dir
        environment["EXPT_BRANCH"] = spec.branch
        environment.removeValue(forKey: LocalBackend.enforcementVariable)
        let limitBytes = spec.resources.memoryMB.map { Int64($0) * 1024 * 1024 }
        memory = MemoryWatch(name: "expt-\(spec.runID)-\(me)-\(stat.startTicks)", limitBytes: limitBytes, enforcement: enforcement)
        if enforcement == .cgroup, let why = memory.fallbackReason {
            let message = "memory_enforcement = \"cgroup\" but no memory cgroup can be made here: \(why)"
            LocalRunFiles.appendLine("expt-local: error: \(message)", to: files.stderr)
            return try finish(.failed, "FAILED", reason: message, started: nil, wait: nil)
        }
        defer { memory.close() }
        info.memoryEnforcement = memory.mode
        info.cgroup = memory.cgroup?.path
        do {
            jobPid = try Spawn.spawn(Self.jobArgv(spec.command, cgroup: memory.cgroup), environment: environment, stdin: "/dev/null",
                                     stdout: files.stdout, stderr: files.stderr, grouping: .newProcessGroup)
        } catch {
            LocalRunFiles.appendLine("expt-local: error: \(error)", to: files.stderr)
            return try finish(.failed, "FAILED", reason: "\(error)", started: nil, wait: nil)
        }
        memory.arm(waker)
        let started = Date()
        info.jobPgid = jobPid
        info.jobStartTicks = ProcStat.read(pid: jobPid)?.startTicks
        info.startedAt = started
        // Not fatal: the job runs either way, and poll reads a live supervisor from the first write.
        try? LocalRunFiles.writeAtomically(info, to: files.supervisor)

        let (outcome, wait) = supervise(waker)
        if let outcome {
            try finish(outcome.state, outcome.raw, reason: outcome.reason, started: started, wait: wait)
        } else if let code = wait.exitCode {
            try finish(code == 0 ? .succeeded : .failed, code == 0 ? "COMPLETED" : "FAILED",
                       reason: code == 0 ? nil : "exit code \(code)", started: started, wait: wait)
        } else {
            let sig = wait.signal ?? 0
            try finish(.failed, "FAILED", reason: "killed by signal \(sig) (\(signalName(sig)))", started: started, wait: wait)
        }
    }

    typealias Outcome = (state: JobState, raw: String, reason: String)
    typealias WaitResult = (exitCode: Int32?, signal: Int32?, maxRSSKB: Int)

    /// The job's argv. In a cgroup, a two-line sh trampoline joins it before exec'ing the job,
    /// so not even the first allocation escapes the limit; the cgroup path and the command are
    /// arguments, never part of the script.
    static func jobArgv(_ command: String, cgroup: JobCgroup?) -> [String] {
        guard let cgroup else { return ["/bin/bash", "-c", command] }
        let trampoline = #"echo $$ > "$0" || echo "expt-local: warning: could not join the memory cgroup $0" >&2; exec "$@""#
        return ["/bin/sh", "-c", trampoline, cgroup.procsFile, "/bin/bash", "-c", command]
    }

    /// Waits for the job while enforcing limits; returns the limit or cancel that ended it, if
    /// any, and how it exited. Leftover processes (a background `sleep &`) are killed once the
    /// job's main process is gone, as Slurm does at the end of a step.
    private func supervise(_ waker: SupervisorWaker) -> (Outcome?, WaitResult) {
        let start = DispatchTime.now().uptimeNanoseconds
        let timeLimit = spec.resources.timeLimitSeconds
        let timeLimitAt = timeLimit.map { start + UInt64($0) * 1_000_000_000 }
        var outcome: Outcome?
        var killAt: UInt64?
        var status: Int32 = 0
        var usage = rusage()
        var nextSample: UInt64 = 0
        while true {
            let r = wait4(jobPid, &status, WNOHANG, &usage)
            if r == jobPid || (r < 0 && errno == ECHILD) { break }
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= nextSample { nextSample = now + memory.sample(members: members) }
            if outcome == nil, memory.limitReached {
                outcome = oomOutcome(waitMaxRSSKB: 0)
            } else if outcome == nil, let timeLimit, let timeLimitAt, now >= timeLimitAt {
                // TERM first, like Slurm's --signal, so the job can write a checkpoint.
                signalJob(SIGTERM)
                LocalRunFiles.appendLine("expt-local: error: *** JOB CANCELLED DUE TO TIME LIMIT (\(Units.durationString(timeLimit))) ***", to: files.stderr)
                outcome = (.timeout, "TIMEOUT", "time limit of \(Units.durationString(timeLimit)) reached")
                killAt = now + UInt64(grace * 1e9)
            } else if outcome == nil, cancelRequested() {
                signalJob(SIGTERM)
                outcome = (.cancelled, "CANCELLED", terminationRequested != 0 ? "the supervisor was terminated" : "cancelled by request")
                killAt = now + UInt64(grace * 1e9)
            }
            if let deadline = killAt, now >= deadline {
                signalJob(SIGKILL)
                killAt = nil
            }
            // Sleep until the next thing that can need us; events wake us sooner.
            var wake = nextSample
            if outcome == nil, let timeLimitAt { wake = min(wake, timeLimitAt) }
            if let killAt { wake = min(wake, killAt) }
            if !waker.watchesFiles { wake = min(wake, now + 1_000_000_000) }
            waker.sleep(until: wake)
        }
        if !members().isEmpty { signalJob(SIGKILL) }
        // `cancel` also signals the group directly, so the job may be gone before this loop
        // saw the marker; it was still cancelled, however it exited. The kernel may have
        // OOM-killed in the cgroup just before the end, too.
        if outcome == nil, cancelRequested() {
            outcome = (.cancelled, "CANCELLED", terminationRequested != 0 ? "the supervisor was terminated" : "cancelled by request")
        } else if outcome == nil, memory.cgroup != nil, memory.limitReached {
            outcome = oomOutcome(waitMaxRSSKB: usage.ru_maxrss)
        }
        let exited = status & 0x7f == 0
        let wait: WaitResult = (exited ? (status >> 8) & 0xff : nil, exited ? nil : status & 0x7f, usage.ru_maxrss)
        return (outcome, wait)
    }

    /// The job went over its memory limit: what is left of it is killed (the kernel killed one
    /// process in a cgroup; sampling kills them all), and the line Slurm writes is appended.
    private func oomOutcome(waitMaxRSSKB: Int) -> Outcome {
        signalJob(SIGKILL)
        let limitMB = spec.resources.memoryMB ?? 0
        let usedMB = memory.reportedPeakBytes(waitMaxRSSKB: waitMaxRSSKB, oom: true) / (1024 * 1024)
        let how = memory.cgroup == nil
            ? "job used \(usedMB)M RSS, above its memory limit of \(limitMB)M; killed."
            : "job reached its memory limit of \(limitMB)M (peak \(usedMB)M) and the kernel killed it."
        LocalRunFiles.appendLine("expt-local: error: Detected 1 oom-kill event(s): \(how)", to: files.stderr)
        let reason = memory.cgroup == nil ? "used \(usedMB)M RSS, above its memory limit of \(limitMB)M"
            : "reached its memory limit of \(limitMB)M (peak \(usedMB)M); the kernel's OOM killer ended it"
        return (.oom, "OUT_OF_MEMORY", reason)
    }

    /// The job's live processes: its process group, plus the rest of our session when we lead
    /// one (a `setsid` grandchild of the job is out of reach, as it would be under Slurm
    /// without cgroups).
    private func members() -> [ProcStat] {
        if let pids = memory?.members() {
            return pids.compactMap { ProcStat.read(pid: $0) }.filter { !$0.isDead }
        }
        let me = getpid()
        let session = getsid(0) == me ? me : -1
        return ProcFS.members(session: session, group: jobPid, excluding: me)
    }

    /// Signals the job's process group, and each member that left the group (a `setsid`
    /// child), once: a second SIGTERM would cut short a handler that is writing a checkpoint.
    private func signalJob(_ signal: Int32) {
        kill(-jobPid, signal)
        for process in members() where process.pgrp != jobPid { kill(process.pid, signal) }
    }

    private func cancelRequested() -> Bool {
        terminationRequested != 0 || FileManager.default.fileExists(atPath: files.cancelMarker)
    }

    private func finish(_ state: JobState, _ raw: String, reason: String?, started: Date?, wait: WaitResult?) throws {
        let rssMB = (memory?.reportedPeakBytes(waitMaxRSSKB: wait?.maxRSSKB ?? 0, oom: state == .oom) ?? 0) / (1024 * 1024)
        var raw = raw, reason = reason
        // A job that failed while its disk is full most likely failed of it, and its own
        // "No space left" may not have reached its log: say so where the diagnosis reads it.
        if state == .failed, files.filesystemIsFull() {
            raw = "DISK_FULL"
            reason = [reason, "the filesystem holding \(files.dir) was full (no space left on device) when the job ended"]
                .compactMap { $0 }.joined(separator: "; ")
        }
        let status = LocalExitStatus(
            supervisorPid: getpid(), state: state, rawState: raw, reason: reason.map { String($0.prefix(1000)) },
            exitCode: wait?.exitCode, signal: wait?.signal, startedAt: started, endedAt: Date(),
            maxRSSMB: wait == nil ? nil : Int(rssMB),
            memoryLimitMB: spec.resources.memoryMB, timeLimitSeconds: spec.resources.timeLimitSeconds)
        // The reserve makes the first try succeed on a full disk; a disk that fails otherwise
        // gets a minute to come back before the run is left for poll to call lost.
        var attempt = 0
        while true {
            do { return try files.writeStatus(status) } catch {
                attempt += 1
                if attempt >= 30 { throw error }
                sleep(2)
            }
        }
    }

    private func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL",
                                      SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL",
                                      SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE", SIGTERM: "SIGTERM"]
        return names[signal] ?? "signal \(signal)"
    }
}
