import Foundation

/// The unified job state every backend maps its scheduler's states onto.
public enum JobState: String, Codable, Sendable, CaseIterable {
    case submitting      // intent recorded, no job id yet (ledger only)
    case pending, running, succeeded, failed, cancelled, timeout, oom, preempted
    case nodeFail = "node_fail"
    case lost            // the ledger thought it was alive; the backend no longer knows it
    /// Still alive on the scheduler but it will not finish by itself (every remaining item is
    /// stuck, e.g. a pod in PodInitializing for longer than the backend's threshold).
    case stalled

    public var isTerminal: Bool {
        switch self {
        case .submitting, .pending, .running, .stalled: return false
        default: return true
        }
    }
    /// What `diagnose` and `fix-and-relaunch` act on: an end that is not a success, or a stall
    /// (fix-and-relaunch stops the stalled job first).
    public var isFailure: Bool { self == .stalled || (isTerminal && self != .succeeded) }
}

/// Resources requested for one run; nil means "backend default".
public struct Resources: Codable, Sendable, Equatable {
    public var memoryMB: Int?
    public var cpus: Int?
    public var gpus: Int?
    public var timeLimitSeconds: Int?
    public var partition: String?
    public var account: String?
    public var qos: String?

    public init(memoryMB: Int? = nil, cpus: Int? = nil, gpus: Int? = nil, timeLimitSeconds: Int? = nil,
                partition: String? = nil, account: String? = nil, qos: String? = nil) {
        self.memoryMB = memoryMB; self.cpus = cpus; self.gpus = gpus
        self.timeLimitSeconds = timeLimitSeconds
        self.partition = partition; self.account = account; self.qos = qos
    }

    /// `other`'s non-nil fields win.
    public func overridden(by other: Resources) -> Resources {
        Resources(memoryMB: other.memoryMB ?? memoryMB, cpus: other.cpus ?? cpus, gpus: other.gpus ?? gpus,
                  timeLimitSeconds: other.timeLimitSeconds ?? timeLimitSeconds,
                  partition: other.partition ?? partition, account: other.account ?? account,
                  qos: other.qos ?? qos)
    }
}

/// An array job (sweep): the task indices to run and how many may run at once.
public struct ArraySpec: Codable, Sendable, Equatable {
    public var indices: [Int]
    public var maxConcurrent: Int?
    public init(indices: [Int], maxConcurrent: Int? = nil) { self.indices = indices; self.maxConcurrent = maxConcurrent }

    /// Slurm's `--array` syntax: "0-9", "1,3,5-7", "0-99%10" (at most 10 at once).
    /// At most this many tasks in one array (and indices below it): a range beyond it is a
    /// typo, not a sweep (R35).
    public static let maxTasks = 1_000_000

    /// Why `parse` refused `text`, in words for an error message.
    public static func problem(_ text: String) -> String {
        // Every number readable (or too long for an Int), one of them at the limit or above.
        let words = (text.split(separator: "%").first ?? "").split(whereSeparator: { !$0.isNumber })
        if words.contains(where: { Int($0).map { $0 >= maxTasks } ?? true }) {
            return "'\(text)' goes above the limit: array indices must be below \(maxTasks)"
        }
        return "'\(text)' is not a range like 0-9, 1,3,5 or 0-99%10"
    }

    public static func parse(_ text: String) -> ArraySpec? {
        let parts = text.split(separator: "%", maxSplits: 1)
        guard let list = parts.first, !list.isEmpty else { return nil }
        var indices: [Int] = []
        for item in list.split(separator: ",") {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            if bounds.count == 1, let i = Int(bounds[0]), i >= 0, i < maxTasks { indices.append(i) }
            else if bounds.count == 2, let a = Int(bounds[0]), let b = Int(bounds[1]), a >= 0, a <= b, b < maxTasks {
                indices.append(contentsOf: a...b)
            } else { return nil }
        }
        var max: Int?
        if parts.count == 2 { guard let m = Int(parts[1]), m > 0 else { return nil }; max = m }
        return ArraySpec(indices: Array(Set(indices)).sorted(), maxConcurrent: max)
    }
}

