/// The `[slurm]` table of expt.toml. Per-run resources (`JobSpec.resources`) override
/// `partition`, `account` and `qos`; everything else applies to every job.
public struct SlurmConfig: Sendable, Equatable {
    /// `--partition` when the run's resources name none.
    public var partition: String?
    /// `--account` when the run's resources name none.
    public var account: String?
    /// `--qos` when the run's resources name none.
    public var qos: String?
    /// Prepended to every Slurm command, e.g. `["ssh", "login1"]`; the command itself is then
    /// passed as one shell-quoted string (see `PrefixedRunner`). Empty: run locally.
    public var execPrefix: [String]
    /// Seconds before the time limit at which Slurm sends SIGUSR1 to the job
    /// (`--signal=B:USR1@N`), so the program can write a checkpoint. nil: no signal.
    public var signalSecondsBeforeLimit: Int?
    /// `--requeue`: let Slurm requeue the job after preemption or node failure.
    public var requeue: Bool
    /// Extra arguments for `sbatch` (e.g. `["--constraint=a100", "--exclusive"]`); they come
    /// before the script on the command line, so they override the script's directives.
    public var extraArgs: [String]
    /// Text of a batch script template overriding the embedded `slurm.sbatch`
    /// (the CLI reads `.expt/templates/slurm.sbatch` when a repo has one).
    public var scriptTemplate: String?

    public init(partition: String? = nil, account: String? = nil, qos: String? = nil,
                execPrefix: [String] = [], signalSecondsBeforeLimit: Int? = nil, requeue: Bool = false,
                extraArgs: [String] = [], scriptTemplate: String? = nil) {
        self.partition = partition; self.account = account; self.qos = qos
        self.execPrefix = execPrefix; self.signalSecondsBeforeLimit = signalSecondsBeforeLimit
        self.requeue = requeue; self.extraArgs = extraArgs; self.scriptTemplate = scriptTemplate
    }

    /// True when commands (and so the log files) live on another host.
    public var isRemote: Bool { !execPrefix.isEmpty }
}
