import Foundation
import ExptModel

/// The Slurm adapter: `sbatch` to submit, ONE `sacct` call (plus at most ONE `squeue` call for
/// the ids sacct does not know yet) to poll any number of jobs, `scancel` to cancel.
///
/// Every command goes through `config.execPrefix` (see `PrefixedRunner`), so the caller passes
/// a plain `SystemProcessRunner()` and the backend reaches the login node itself.
public struct SlurmBackend: Backend {
    public let name = "slurm"
    public let config: SlurmConfig
    let runner: ProcessRunner
    private let memo = Memo()

    public init(runner: ProcessRunner, config: SlurmConfig) {
        self.config = config
        self.runner = config.execPrefix.isEmpty ? runner : PrefixedRunner(prefix: config.execPrefix, base: runner)
    }

    /// True once sacct has said accounting is disabled on this cluster: polls then use squeue
    /// only, which forgets jobs MinJobAge (default 300 s) after they end.
    public var accountingDisabled: Bool { memo.get().disabled }
    /// sacct's last error message when it could not be used, for the caller to show.
    public var accountingProblem: String? { memo.get().problem }

    // MARK: submit

    public func submit(_ spec: JobSpec) throws -> JobRef {
        let script = try SlurmScript.render(spec, config: config)
        let path = SlurmScript.scriptPath(spec)
        do {
            try FileManager.default.createDirectory(atPath: spec.logDir, withIntermediateDirectories: true)
            try script.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw ExptError(.failure, "could not write the batch script \(path): \(error.localizedDescription)")
        }
        let result: ProcessResult
        if config.isRemote {
            // The local copy is not visible on the login node: the script goes through stdin,
            // and the log directory must exist there, since Slurm does not create it.
            _ = try check(call(["mkdir", "-p", spec.logDir]), "mkdir")
            result = try call(["sbatch", "--parsable"] + config.extraArgs, stdin: Data(script.utf8))
        } else {
            result = try call(["sbatch", "--parsable"] + config.extraArgs + [path])
        }
        guard result.status == 0 else {
            throw ExptError(.external, "sbatch refused the job: \(result.stderrTail)",
                            hint: "the batch script is \(path); `sinfo` lists partitions, `sacctmgr show assoc` accounts and QOS")
        }
        return JobRef(backend: name, jobID: try Self.parseSbatch(result.stdout))
    }

