import Foundation

/// A run tracker beside the scheduler (W&B): it names each run's tracker run, links to it,
/// and says what the tracker knows. The core reconciles that with the scheduler's answer; it
/// never names a tracker (ExptTrackers implements this; fakes in tests).
public protocol RunTracker: Sendable {
    /// "wandb".
    var name: String { get }
    /// Equal for trackers that answer alike (same service, project, credentials): runs of
    /// several worktrees share one call when their trackers are the same.
    var identity: String { get }
    /// The variables that link a job to its tracker run: a deterministic run id, a name, the
    /// branch as the group, tags, and resume so a requeued or resumed job continues one run.
    func environment(_ link: TrackerLink) -> [String: String]
    /// The tracker's page of the run, when the tracker can say it without asking.
    func url(runID: String) -> String?
    /// What the tracker knows of these runs, in ONE call for all of them (plus reading the run
    /// directories on this machine). Never throws: a tracker that cannot be asked says why in
    /// `notice` and answers what its files show.
    func fetch(_ runs: [TrackedRun]) -> TrackerSnapshot
    /// Marks a tracker run as failed (a zombie whose job is gone).
    func close(runID: String) throws -> String
    /// Adds a tag to a tracker run (`expt-superseded`).
    func tag(runID: String, _ tag: String) throws
    /// Cancels a sweep (`stop`: lets its active runs finish, starts no new ones).
    func cancelSweep(_ sweep: String, stop: Bool) throws -> String
    /// The argv `cancelSweep` runs, for --dry-run.
    func cancelSweepCommand(_ sweep: String, stop: Bool) -> [String]
}

/// Who a job is, for the tracker's variables.
public struct TrackerLink: Sendable, Equatable {
    public var runID: String
    public var branch: String
    public var attempt: Int
    /// The tracker run to continue (a resumed run keeps its parent's), nil for a new one.
    public var continuing: String?
    public init(runID: String, branch: String, attempt: Int, continuing: String? = nil) {
        self.runID = runID; self.branch = branch; self.attempt = attempt; self.continuing = continuing
    }
}

/// One run to ask the tracker about: its tracker id and where its files may be on this machine.
public struct TrackedRun: Sendable, Equatable {
    public var trackerID: String
    /// Directories that may hold the tracker's run directories (a worktree's `wandb/`).
    public var searchDirs: [String]
    /// Ask the tracker's service too (runs still live or recently ended); false: files only.
    public var online: Bool
    public init(trackerID: String, searchDirs: [String], online: Bool = true) {
        self.trackerID = trackerID; self.searchDirs = searchDirs; self.online = online
    }
}

/// What the tracker knows of one run.
public struct TrackerRun: Codable, Sendable, Equatable {
    public enum Source: String, Codable, Sendable { case api, files }
    public var id: String
    public var source: Source
    /// The tracker's state (`running`, `finished`, `crashed`, `failed`, `killed`, `preempted`,
    /// `pending`); nil when only files were read (offline runs keep it in a binary log).
    public var state: String?
    /// The last heartbeat: the service's, or the newest write in the run's directory.
    public var heartbeatAt: Date?
    public var url: String?
    /// `entity/project/sweep-id` when the run belongs to a sweep.
    public var sweep: String?
    public var tags: [String] = []
    public var step: Int?
    public var epoch: Double?
    /// The last values of the loss, oldest first (NaN kept).
    public var losses: [Double] = []
    /// Targets from the run's config (`max_steps`, `max_epochs`).
    public var totalSteps: Int?
    public var totalEpochs: Int?
    /// The run directories found on this machine, oldest first (a resumed run has several).
    public var directories: [String] = []

    public init(id: String, source: Source, state: String? = nil, heartbeatAt: Date? = nil, url: String? = nil) {
        self.id = id; self.source = source; self.state = state; self.heartbeatAt = heartbeatAt; self.url = url
    }

    /// Still running as far as the tracker knows.
    public var saysRunning: Bool { state == "running" }
    /// Ended well as far as the tracker knows.
    public var saysFinished: Bool { state == "finished" }
    /// Ended badly as far as the tracker knows.
    public var saysEnded: Bool { ["crashed", "failed", "killed", "preempted"].contains(state ?? "") }
}

/// The tracker's answer for a set of runs.
public struct TrackerSnapshot: Sendable, Equatable {
    public var runs: [String: TrackerRun]
    /// Why the service was not asked or did not answer (wandb not installed, not logged in),
    /// said once to the user; nil when it answered.
    public var notice: String?
    /// Per-run problems (a project that does not exist).
    public var errors: [String: String]
    public init(runs: [String: TrackerRun] = [:], notice: String? = nil, errors: [String: String] = [:]) {
        self.runs = runs; self.notice = notice; self.errors = errors
    }
}

/// The `[wandb]` table of expt.toml: where the experiment's runs are tracked. Values left out
/// fall back to `WANDB_ENTITY`/`WANDB_PROJECT`/`WANDB_BASE_URL` and then to `wandb/settings`
/// (ExptTrackers resolves them).
public struct TrackerSettings: Sendable, Equatable {
    public var entity: String?
    public var project: String?
    /// A self-hosted server's base URL (`https://wandb.example.org`).
    public var baseURL: String?
    /// The sweep the branch's runs belong to (`entity/project/id`), when not found from its runs.
    public var sweep: String?
    /// The deadline of every tracker call, in seconds.
    public var timeout: TimeInterval = 20
    /// The Python that has wandb installed (default `python3`).
    public var python: String = "python3"
    /// `[env]` of the experiment, for `WANDB_MODE`, `WANDB_DIR` and the like.
    public var jobEnvironment: [String: String] = [:]
    public init() {}
}
