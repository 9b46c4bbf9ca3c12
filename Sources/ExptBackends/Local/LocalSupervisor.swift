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

// Set from a signal handler, so it must be a plain global with a constant initializer (no lazy
// initialisation inside the handler). SIGTERM/SIGINT to the supervisor mean "cancel the job".
nonisolated(unsafe) private var terminationRequested: sig_atomic_t = 0

/// One supervision of one job. Single-threaded: a 100 ms loop does waiting, sampling, limits.
private final class Supervision {
    let files: LocalRunFiles
    let spec: JobSpec
    let grace: Double
    let tick: useconds_t = 100_000
    var jobPid: pid_t = 0
    var maxRSSBytes: Int64 = 0

    init(runDir: String) throws {
        let absolute = runDir.hasPrefix("/") ? runDir : FileManager.default.currentDirectoryPath + "/" + runDir
        files = LocalRunFiles(dir: absolute)
        guard let spec = LocalRunFiles.read(JobSpec.self, files.spec) else {
            throw ExptError(.failure, "cannot read the job spec \(files.spec)")
        }
        self.spec = spec
        grace = ProcessInfo.processInfo.environment["EXPT_LOCAL_KILL_GRACE"].flatMap(Double.init) ?? 10
    }

    func run() throws {
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let onTerminate: @convention(c) (Int32) -> Void = { _ in terminationRequested = 1 }
        signal(SIGTERM, onTerminate)
        signal(SIGINT, onTerminate)

        let me = getpid()
        guard let stat = ProcStat.read(pid: me) else { throw ExptError(.failure, "cannot read /proc/\(me)/stat") }
        var info = SupervisorInfo(pid: me, startTicks: stat.startTicks, pgid: getpgrp())
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
        do {
            jobPid = try Spawn.spawn(["/bin/bash", "-c", spec.command], environment: environment, stdin: "/dev/null",
                                     stdout: files.stdout, stderr: files.stderr, grouping: .newProcessGroup)
        } catch {
            LocalRunFiles.appendLine("expt-local: error: \(error)", to: files.stderr)
            return try finish(.failed, "FAILED", reason: "\(error)", started: nil, wait: nil)
        }
        let started = Date()
        info.jobPgid = jobPid
        info.jobStartTicks = ProcStat.read(pid: jobPid)?.startTicks
        info.startedAt = started
        // Not fatal: the job runs either way, and poll reads a live supervisor from the first write.
        try? LocalRunFiles.writeAtomically(info, to: files.supervisor)

        let (outcome, wait) = supervise()
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

    /// Waits for the job while enforcing limits; returns the limit or cancel that ended it, if
    /// any, and how it exited. Leftover processes (a background `sleep &`) are killed once the
    /// job's main process is gone, as Slurm does at the end of a step.
    private func supervise() -> (Outcome?, WaitResult) {
        let start = DispatchTime.now().uptimeNanoseconds
        let memoryLimit = spec.resources.memoryMB.map { Int64($0) * 1024 * 1024 }
        let timeLimit = spec.resources.timeLimitSeconds
        var outcome: Outcome?
        var killAt: UInt64?
        var status: Int32 = 0
        var usage = rusage()
        var ticks = 0
        var rss: Int64 = 0
        while true {
            let r = wait4(jobPid, &status, WNOHANG, &usage)
            if r == jobPid || (r < 0 && errno == ECHILD) { break }
            let now = DispatchTime.now().uptimeNanoseconds
            // Sampling means reading /proc/<pid>/stat of every process on the machine, so it is
            // paced: every tick when memory is above half its limit (an OOM is near), every
            // 5 ticks below that, every 10 without a limit. Fifty idle supervisors otherwise
            // keep two cores busy (docs/benchmarks.md).
            let near = memoryLimit.map { rss * 2 > $0 } ?? false
            if ticks % (near ? 1 : memoryLimit == nil ? 10 : 5) == 0 {
                rss = ProcFS.rssBytes(members())
                maxRSSBytes = max(maxRSSBytes, rss)
            }
            ticks += 1
            if outcome == nil, let memoryLimit, let limitMB = spec.resources.memoryMB, rss > memoryLimit {
                signalJob(SIGKILL)
                let usedMB = rss / (1024 * 1024)
                LocalRunFiles.appendLine("expt-local: error: Detected 1 oom-kill event(s): job used \(usedMB)M RSS, above its memory limit of \(limitMB)M; killed.", to: files.stderr)
                outcome = (.oom, "OUT_OF_MEMORY", "used \(usedMB)M RSS, above its memory limit of \(limitMB)M")
            } else if outcome == nil, let timeLimit, now - start >= UInt64(timeLimit) * 1_000_000_000 {
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
            usleep(tick)
        }
        if !members().isEmpty { signalJob(SIGKILL) }
        // `cancel` also signals the group directly, so the job may be gone before this loop
        // saw the marker; it was still cancelled, however it exited.
        if outcome == nil, cancelRequested() {
            outcome = (.cancelled, "CANCELLED", terminationRequested != 0 ? "the supervisor was terminated" : "cancelled by request")
        }
        let exited = status & 0x7f == 0
        let wait: WaitResult = (exited ? (status >> 8) & 0xff : nil, exited ? nil : status & 0x7f, usage.ru_maxrss)
        return (outcome, wait)
    }

    /// The job's live processes: its process group, plus the rest of our session when we lead
    /// one (a `setsid` grandchild of the job is out of reach, as it would be under Slurm
    /// without cgroups).
    private func members() -> [ProcStat] {
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
        let rssMB = max(maxRSSBytes / (1024 * 1024), Int64(wait?.maxRSSKB ?? 0) / 1024)
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