/// Everything a backend needs to submit one job. Built by the launch workflow.
public struct JobSpec: Codable, Sendable, Equatable {
    public var runID: String          // e.g. "r12"
    public var branch: String
    /// Carries the run id so a launch killed before recording its job id can be reconciled.
    public var jobName: String
    public var workdir: String        // the worktree
    /// The job's command, run by `bash -c` (users write shell in expt.toml). Empty for a
    /// backend that submits a workflow template (`Backend.needsCommand == false`).
    public var command: String
    public var environment: [String: String]
    public var resources: Resources
    /// Where the run's stdout/stderr/status files go: `<common-dir>/expt/runs/<run-id>/`.
    public var logDir: String
    /// The items (tasks) of an array job or a workflow: only these run (a retry of the failed
    /// items names just those).
    public var array: ArraySpec?
    /// Named values about the run (`run_id`, `branch`, `commit`) that a backend may hand to
    /// what it submits; Argo labels its workflows with the run id and branch instead.
    public var parameters: [String: String]
    /// The resource profile the run asked for (`highmem`), for backends that map a profile to
    /// something of their own (an Argo WorkflowTemplate).
    public var profile: String?
    /// The run this one relaunches (fix-and-relaunch): a workflow backend carries its
    /// parameters over.
    public var parentRun: String?

    public init(runID: String, branch: String, jobName: String, workdir: String, command: String,
                environment: [String: String] = [:], resources: Resources = Resources(),
                logDir: String, array: ArraySpec? = nil, parameters: [String: String] = [:]) {
        self.runID = runID; self.branch = branch; self.jobName = jobName; self.workdir = workdir
        self.command = command; self.environment = environment; self.resources = resources
        self.logDir = logDir; self.array = array; self.parameters = parameters
    }

    // A spec recorded by an older expt has no parameters.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        runID = try c.decode(String.self, forKey: .runID)
        branch = try c.decode(String.self, forKey: .branch)
        jobName = try c.decode(String.self, forKey: .jobName)
        workdir = try c.decode(String.self, forKey: .workdir)
        command = try c.decode(String.self, forKey: .command)
        environment = try c.decode([String: String].self, forKey: .environment)
        resources = try c.decode(Resources.self, forKey: .resources)
        logDir = try c.decode(String.self, forKey: .logDir)
        array = try c.decodeIfPresent(ArraySpec.self, forKey: .array)
        parameters = try c.decodeIfPresent([String: String].self, forKey: .parameters) ?? [:]
        profile = try c.decodeIfPresent(String.self, forKey: .profile)
        parentRun = try c.decodeIfPresent(String.self, forKey: .parentRun)
    }

    /// The job name convention: `expt.<run-id>.<branch with / as ->`; the run id is recoverable.
    public static func jobName(runID: String, branch: String) -> String {
        let safe = branch.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "-" }
        return "expt.\(runID).\(String(safe))"
    }
}

/// A submitted job as the backend knows it.
public struct JobRef: Codable, Sendable, Hashable {
    public var backend: String
    public var jobID: String
    public init(backend: String, jobID: String) { self.backend = backend; self.jobID = jobID }
}

/// One task of an array job or workflow.
public struct TaskStatus: Codable, Sendable, Equatable {
    public var index: Int
    public var state: JobState
    public var rawState: String
    public var exitCode: Int32?
    public var message: String?
    public init(index: Int, state: JobState, rawState: String, exitCode: Int32? = nil, message: String? = nil) {
        self.index = index; self.state = state; self.rawState = rawState; self.exitCode = exitCode; self.message = message
    }
}

/// What a poll learned about one job. The raw scheduler state is always kept.
public struct JobStatus: Codable, Sendable, Equatable {
    public var ref: JobRef
    public var state: JobState
    public var rawState: String
    /// Why a pending job waits (`Priority`, `Resources`, ...), or a short note on a failure.
    public var reason: String?
    public var exitCode: Int32?
    public var signal: Int32?
    public var startedAt: Date?
    public var endedAt: Date?
    public var elapsedSeconds: Int?
    public var timeLimitSeconds: Int?
    public var maxRSSMB: Int?
    public var requestedMemoryMB: Int?
    public var tasks: [TaskStatus]

