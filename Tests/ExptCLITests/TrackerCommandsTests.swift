import Foundation
import XCTest
import ExptModel
import ExptTestSupport
@testable import ExptCLI

/// W&B beside the scheduler, in-process: the fake backend plays the scheduler (it can preempt),
/// the real W&B tracker talks to the strict fake `wandb` module. Scenarios: an incomplete
/// "finished" run after a preemption, a hang seen by its heartbeat, the report, and
/// fix-and-relaunch's W&B link, superseded tag, resume that keeps the W&B run id and early metrics.
final class TrackerCommandsTests: XCTestCase {
    static let toml = FixCommandTests.toml + """

    [wandb]
    entity = "lab"
    project = "traits"
    """

    var fake: FakeWandb!

    override func setUpWithError() throws {
        fake = try FakeWandb()
        addTeardownBlock { [fake] in XCTAssertEqual(fake?.unexpectedCalls().count ?? 0, 0, "\(fake?.unexpectedCalls() ?? [])") }
    }

    func harness(_ toml: String = TrackerCommandsTests.toml) throws -> CLIHarness {
        let h = try CLIHarness()
        h.wandb = fake
        try h.initialize(toml)
        try h.experiment("exp/a")
        return h
    }

    /// The W&B run id the launch gave the job.
    func wandbID(_ h: CLIHarness, _ run: Int = 0) throws -> String {
        try XCTUnwrap(h.backend.submitted[run].environment["WANDB_RUN_ID"])
    }

    func setRun(_ id: String, _ fields: [String: Any]) throws {
        var runs = fake.scenario["runs"] as? [String: Any] ?? [:]
        runs["lab/traits/" + id] = fields
        fake.scenario["runs"] = runs
        try fake.write()
    }