    /// `12345` or `12345;cluster` (multi-cluster) → `12345`.
    public static func parseSbatch(_ stdout: String) throws -> String {
        let line = stdout.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
        let id = line.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw ExptError(.external, "could not parse sbatch output: '\(stdout.trimmingCharacters(in: .whitespacesAndNewlines))'")
        }
        return id
    }

    // MARK: poll

    public func poll(_ refs: [JobRef]) throws -> [JobRef: JobStatus] {
        // unique, in order; an id that is not a Slurm job id is simply unknown (no call fails on it)
        var seen = Set<String>(), ids: [String] = []
        for ref in refs where !ref.jobID.isEmpty && ref.jobID.allSatisfy(\.isNumber) && seen.insert(ref.jobID).inserted {
            ids.append(ref.jobID)
        }
        guard !ids.isEmpty else { return [:] }
        var sacct: [SlurmAccounting.Row] = []
        if !memo.get().disabled {
            let r = try call(["sacct", "--parsable2", "--noheader", "--duplicates", "--jobs=" + ids.joined(separator: ","),
                              "--format=" + SlurmAccounting.sacctFields.joined(separator: ",")])
            if r.status == 0 {
                sacct = try SlurmAccounting.sacctRows(r.stdout)
            } else {
                try rejectUnreachable(r, "sacct")
                // no accounting: squeue alone (remembered, so later polls skip sacct)
                let disabled = r.stderr.contains("accounting storage is disabled")
                memo.set(disabled: disabled, problem: r.stderrTail)
            }
        }
        // ONE squeue call for what sacct may not know yet (slurmdbd lags ~1 s behind the
        // controller, and records array tasks one by one): ids it does not show, arrays, jobs
        // still alive, and jobs that ended less than MinJobAge (300 s by default) ago; squeue
        // has forgotten anything older, so old finished jobs cost no squeue call
        let preliminary = SlurmAccounting.assemble(sacct, backend: name)
        let recent = Date().addingTimeInterval(-300)
        let ask = ids.filter { id in
            guard let s = preliminary[id] else { return true }
            return !s.tasks.isEmpty || !s.state.isTerminal || (s.endedAt ?? .distantFuture) > recent
        }
        var squeue: [SlurmAccounting.Row] = []
        if !ask.isEmpty {
            let r = try call(["squeue", "--noheader", "--array", "--states=all", "--jobs=" + ask.joined(separator: ","),
                              "--format=" + SlurmAccounting.squeueFormat])
            if r.status == 0 {
                let wanted = Set(ask)
                squeue = try SlurmAccounting.squeueRows(r.stdout).filter { wanted.contains($0.id.base) }
            } else if !r.stderr.contains("Invalid job id") {   // the answer for one unknown id
                try rejectUnreachable(r, "squeue")
                throw ExptError(.external, "squeue failed: \(r.stderrTail)")
            }
        }
        let found = SlurmAccounting.assemble(sacct, supplement: squeue, backend: name, accounting: !memo.get().disabled)
        var out: [JobRef: JobStatus] = [:]
        for ref in refs {
            guard var status = found[ref.jobID] else { continue }
            status.ref = ref
            out[ref] = status
        }
        return out
    }

    // MARK: cancel, logs, lookup

    /// scancel exits 0 even for ids Slurm never heard of, so the job is looked up first.
    public func cancel(_ ref: JobRef) throws {
        guard let status = try poll([ref])[ref] else {
            throw ExptError(.notFound, "job \(ref.jobID) is not known to Slurm",
                            hint: "it may have ended longer ago than Slurm keeps records, or belong to another cluster")
        }
        guard !status.state.isTerminal else { return }      // already over: nothing to stop
        _ = try check(call(["scancel", ref.jobID]), "scancel")
    }

    public func logs(_ ref: JobRef, spec: JobSpec) -> [LogSource] {
        let remote = config.isRemote
        guard let array = spec.array else {
            return [LogSource(kind: .stdout, path: SlurmScript.stdoutPath(spec), remote: remote),
                    LogSource(kind: .stderr, path: SlurmScript.stderrPath(spec), remote: remote)]
        }
        return array.indices.flatMap { i in
            [LogSource(kind: .stdout, path: SlurmScript.stdoutPath(spec, task: i), remote: remote, task: i),
             LogSource(kind: .stderr, path: SlurmScript.stderrPath(spec, task: i), remote: remote, task: i)]
        }
    }

    /// The newest job with that name: squeue first (fast, knows just-submitted jobs), then
    /// sacct over the last 30 days.
    public func lookup(jobName: String, spec: JobSpec) throws -> JobRef? {
        let q = try call(["squeue", "--noheader", "--states=all", "--name=" + jobName, "--format=%i"])
        try rejectUnreachable(q, "squeue")
        if q.status == 0, let id = Self.lastBaseID(q.stdout) { return JobRef(backend: name, jobID: id) }
        guard !memo.get().disabled else { return nil }
        let a = try call(["sacct", "--parsable2", "--noheader", "--allocations", "--starttime=now-30days",
                          "--name=" + jobName, "--format=JobID"])
        try rejectUnreachable(a, "sacct")
        guard a.status == 0 else { return nil }
        return Self.lastBaseID(a.stdout).map { JobRef(backend: name, jobID: $0) }
    }

    /// The highest base job id among lines of job ids (ids grow over time: newest wins).
    static func lastBaseID(_ text: String) -> String? {
        text.split(separator: "\n").compactMap { SlurmValues.jobID($0.trimmingCharacters(in: .whitespaces))?.base }
            .max { $0.count != $1.count ? $0.count < $1.count : $0 < $1 }
    }

    // MARK: running commands

    func call(_ argv: [String], stdin: Data? = nil) throws -> ProcessResult {
        let r = try runner.run(argv, stdin: stdin, environment: nil, cwd: nil)
        // through a remote shell a missing tool is exit 127, not a failure to start
        if r.status == 127, config.isRemote {
            throw ExptError(.external, "\(argv[0]) is not installed or not on PATH on the host reached by "
                            + "exec_prefix \(ShellQuote.join(config.execPrefix))",
                            hint: "check with: \(ShellQuote.join(config.execPrefix + ["command -v " + argv[0]]))")
        }
        return r
    }

    /// ssh reports its own failures (no route, auth) with exit 255.
    func rejectUnreachable(_ r: ProcessResult, _ tool: String) throws {
        if r.status == 255, config.isRemote {
            throw ExptError(.external, "could not reach the cluster through exec_prefix "
                            + "\(ShellQuote.join(config.execPrefix)): \(r.stderrTail)")
        }
    }

    func check(_ r: ProcessResult, _ tool: String) throws -> ProcessResult {
        try rejectUnreachable(r, tool)
        guard r.status == 0 else { throw ExptError(.external, "\(tool) failed: \(r.stderrTail)") }
        return r
    }
}

