import Foundation
import XCTest
import ExptModel
import ExptTestSupport
@testable import ExptCLI

/// fix-and-relaunch in-process: the fake backend's OOM, a real push to a local bare remote, the
/// in-memory PR host; golden files for the steps as printed and for the PR comment.
final class FixCommandTests: XCTestCase {
    static let toml = """
    command = "python3 train.py"
    resume_command = "python3 train.py --resume {checkpoint}"
    checkpoint_glob = "checkpoints/*.json"
    backend = "fake"
    [resources]
    mem = "1G"
    [profiles.highmem]
    mem = "4G"
    """
    static let oomStderr = "slurmstepd: error: Detected 1 oom-kill event(s) in StepId=1.batch. Some of your processes may have been killed by the cgroup out-of-memory handler.\n"

    func harness() throws -> CLIHarness { try Self.makeHarness() }

    /// A repository with `toml`, a GitHub `origin` that pushes to a local bare repository, and
    /// experiment `branch` with pull request `pr`.
    static func harnessWithPullRequest(_ toml: String = FixCommandTests.toml, branch: String, pr: Int,
                                       configure: (CLIHarness) -> Void = { _ in }) throws -> CLIHarness {
        let h = try CLIHarness(files: ["train.py": "print('hi')\n", ".gitignore": "checkpoints/\n"])
        configure(h)
        try h.initialize(toml)
        let bare = h.repo.root.appendingPathComponent("origin.git").path
        _ = try Git.run(["init", "-q", "--bare", bare], in: h.repo.root.path)
        try h.repo.git("remote", "add", "origin", "https://github.com/acme/exp.git")
        try h.repo.git("config", "remote.origin.pushurl", bare)
        try h.experiment(branch)
        h.host.addPullRequest(branch: branch, number: pr)
        return h
    }

    static func makeHarness() throws -> CLIHarness {
        let h = try harnessWithPullRequest(branch: "exp/oom", pr: 7)
        h.backend.willSubmit(.init(states: [.oom], exitCode: 137, maxRSSMB: 1020, stdout: "step 5/20 loss 0.2\n", stderr: Self.oomStderr))
        XCTAssertEqual(h.run(["launch", "exp/oom"]).status, 0)
        // A checkpoint the relaunch can resume from.
        try h.repo.write("checkpoints/step-005.json", "{\"step\": 5}\n", in: h.worktree("exp/oom"))
        return h
    }

    func testFixStepsAndPRCommentAsPrinted() throws {
        let h = try harness()
        h.backend.willSubmit(.init(states: [.running], stdout: "resuming from checkpoints/step-005.json\nstep 6/20 loss 0.1\n"))
        let r = h.run(["fix-and-relaunch", "exp/oom", "--yes"])
        XCTAssertEqual(r.status, 0, r.stderr)
        Golden.assert(h.normalise(r.stdout), matches: "fix-and-relaunch-steps.txt")
        let comments = h.host.posted(on: 7)
        XCTAssertEqual(comments.count, 1, "\(h.host.calls)")
        Golden.assert(h.normalise(comments.first ?? ""), matches: "pr-comment.txt")
        let relaunch = try XCTUnwrap(h.backend.submitted.last)
        XCTAssertEqual(relaunch.resources.memoryMB, 4096, "the highmem profile")
        XCTAssertTrue(relaunch.command.contains("--resume") && relaunch.command.contains("step-005.json"), relaunch.command)
        XCTAssertEqual(relaunch.parameters["run_id"], "r2")
    }

