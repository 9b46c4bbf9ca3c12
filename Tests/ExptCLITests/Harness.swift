import Foundation
import XCTest
import ExptModel
import ExptBackends
import ExptTrackers
import ExptTestSupport
@testable import ExptCLI

/// One repository and the fakes around it, for running expt commands in-process: a strict
/// in-memory backend named `fake`, an in-memory PR host, a fixed clock, captured output.
final class CLIHarness {
    let repo: TempRepo
    let backend = FakeBackend()
    let host = FakePullRequestHost()
    /// The clock every command sees: sleeping moves it, so waits take no time.
    let clock = Clock()
    var stdinIsTTY = false
    /// With W&B fakes: the variables their processes get (`FakeWandb.environment`); every
    /// command's tracker is then the real W&B tracker, talking to the fakes.
    var wandb: FakeWandb?

    init(files: [String: String] = ["README.md": "# test\n", "train.py": "print('hi')\n"]) throws {
        repo = try TempRepo(files: files)
    }

    var path: String { repo.path }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed]) }
        func object() throws -> [String: Any] { try XCTUnwrap(try json() as? [String: Any], stdout) }
    }

    func environment(directory: String? = nil) -> (ExptEnvironment, CapturedOutput) {
        let (console, captured) = Console.capturing()
        let clock = self.clock
        var env = ExptEnvironment(
            directory: directory ?? path, console: console, stdinIsTTY: stdinIsTTY, stdoutIsTTY: false,
            now: { clock.now }, sleep: { clock.advance($0) }, runner: SystemProcessRunner(timeout: 30),
            backends: BackendRegistry([LocalBackend.entry, backend.entry]),
            selfExecutable: "/nonexistent/expt", pullRequestHost: host.factory,
            switches: ExptSwitches(), readLine: { nil })
        if let fake = wandb {
            let runner = RecordingRunner(fake.environment)
            let home = fake.root
            env.trackers = { root in
                { settings, worktree in WandbTracker(settings: settings, repoRoot: root, worktree: worktree, runner: runner, environment: ["HOME": home]) }
            }
        }
        return (env, captured)
    }

    /// Runs `expt <args>` in-process, from `directory` (default: the repository).
    @discardableResult
    func run(_ args: [String], in directory: String? = nil) -> Result {
        let (env, out) = environment(directory: directory)
        let status = Expt.run(arguments: args, in: env)
        return Result(status: status, stdout: out.stdout, stderr: out.stderr)
    }

    /// `expt init`, then expt.toml set to `toml` (backend fake unless it says otherwise), committed.
    func initialize(_ toml: String = "command = \"python3 train.py\"\nbackend = \"fake\"\n") throws {
        let r = run(["init"])
        XCTAssertEqual(r.status, 0, r.stderr)
        try repo.write("expt.toml", toml)
        try repo.git("add", "-A")
        try repo.git("commit", "-qm", "config", "--no-verify")
    }

    /// A new experiment; `toml` (if any) replaces its worktree's expt.toml, committed.
    func experiment(_ branch: String, toml: String? = nil) throws {
        let r = run(["new", branch])
        XCTAssertEqual(r.status, 0, r.stderr)
        if let toml {
            try repo.write("expt.toml", toml, in: worktree(branch))
            XCTAssertEqual(run(["checkpoint", branch, "-m", "config"]).status, 0)
        }
    }

    func worktree(_ branch: String) -> String { path + "/.worktrees/" + branch }

    /// Text with the repository path, commits and dates replaced, for golden files.
    func normalise(_ text: String) -> String {
        // The repository's own commits first: a short id can be all digits, which no pattern
        // can tell from a number.
        var out = text
        let commits = ((try? repo.git("log", "--all", "--format=%H")) ?? "").split(separator: "\n").map(String.init)
        for c in commits where c.count == 40 {
            out = out.replacingOccurrences(of: c, with: "<sha>").replacingOccurrences(of: String(c.prefix(8)), with: "<short-sha>")
        }
        return Golden.normalise(out, paths: [repo.root.path: "<tmp>"])
    }
}

/// A clock that only moves when someone sleeps.
final class Clock: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Date(timeIntervalSince1970: 1_796_000_000)
    var now: Date { lock.withLock { value } }
    func advance(_ seconds: TimeInterval) { lock.withLock { value += seconds } }
}