    public init(ref: JobRef, state: JobState, rawState: String, reason: String? = nil,
                exitCode: Int32? = nil, signal: Int32? = nil, startedAt: Date? = nil, endedAt: Date? = nil,
                elapsedSeconds: Int? = nil, timeLimitSeconds: Int? = nil, maxRSSMB: Int? = nil,
                requestedMemoryMB: Int? = nil, tasks: [TaskStatus] = []) {
        self.ref = ref; self.state = state; self.rawState = rawState; self.reason = reason
        self.exitCode = exitCode; self.signal = signal; self.startedAt = startedAt; self.endedAt = endedAt
        self.elapsedSeconds = elapsedSeconds; self.timeLimitSeconds = timeLimitSeconds
        self.maxRSSMB = maxRSSMB; self.requestedMemoryMB = requestedMemoryMB; self.tasks = tasks
    }
}

/// Where a job's output can be read.
public struct LogSource: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case stdout, stderr, combined, wandb }
    public var kind: Kind
    public var path: String
    /// True when the path lives on the cluster and must be read through the exec prefix.
    public var remote: Bool
    /// The array task this output belongs to, nil for a single job.
    public var task: Int?
    public init(kind: Kind, path: String, remote: Bool = false, task: Int? = nil) {
        self.kind = kind; self.path = path; self.remote = remote; self.task = task
    }
}

/// What a backend makes of a pending job's reason: normal waiting, or a job that cannot start
/// as submitted (a bad constraint, a partition that is down), which fix-and-relaunch must not
/// report as "making progress".
public enum PendingVerdict: Sendable, Equatable {
    case waiting
    case blocked(String)
}

/// A scheduler adapter (ExptBackends: local, slurm, …). A backend owns its settings (decoded
/// from its `[name]` table, see `BackendRegistry`), how its output is read, and what its
/// pending reasons mean; the core knows none of them by name.
///
/// Contract: `poll` makes ONE scheduler call (or a fixed few) for all refs; a ref missing from
/// its answer is unknown to the backend (the caller decides whether that means `lost`).
public protocol Backend: Sendable {
    var name: String { get }
    func submit(_ spec: JobSpec) throws -> JobRef
    func poll(_ refs: [JobRef]) throws -> [JobRef: JobStatus]
    func cancel(_ ref: JobRef) throws
    /// Where the job's output is, per task for arrays and workflows.
    func logs(_ ref: JobRef, spec: JobSpec) -> [LogSource]
    /// Reads part of one output. The default reads files of this machine; a backend whose
    /// output lives elsewhere (a login node, a pod) reads it its own way.
    func read(_ source: LogSource, _ range: LogRange) throws -> LogChunk
    /// Finds a job by the name `JobSpec.jobName` gave it (reconciling an interrupted launch).
    func lookup(jobName: String, spec: JobSpec) throws -> JobRef?
    /// What a pending job's `reason` means on this scheduler.
    func pendingVerdict(reason: String?) -> PendingVerdict
    /// False for backends that submit a workflow template instead of a shell command.
    var needsCommand: Bool { get }
    /// Refuses, without side effects and without asking the scheduler, what `submit` would
    /// refuse of this spec by itself (an array on a backend that runs one job), so that
    /// `launch --dry-run` says what the real launch would.
    func check(_ spec: JobSpec) throws
    /// The files the job writes, where they are (this machine, or a host behind an exec prefix):
    /// for per-item done markers and moving partial outputs aside.
    var files: ClusterFiles { get }
    /// Lines a user wants to see about a submission (the pool chosen and why, a web link).
    func notes(_ ref: JobRef, spec: JobSpec) -> [String]
}

extension Backend {
    public func read(_ source: LogSource, _ range: LogRange) throws -> LogChunk {
        try LocalLogFile.read(source.path, range)
    }
    public func pendingVerdict(reason: String?) -> PendingVerdict { .waiting }
    public var needsCommand: Bool { true }
    public func check(_ spec: JobSpec) throws {}
    public var files: ClusterFiles { LocalFiles() }
    public func notes(_ ref: JobRef, spec: JobSpec) -> [String] { [] }
}