    func testDryRunChangesNothingAndCallsNoHost() throws {
        let h = try harness()
        let before = try h.repo.git("rev-parse", "exp/oom")
        let r = h.run(["fix-and-relaunch", "exp/oom", "--dry-run", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try r.object()
        XCTAssertEqual(o["dry_run"] as? Bool, true)
        let steps = try XCTUnwrap(o["steps"] as? [[String: Any]])
        XCTAssertEqual(steps.compactMap { $0["step"] as? String },
                       ["worktree", "diagnose", "plan", "stop", "aside", "doc", "commit", "push", "comment", "launch", "verify"])
        XCTAssertTrue(steps.dropFirst(2).allSatisfy { $0["status"] as? String == "would" }, "\(steps)")
        XCTAssertTrue(o["commit"] is NSNull && o["new_run"] is NSNull, "every key, null when absent")
        XCTAssertEqual(try h.repo.git("rev-parse", "exp/oom"), before)
        XCTAssertEqual(h.host.calls, [])
        XCTAssertEqual(h.backend.submitted.count, 1)
    }

    func testWithoutATerminalItNeedsYes() throws {
        let h = try harness()
        let r = h.run(["fix-and-relaunch", "exp/oom", "--json"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual((try r.object()["error"] as? [String: Any])?["kind"] as? String, "invalid_input")
        XCTAssertEqual(h.backend.submitted.count, 1, "nothing relaunched")
    }

    func testVerifyPollsWithBackoffAndFewSchedulerCalls() throws {
        let h = try harness()
        h.backend.willSubmit(.init(states: [.pending, .pending, .running], reason: "Priority"))
        let before = h.backend.calls.count
        let r = h.run(["fix-and-relaunch", "exp/oom", "--yes", "--no-comment"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let calls = h.backend.calls.dropFirst(before)
        let submitIndex = try XCTUnwrap(calls.firstIndex { $0.hasPrefix("submit") })
        XCTAssertLessThanOrEqual(calls[..<submitIndex].filter { $0.hasPrefix("poll") }.count, 3,
                                 "at most 3 scheduler polls before the relaunch: \(Array(calls))")
    }

    func testRelaunchBlockedByTheSchedulerIsReported() throws {
        let h = try harness()
        h.backend.willSubmit(.init(states: [.pending], reason: "Blocked"))
        let r = h.run(["fix-and-relaunch", "exp/oom", "--yes", "--no-comment", "--wait", "20"])
        XCTAssertNotEqual(r.status, 0, r.stdout)
        XCTAssertTrue(r.stderr.contains("r2") && r.stderr.contains("the fake scheduler will never start it"), r.stderr)
    }
}

/// After the retry budget is spent, fix-and-relaunch stops and asks for a person: a distinct
/// exit code (8, kind needs_person), never another relaunch.
final class RetryBudgetTests: XCTestCase {
    func testThirdFailureStopsAndAsksForAPerson() throws {
        let h = try CLIHarness(files: ["train.py": "print('hi')\n"])
        try h.initialize(FixCommandTests.toml + "\n[retry]\nmax_failures = 3\n")
        try h.experiment("exp/oom")
        let oom = FakeBackend.Script(states: [.oom], exitCode: 137, maxRSSMB: 1020, stderr: FixCommandTests.oomStderr)
        h.backend.willSubmit(oom)
        XCTAssertEqual(h.run(["launch", "exp/oom"]).status, 0)
        // Two fixes whose relaunches start, then run out of memory again.
        var relaunch = oom
        relaunch.states = [.running, .oom]
        for mem in ["8G", "16G"] {
            h.backend.willSubmit(relaunch)
            let r = h.run(["fix-and-relaunch", "exp/oom", "--yes", "--no-push", "--no-comment", "--mem", mem])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let before = h.backend.submitted.count
        let third = h.run(["fix-and-relaunch", "exp/oom", "--yes", "--no-push", "--no-comment", "--json"])
        XCTAssertEqual(third.status, 8, third.stderr)
        let error = try XCTUnwrap(try third.object()["error"] as? [String: Any])
        XCTAssertEqual(error["kind"] as? String, "needs_person")
        XCTAssertTrue((error["message"] as? String ?? "").contains("failure budget is spent: 3 failed runs"), "\(error)")
        XCTAssertTrue((error["hint"] as? String ?? "").contains("a person should look"), "\(error)")
        XCTAssertEqual(h.backend.submitted.count, before, "nothing relaunched")
    }
}
