import ArgumentParser
import Foundation
import ExptModel
import ExptCore
import ExptBackends
import ExptGitHub
import ExptTrackers

/// The `EXPT_*` switches, read once per command (docs/testing.md lists them).
public struct ExptSwitches: Sendable {
    /// Seconds between two delivery attempts of one outbox item by later commands.
    public var outboxBackoff: TimeInterval = 300
    /// The deadline of every external command (sbatch, sacct, ssh, gh, …).
    public var commandTimeout: TimeInterval = SystemProcessRunner.defaultTimeout
    /// Print every external command, its status and duration on stderr.
    public var trace = false

    public init() {}

    public init(_ environment: [String: String]) {
        if let b = environment["EXPT_OUTBOX_BACKOFF"].flatMap(TimeInterval.init), b >= 0 { outboxBackoff = b }
        if let t = environment["EXPT_COMMAND_TIMEOUT"].flatMap(TimeInterval.init), t > 0 { commandTimeout = t }
        trace = ["1", "true", "yes"].contains(environment["EXPT_TRACE"]?.lowercased() ?? "")
    }
}

/// Everything a command may touch outside its arguments, built once: `.live()` in production,
/// fakes in ExptCLITests. Commands never read the process environment, the clock or the
/// terminal themselves.
public struct ExptEnvironment {
    /// The directory the command works from (`-C` overrides it).
    public var directory: String
    public var console: Console
    public var stdinIsTTY: Bool
    public var stdoutIsTTY: Bool
    public var now: @Sendable () -> Date
    public var sleep: @Sendable (TimeInterval) -> Void
    /// Runs every external command: with a deadline, traced under `EXPT_TRACE`.
    public var runner: ProcessRunner
    public var backends: BackendRegistry
    /// This binary: the local backend starts it again as a job's supervisor.
    public var selfExecutable: String
    public var pullRequestHost: PullRequestHostFactory
    public var switches: ExptSwitches
    /// Reads one answer from the terminal (confirmation prompts; only with a TTY).
    public var readLine: () -> String?
    /// Builds the run tracker of a workspace from `[wandb]`; nil: runs are not linked to one.
    public var trackers: (@Sendable (_ repoRoot: String) -> @Sendable (TrackerSettings, String?) -> RunTracker)?

    public init(directory: String, console: Console, stdinIsTTY: Bool, stdoutIsTTY: Bool,
                now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (TimeInterval) -> Void,
                runner: ProcessRunner, backends: BackendRegistry, selfExecutable: String,
                pullRequestHost: @escaping PullRequestHostFactory, switches: ExptSwitches,
                readLine: @escaping () -> String?) {
        self.directory = directory; self.console = console; self.stdinIsTTY = stdinIsTTY; self.stdoutIsTTY = stdoutIsTTY
        self.now = now; self.sleep = sleep; self.runner = runner; self.backends = backends
        self.selfExecutable = selfExecutable; self.pullRequestHost = pullRequestHost; self.switches = switches
        self.readLine = readLine
    }

    /// The real machine: this process's directory, terminal, clock and environment.
    public static func live() -> ExptEnvironment {
        let environment = ProcessInfo.processInfo.environment
        let switches = ExptSwitches(environment)
        let console = Console.standard
        var runner: ProcessRunner = SystemProcessRunner(timeout: switches.commandTimeout)
        if switches.trace { runner = TracingRunner(base: runner) { console.writeErr($0) } }
        let selfExecutable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var env = ExptEnvironment(
            directory: FileManager.default.currentDirectoryPath, console: console,
            stdinIsTTY: isatty(0) == 1, stdoutIsTTY: isatty(1) == 1,
            now: { Date() }, sleep: { Thread.sleep(forTimeInterval: $0) },
            runner: runner, backends: .standard, selfExecutable: selfExecutable,
            pullRequestHost: GitHubHost.factory(runner: runner, environment: environment),
            switches: switches, readLine: { Swift.readLine() })
        env.trackers = { [runner] root in
            { settings, worktree in WandbTracker(settings: settings, repoRoot: root, worktree: worktree, runner: runner, environment: environment) }
        }
        return env
    }

    /// The workspace around the command's directory (`-C` wins).
    func workspace(_ global: GlobalOptions) throws -> Workspace {
        try Workspace(at: global.repo ?? directory)
    }

    /// The run service of the workspace, with this environment's backends, runner and clock.
    func service(_ global: GlobalOptions) throws -> RunService {
        let s = RunService(try workspace(global), registry: backends, runner: runner, selfExecutable: selfExecutable, now: now)
        s.sleep = sleep
        s.trackerFactory = trackers?(s.ws.root)
        return s
    }

    /// A service, after retrying pushes and PR comments still waiting in the outbox (each at
    /// most every `outboxBackoff` seconds): later commands deliver what fix-and-relaunch could not.
    func serviceDeliveringOutbox(_ global: GlobalOptions) throws -> RunService {
        let s = try service(global)
        let delivered = s.retryOutbox(hostFactory: pullRequestHost, backoff: switches.outboxBackoff)
        if delivered > 0 && !global.json { console.note("delivered \(delivered) pending outbox item(s) (`expt outbox --all`)") }
        return s
    }
}

/// A command that runs in an environment. `run()` (what the argument parser calls) builds the
/// live one; tests call `run(in:)` with fakes.
protocol ExptCommand: ParsableCommand {
    func run(in env: ExptEnvironment) throws
}

extension ExptCommand {
    func run() throws { try run(in: .live()) }
}