/// What the backend learned about sacct, shared by copies of the (value-type) backend.
private final class Memo: @unchecked Sendable {
    /// `disabled` sticks once seen; `problem` is the latest sacct error.
    struct Value { var disabled = false; var problem: String? }
    private let lock = NSLock()
    private var value = Value()
    func get() -> Value { lock.withLock { value } }
    func set(disabled: Bool, problem: String?) {
        lock.withLock { value.disabled = value.disabled || disabled; value.problem = problem }
    }
}

extension SlurmBackend {
    /// Output on the cluster is read through the exec prefix; without one it is a local file.
    public func read(_ source: LogSource, _ range: LogRange) throws -> LogChunk {
        guard source.remote else { return try LocalLogFile.read(source.path, range) }
        return try RemoteLogFile(runner: runner, hostDescription: hostDescription).read(source.path, range)
    }

    /// The job's files are on the cluster when commands go through an exec prefix.
    public var files: ClusterFiles {
        config.isRemote ? RemoteFiles(runner: runner, hostDescription: hostDescription) : LocalFiles()
    }

    var hostDescription: String { "the host reached by exec_prefix \(ShellQuote.join(config.execPrefix))" }

    /// Pending reasons (squeue's REASON) that mean the job cannot start as submitted, as
    /// opposed to waiting its turn (Priority, Resources, …). From Slurm's `job_reason` list.
    static let blockingReasons = ["launch failed", "BadConstraints", "PartitionDown", "PartitionInactive",
                                  "ReqNodeNotAvail", "InvalidAccount", "InvalidQOS", "JobHeldAdmin", "JobHeldUser",
                                  "DependencyNeverSatisfied", "AssocGrp", "QOSGrp", "PartitionConfig", "NodeDown"]

    public func pendingVerdict(reason: String?) -> PendingVerdict {
        guard let reason, let bad = Self.blockingReasons.first(where: { reason.contains($0) }) else { return .waiting }
        return .blocked("Slurm will not start it as submitted (\(bad))")
    }
}

extension SlurmBackend {
    /// The `[slurm]` table of expt.toml; every key is optional.
    public struct Settings: Decodable, Sendable, Equatable {
        public var partition: String?
        public var account: String?
        public var qos: String?
        public var execPrefix: [String]?
        public var signalBeforeLimit: Int?
        public var requeue: Bool?
        public var extraArgs: [String]?
    }

    /// The registry's entry: settings from `[slurm]`, the batch script from the repository's
    /// `.expt/templates/slurm.sbatch` when it has one.
    public static let entry = BackendEntry(name: "slurm", settings: Settings.self) { s, context in
        let script = try context.templates.text("slurm.sbatch")
        return SlurmBackend(runner: context.runner, config: SlurmConfig(
            partition: s.partition, account: s.account, qos: s.qos, execPrefix: s.execPrefix ?? [],
            signalSecondsBeforeLimit: s.signalBeforeLimit, requeue: s.requeue ?? true,
            extraArgs: s.extraArgs ?? [], scriptTemplate: script))
    }
}