    func status(_ h: CLIHarness) throws -> [String: Any] {
        let r = h.run(["status", "exp/a", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap((try r.json() as? [[String: Any]])?.last)
    }

    func testTheLaunchLinksTheJobAndStatusShowsTheLink() throws {
        let h = try harness()
        h.backend.willSubmit(.init(states: [.running], stdout: "epoch 1/4 step 50/200 loss 0.9\n"))
        let launch = h.run(["launch", "exp/a"])
        XCTAssertEqual(launch.status, 0, launch.stderr)
        let id = try wandbID(h)
        let env = h.backend.submitted[0].environment
        XCTAssertEqual(env["WANDB_RUN_GROUP"], "exp/a")
        XCTAssertEqual(env["WANDB_PROJECT"], "traits")
        XCTAssertEqual(env["WANDB_RESUME"], "allow")
        XCTAssertTrue(launch.stdout.contains("wandb: run \(id) https://wandb.ai/lab/traits/runs/\(id)"), launch.stdout)
        try setRun(id, ["state": "running", "heartbeatAt": ISO8601.timestamp(h.clock.now), "summary": ["_step": 60, "epoch": 1, "loss": 0.8],
                        "config": ["max_steps": 200], "history": [["_step": 0, "loss": 1.2], ["_step": 30, "loss": 1.0], ["_step": 60, "loss": 0.8]]])
        let row = try status(h)
        let w = try XCTUnwrap(row["wandb"] as? [String: Any])
        XCTAssertEqual(w["url"] as? String, "https://wandb.ai/lab/traits/runs/\(id)")
        XCTAssertEqual(w["state"] as? String, "running")
        XCTAssertEqual(w["source"] as? String, "api")
        XCTAssertEqual(row["progress"] as? String, "epoch 1/4, step 60/200 (30%), loss ↓", "W&B's summary and history win over the log (its total of epochs from the log)")
        XCTAssertEqual((row["discrepancies"] as? [Any])?.count, 0)
        let text = h.run(["status"]).stdout
        XCTAssertTrue(text.contains("r1 W&B: https://wandb.ai/lab/traits/runs/\(id) [running]"), text)
    }

    func testFinishedInWandbAfterAPreemptionIsIncompleteNeverSuccess() throws {
        let h = try harness()
        h.backend.willSubmit(.init(states: [.running, .preempted], stdout: "step 120/3000 loss 0.5\n"))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        try setRun(try wandbID(h), ["state": "finished", "summary": ["_step": 120]])
        _ = try status(h)
        let row = try status(h)
        XCTAssertEqual(row["state"] as? String, "preempted", "the scheduler's word stands")
        let d = try XCTUnwrap((row["discrepancies"] as? [[String: Any]])?.first)
        XCTAssertEqual(d["kind"] as? String, "incomplete")
        XCTAssertEqual(d["detail"] as? String, "W&B says finished, but the scheduler says preempted: the run is incomplete, not a success")
        let text = h.run(["status", "exp/a"]).stdout
        XCTAssertTrue(text.contains("r1 incomplete: W&B says finished, but the scheduler says preempted"), text)
    }

    /// The promise of the README: a user who already logs to W&B adds two lines.
    func testTwoLinesLinkRunsWhenWandbSettingsNameTheEntity() throws {
        let h = try harness(FixCommandTests.toml + "\n[wandb]\nproject = \"traits\"\n")
        try FileManager.default.createDirectory(atPath: h.path + "/wandb", withIntermediateDirectories: true)
        try "[default]\nentity = lab\n".write(toFile: h.path + "/wandb/settings", atomically: true, encoding: .utf8)
        h.backend.willSubmit(.init(states: [.running], stdout: "step 1/10\n"))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        let id = try wandbID(h)
        XCTAssertEqual(h.backend.submitted[0].environment["WANDB_ENTITY"], "lab", "from wandb/settings, as wandb reads it")
        try setRun(id, ["state": "running", "heartbeatAt": ISO8601.timestamp(h.clock.now)])
        let text = h.run(["status"]).stdout
        XCTAssertTrue(text.contains("r1 W&B: https://wandb.ai/lab/traits/runs/\(id) [running]"), text)
    }

    func testCrashedInWandbWhileTheJobRunsIsAStaleTracker() throws {
        let h = try harness()
        h.backend.willSubmit(.init(states: [.running], stdout: "step 10/100\n"))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        try setRun(try wandbID(h), ["state": "crashed", "heartbeatAt": ISO8601.timestamp(h.clock.now.addingTimeInterval(-600))])
        let d = try XCTUnwrap((try status(h)["discrepancies"] as? [[String: Any]])?.first)
        XCTAssertEqual(d["kind"] as? String, "stale_tracker")
        XCTAssertTrue((d["detail"] as? String ?? "").hasPrefix("W&B says crashed, but job fake-1 is still running"), "\(d)")
    }

    func testASuccessFarShortOfItsStepsIsAFalseSuccess() throws {
        let h = try harness()
        h.backend.willSubmit(.init(states: [.succeeded], exitCode: 0, stdout: "step 40/3000 loss 2.1\nDone.\n"))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        try setRun(try wandbID(h), ["state": "finished", "summary": ["_step": 40], "config": ["max_steps": 3000]])
        let row = try status(h)
        XCTAssertEqual(row["state"] as? String, "succeeded")
        let d = try XCTUnwrap((row["discrepancies"] as? [[String: Any]])?.first)
        XCTAssertEqual(d["kind"] as? String, "false_success")
        XCTAssertEqual(d["detail"] as? String, "it ended at step 40 of 3000 (under 50% of the target)")
    }

    func testThePRCommentCarriesTheWandbLinks() throws {
        let h = try FixCommandTests.harnessWithPullRequest(Self.toml, branch: "exp/a", pr: 9) { [fake] in $0.wandb = fake }
        h.backend.willSubmit(.init(states: [.oom], exitCode: 137, maxRSSMB: 1020, stdout: "step 5/20 loss 0.2\n", stderr: FixCommandTests.oomStderr))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        let first = try wandbID(h)
        try setRun(first, ["state": "crashed", "tags": []])
        h.backend.willSubmit(.init(states: [.running], stdout: "step 1/20\n"))
        XCTAssertEqual(h.run(["fix-and-relaunch", "exp/a", "--yes"]).status, 0)
        let comment = try XCTUnwrap(h.host.posted(on: 9).first)
        XCTAssertTrue(comment.contains("**W&B:** r1 https://wandb.ai/lab/traits/runs/\(first); r2 https://wandb.ai/lab/traits/runs/\(try wandbID(h, 1))"), comment)
    }

    func testAHangIsStalledByItsHeartbeatWithTheLastLine() throws {
        let h = try harness(Self.toml.replacingOccurrences(of: "[wandb]", with: "[run]\nstall_after = \"30m\"\n[wandb]"))
        h.backend.willSubmit(.init(states: [.running], stdout: "step 400/1000\nNCCL INFO Channel 00 : 3[3] -> 0[0] via P2P/IPC\n"))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        try setRun(try wandbID(h), ["state": "running", "heartbeatAt": ISO8601.timestamp(h.clock.now.addingTimeInterval(-3 * 3600)),
                                    "summary": ["_step": 400]])
        let d = try XCTUnwrap((try status(h)["discrepancies"] as? [[String: Any]])?.first)
        XCTAssertEqual(d["kind"] as? String, "stalled")
        XCTAssertEqual(d["detail"] as? String, "no W&B heartbeat and no new log line for 3h00m (stall_after 30m00s): hung collectives (NCCL) look like this")
        XCTAssertEqual(d["last_line"] as? String, "NCCL INFO Channel 00 : 3[3] -> 0[0] via P2P/IPC")
        // watch says it once, as a warning line.
        h.backend.allowCancel = true
        let watch = h.run(["watch", "exp/a", "--max-duration", "0", "--json"])
        let warnings = watch.stdout.split(separator: "\n").filter { $0.contains("\"warning\":\"stalled\"") }
        XCTAssertEqual(warnings.count, 1, watch.stdout)
    }

    func testNotLoggedInDegradesToTheLogAndSaysSoOnce() throws {
        let h = try harness()
        fake.scenario["logged_in"] = false
        try fake.write()
        h.backend.willSubmit(.init(states: [.running], stdout: "step 5/10\n"))
        h.backend.willSubmit(.init(states: [.running], stdout: "step 7/10\n"))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        XCTAssertEqual(h.run(["launch", "exp/a", "--allow-concurrent"]).status, 0)
        let r = h.run(["status", "--all"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "W&B: not logged in").count - 1, 1, r.stderr)
        XCTAssertTrue(r.stdout.contains("step 5/10 (50%)") && r.stdout.contains("step 7/10 (70%)"), r.stdout)
    }

    func testTheReportAsPrinted() throws {
        let h = try harness()
        try h.experiment("exp/b")
        h.backend.willSubmit(.init(states: [.running], stdout: "epoch 2/10 step 340/1000 loss 0.4\n"))
        h.backend.willSubmit(.init(states: [.preempted], stdout: "step 10/100\n"))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        XCTAssertEqual(h.run(["launch", "exp/b"]).status, 0)
        try setRun(try wandbID(h, 0), ["state": "running", "heartbeatAt": ISO8601.timestamp(h.clock.now)])
        try setRun(try wandbID(h, 1), ["state": "finished"])
        let r = h.run(["report"])
        XCTAssertEqual(r.status, 0, r.stderr)
        Golden.assert(h.normalise(r.stdout.replacingOccurrences(of: try wandbID(h, 0), with: "<wandb-a>")
                                   .replacingOccurrences(of: try wandbID(h, 1), with: "<wandb-b>")), matches: "report.md")
        let out = h.run(["report", "--output", "docs/status.md"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(try String(contentsOfFile: h.path + "/docs/status.md", encoding: .utf8), r.stdout.hasSuffix("\n") ? r.stdout : r.stdout + "\n")
        let outside = h.run(["report", "--output", "../elsewhere.md"])
        XCTAssertEqual(outside.status, 2, "a report is written inside the repository only")
        let json = try XCTUnwrap(try h.run(["report", "--json"]).object()["experiments"] as? [[String: Any]])
        XCTAssertEqual(json.map { $0["branch"] as? String }, ["exp/a", "exp/b"])
        XCTAssertEqual(json[1]["preemptions"] as? Int, 1)
    }

    func testFixAndRelaunchLinksWandbTagsTheSupersededRunAndAResumeKeepsTheRunID() throws {
        let h = try harness()
        h.backend.willSubmit(.init(states: [.oom], exitCode: 137, maxRSSMB: 1020, stdout: "step 5/20 loss 0.2\n", stderr: FixCommandTests.oomStderr))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        let first = try wandbID(h)
        try setRun(first, ["state": "crashed", "tags": ["expt"]])
        // No checkpoint: a fresh run, a new W&B run; the failed one is tagged superseded.
        h.backend.willSubmit(.init(states: [.running], stdout: "step 3/20 loss 0.5\n"))
        let fix = h.run(["fix-and-relaunch", "exp/a", "--yes"])
        XCTAssertEqual(fix.status, 0, fix.stderr)
        let second = try wandbID(h, 1)
        XCTAssertNotEqual(second, first)
        XCTAssertTrue(fix.stdout.contains("supersede tagged wandb run \(first) expt-superseded"), fix.stdout)
        XCTAssertEqual(try fake.run("lab/traits/" + first)?["tags"] as? [String], ["expt", "expt-superseded"])
        XCTAssertTrue(fix.stdout.contains("verify    r2 is running: step 3/20 (15%); the failed run reached step 5"), fix.stdout)
        let doc = try String(contentsOfFile: h.worktree("exp/a") + "/docs/exp/a.md", encoding: .utf8)
        XCTAssertTrue(doc.contains("- W&B: r1 https://wandb.ai/lab/traits/runs/\(first); r2 https://wandb.ai/lab/traits/runs/\(second)"), doc)

    }

    func testAResumeContinuesTheSameWandbRunAndMustGetPastTheFailedStep() throws {
        let h = try harness()
        h.backend.willSubmit(.init(states: [.oom], exitCode: 137, maxRSSMB: 1020, stdout: "step 5/20 loss 0.2\n", stderr: FixCommandTests.oomStderr))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        try h.repo.write("checkpoints/step-005.json", "{\"step\": 5}\n", in: h.worktree("exp/a"))
        let first = try wandbID(h)
        try setRun(first, ["state": "crashed", "tags": ["expt"]])
        h.backend.willSubmit(.init(states: [.running], stdout: "resuming from checkpoints/step-005.json\nstep 6/20 loss 0.1\n"))
        let fix = h.run(["fix-and-relaunch", "exp/a", "--yes"])
        XCTAssertEqual(fix.status, 0, fix.stderr)
        XCTAssertEqual(try wandbID(h, 1), first, "one W&B run continues")
        XCTAssertTrue(fix.stdout.contains("supersede the new run continues the same W&B run"), fix.stdout)
        XCTAssertEqual(try fake.run("lab/traits/" + first)?["tags"] as? [String], ["expt"], "never tagged superseded")
        XCTAssertTrue(fix.stdout.contains("verify    r2 is running: step 6/20 (30%); past the failed run's step 5"), fix.stdout)
        XCTAssertTrue(h.host.posted(on: 7).isEmpty, "no PR in this repository")
        let doc = try String(contentsOfFile: h.worktree("exp/a") + "/docs/exp/a.md", encoding: .utf8)
        XCTAssertTrue(doc.contains("- W&B: r1 https://wandb.ai/lab/traits/runs/\(first); r2 continues it"), doc)
        // The W&B run is r2's now: "running" there says nothing about r1's ended job.
        try setRun(first, ["state": "running", "heartbeatAt": ISO8601.timestamp(h.clock.now), "tags": ["expt"]])
        let rows = try XCTUnwrap(try h.run(["status", "exp/a", "--all", "--json"]).json() as? [[String: Any]])
        XCTAssertEqual(rows.map { ($0["discrepancies"] as? [Any])?.count }, [0, 0], "the resumed run's parent is no zombie: \(rows)")
        XCTAssertTrue((rows[0]["wandb"] as? [String: Any])?["state"] is NSNull, "the W&B state is r2's, not r1's")
        let zombies = h.run(["close-zombies", "--json"])
        XCTAssertEqual((try zombies.json() as? [Any])?.count, 0, zombies.stdout)
        XCTAssertEqual(try fake.run("lab/traits/" + first)?["state"] as? String, "running", "the live W&B run is never closed")
    }

    func testARelaunchThatFailsWhileVerifyWaitsForStepsIsAFailure() throws {
        let h = try harness()
        h.backend.willSubmit(.init(states: [.oom], exitCode: 137, maxRSSMB: 1020, stdout: "step 5/20 loss 0.2\n", stderr: FixCommandTests.oomStderr))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        h.backend.willSubmit(.init(states: [.running, .running, .failed], exitCode: 1, stdout: "loading data\n", stderr: "Traceback (most recent call last):\nValueError: bad shard\n"))
        let fix = h.run(["fix-and-relaunch", "exp/a", "--yes", "--wait", "60"])
        XCTAssertEqual(fix.status, 1, fix.stdout + fix.stderr)
        XCTAssertTrue(fix.stderr.contains("the relaunched run r2 failed at once"), fix.stderr)
    }

    func testARelaunchThatLogsNoStepWithinTheWaitIsReported() throws {
        let h = try harness()
        h.backend.willSubmit(.init(states: [.oom], exitCode: 137, maxRSSMB: 1020, stdout: "step 5/20 loss 0.2\n", stderr: FixCommandTests.oomStderr))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        h.backend.willSubmit(.init(states: [.running], stdout: "loading data\n"))
        let fix = h.run(["fix-and-relaunch", "exp/a", "--yes", "--wait", "60"])
        XCTAssertEqual(fix.status, 3, fix.stdout + fix.stderr)
        XCTAssertTrue(fix.stderr.contains("the relaunched run r2 is running but logged no step (the failed run reached step 5) within 60 s"), fix.stderr)
    }
}
