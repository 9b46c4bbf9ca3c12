import XCTest
import ExptTestSupport

/// fix-and-relaunch end to end: a real OOM on the local backend, a real push to a local bare
/// remote, PR comments through a strict fake `gh` on PATH, and SIGKILL at every step.
final class FixEndToEndTests: XCTestCase {
    static let trainPy = """
    import json, os, sys, time
    steps, start = 20, 0
    if len(sys.argv) > 2 and sys.argv[1] == "--resume":
        start = json.load(open(sys.argv[2]))["step"]
        print(f"resuming from {sys.argv[2]} at step {start}", flush=True)
    print(os.environ.get("PLANTED", ""), file=sys.stderr, flush=True)
    os.makedirs("checkpoints", exist_ok=True)
    held = []
    for step in range(start + 1, steps + 1):
        held.append(b"\\x01" * (12 << 20))
        print(f"step {step}/{steps} loss {1.0 / step:.3f}", flush=True)
        if step % 5 == 0:
            json.dump({"step": step}, open(f"checkpoints/step-{step:03d}.json", "w"))
        time.sleep(0.03)
    print("done", flush=True)
    """
    static let toml = """
    command = "python3 train.py"
    resume_command = "python3 train.py --resume {checkpoint}"
    checkpoint_glob = "checkpoints/*.json"
    [env]
    PLANTED = "token ghp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA and WANDB_API_KEY=0123456789abcdef0123456789abcdef01234567"
    [resources]
    mem = "100M"
    time = "00:02:00"
    [profiles.highmem]
    mem = "1G"
    [retry]
    max_failures = 3
    """

    var expt: ExptBinary!
    var gh: FakeGH!
    var t: TempRepo!
    var bare: String!

    override func setUpWithError() throws {
        expt = try ExptBinary()
        gh = try FakeGH()
        expt.environment = gh.environment
        expt.environment["EXPT_LOCAL_KILL_GRACE"] = "1"
        t = try TempRepo(files: ["train.py": Self.trainPy, ".gitignore": "checkpoints/\n"])
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        try Self.toml.write(toFile: t.path + "/expt.toml", atomically: true, encoding: .utf8)
        try t.git("commit", "-qam", "config", "--no-verify")
        bare = t.root.appendingPathComponent("origin.git").path
        _ = try Git.run(["init", "-q", "--bare", bare], in: t.root.path)
        try t.git("remote", "add", "origin", "https://github.com/acme/exp.git")
        try t.git("config", "remote.origin.pushurl", bare)
    }

    /// Creates `branch`, opens its fake PR, launches it and waits for the OOM.
    func failedRun(_ branch: String) throws -> Int {
        XCTAssertEqual(try expt.run(["new", branch], in: t.path).status, 0)
        let pr = try gh.addPullRequest(repo: "acme/exp", branch: branch)
        XCTAssertEqual(try expt.run(["launch", branch], in: t.path).status, 0)
        try waitForState(branch, in: ["oom"])
        return pr
    }

    @discardableResult
    func waitForState(_ branch: String, in states: Set<String>, timeout: TimeInterval = 60) throws -> [String: Any] {
        var last: [String: Any] = [:]
        if let row = try expt.waitForRun(branch, in: states, cwd: t.path, timeout: timeout, last: &last) { return row }
        XCTFail("\(branch) did not reach \(states) in \(Int(timeout)) s; last: \(last)")
        return last
    }

    func fixEntries(_ branch: String) throws -> Int {
        let doc = try String(contentsOfFile: t.path + "/.worktrees/\(branch)/docs/\(branch).md", encoding: .utf8)
        return doc.components(separatedBy: "\n### Fix ").count - 1
    }

    func fixCommits(_ branch: String) throws -> [String] {
        try t.git("log", "--format=%H %(trailers:key=Expt-Run,valueonly,separator=)", branch)
            .split(separator: "\n").filter { $0.split(separator: " ").count > 1 }.map(String.init)
    }

    func testFixRecordsDocCommitPushCommentAndResumesWithHighmem() throws {
        let pr = try failedRun("e1")
        let r = try expt.run(["fix-and-relaunch", "e1", "--yes", "--json", "-m", "more memory"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        let out = try XCTUnwrap(try r.json() as? [String: Any])
        XCTAssertEqual(out["category"] as? String, "oom_host")
        XCTAssertEqual(out["new_run"] as? String, "r2")
        let plan = try XCTUnwrap(out["plan"] as? [String: Any])
        XCTAssertEqual(plan["profile"] as? String, "highmem")
        // The newest checkpoint before the OOM kill (which step that is depends on when the
        // supervisor's memory sample lands).
        let resumeFrom = try XCTUnwrap(plan["resume_from"] as? String)
        XCTAssertTrue(resumeFrom.hasPrefix("checkpoints/step-0") && resumeFrom.hasSuffix(".json"), resumeFrom)

        // The doc entry, the commit and its trailers, the push.
        XCTAssertEqual(try fixEntries("e1"), 1)
        let msg = try t.git("log", "-1", "--format=%B", "e1")
        XCTAssertTrue(msg.contains("Expt-Run: r1") && msg.contains("Expt-Diagnosis: oom_host") && msg.contains("Expt-Fix: "), msg)
        XCTAssertEqual(try Git.run(["rev-parse", "e1"], in: bare), try t.git("rev-parse", "e1"))
        XCTAssertEqual(try t.git("status", "--porcelain", in: t.path + "/.worktrees/e1"), "")

        // Exactly one comment, through gh with -R and the body on stdin.
        let comments = gh.comments(pr: pr)
        XCTAssertEqual(comments.count, 1)
        XCTAssertTrue(comments[0].contains("oom_host") && comments[0].contains("Re-launching") && comments[0].contains("expt:fix:r1"), comments[0])
        let commentCall = try XCTUnwrap(gh.calls().first { $0.argv.starts(with: ["pr", "comment"]) })
        XCTAssertEqual(commentCall.argv, ["pr", "comment", "\(pr)", "-R", "acme/exp", "--body-file", "-"])
        XCTAssertEqual(gh.unexpectedCalls(), [])

        // The relaunch resumes and succeeds; history says the fix worked.
        try waitForState("e1", in: ["succeeded"])
        XCTAssertTrue(try expt.run(["logs", "e1"], in: t.path).stdout.contains("resuming from \(resumeFrom) at step"))
        let runs = try XCTUnwrap(try expt.run(["runs", "e1", "--json"], in: t.path).json() as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["parent_run"] as? String }, [nil, "r1"])
        XCTAssertEqual(runs.last?["profile"] as? String, "highmem")
        let history = try XCTUnwrap(try expt.run(["history", "e1", "--json"], in: t.path).json() as? [[String: Any]])
        XCTAssertEqual(history.count, 1)
        XCTAssertEqual(history[0]["failed_run"] as? String, "r1")
        XCTAssertEqual(history[0]["next_run"] as? String, "r2")
        XCTAssertEqual(history[0]["outcome"] as? String, "succeeded")
        XCTAssertEqual(history[0]["commit"] as? String, try t.git("rev-parse", "e1").trimmingCharacters(in: .whitespacesAndNewlines))

        // After the merge the history is still complete, and the doc check passes.
        XCTAssertEqual(try expt.run(["doc", "check", "e1"], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["merge", "e1"], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["clean", "e1"], in: t.path).status, 0)
        try t.git("branch", "-D", "e1")   // even with the branch deleted, the doc on main keeps it
        let all = try XCTUnwrap(try expt.run(["history", "--json"], in: t.path).json() as? [[String: Any]])
        XCTAssertEqual(all.map { $0["branch"] as? String }, ["e1"])
        XCTAssertEqual(all.first?["outcome"] as? String, "succeeded")
    }

    func testSecretsInLogsNeverReachGhOrTheDoc() throws {
        _ = try failedRun("e1")
        XCTAssertTrue(try expt.run(["logs", "e1", "--stderr"], in: t.path).stdout.contains("ghp_AAAA"), "the secret is in the log")
        let r = try expt.run(["fix-and-relaunch", "e1", "--yes", "-m", "bump memory; token was ghp_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        for call in gh.calls() {
            for secret in ["ghp_AAAA", "ghp_BBBB", "0123456789abcdef0123456789abcdef01234567"] {
                XCTAssertFalse(call.stdin.contains(secret) || call.argv.joined().contains(secret), "\(secret) leaked to gh: \(call)")
            }
        }
        let doc = try String(contentsOfFile: t.path + "/.worktrees/e1/docs/e1.md", encoding: .utf8)
        XCTAssertFalse(doc.contains("ghp_BBBB"), doc)
        XCTAssertTrue(doc.contains("[REDACTED]"), doc)
    }

    func testOfflineGhQueuesTheCommentAndOutboxRetryDeliversItOnce() throws {
        let pr = try failedRun("e1")
        try gh.setMode(.offline)
        let r = try expt.run(["fix-and-relaunch", "e1", "--yes", "--json"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try XCTUnwrap(try r.json() as? [String: Any])
        XCTAssertEqual((out["pending"] as? [String])?.count, 1, "\(out)")
        XCTAssertEqual(out["new_run"] as? String, "r2", "the relaunch happens anyway")
        let box = try XCTUnwrap(try expt.run(["outbox", "--json"], in: t.path).json() as? [[String: Any]])
        XCTAssertEqual(box.map { $0["kind"] as? String }, ["pr_comment"])
        XCTAssertEqual(gh.comments(pr: pr), [])
        try gh.setMode(.ok)
        // A later command delivers it, after the back-off (EXPT_OUTBOX_BACKOFF; 300 s by default).
        XCTAssertEqual(try expt.run(["status"], in: t.path).status, 0)
        XCTAssertEqual(gh.comments(pr: pr).count, 0, "within the back-off nothing is retried")
        let later = try expt.run(["status"], in: t.path, env: ["EXPT_OUTBOX_BACKOFF": "0"])
        XCTAssertEqual(later.status, 0)
        XCTAssertTrue(later.stderr.contains("delivered 1 pending outbox item"), later.stderr)
        XCTAssertEqual(gh.comments(pr: pr).count, 1)
        XCTAssertEqual(try expt.run(["outbox", "--retry"], in: t.path).status, 0)
        XCTAssertEqual(gh.comments(pr: pr).count, 1, "never sent twice")
        XCTAssertEqual((try expt.run(["outbox", "--json"], in: t.path).json() as? [Any])?.count, 0)
        XCTAssertEqual(gh.unexpectedCalls(), [])
    }

    func testCommentWhoseOutcomeWasUnknownIsNotPostedTwice() throws {
        let pr = try failedRun("e1")
        try gh.setMode(.ambiguous)   // the comment lands, but gh reports a failure
        XCTAssertEqual(try expt.run(["fix-and-relaunch", "e1", "--yes"], in: t.path).status, 0)
        XCTAssertEqual(gh.comments(pr: pr).count, 1)
        try gh.setMode(.ok)
        XCTAssertEqual(try expt.run(["outbox", "--retry"], in: t.path).status, 0)
        XCTAssertEqual(gh.comments(pr: pr).count, 1, "found by its marker, not posted again")
        XCTAssertEqual((try expt.run(["outbox", "--json"], in: t.path).json() as? [Any])?.count, 0)
    }

    /// SIGKILL after every step (and between each side effect and its journal record), then run
    /// again: exactly one entry, one commit, one comment and one new job per fix.
    func testInterruptedAtEveryStepFinishesWithoutDoingAnythingTwice() throws {
        let faults = ["fix-plan", "fix-doc-unjournaled", "fix-doc", "fix-commit-unjournaled", "fix-commit",
                      "fix-push", "outbox-comment-sent", "fix-comment", "after-submit", "fix-launch"]
        var prs: [String: Int] = [:]
        for (i, _) in faults.enumerated() {
            let b = "f\(i)"
            XCTAssertEqual(try expt.run(["new", b], in: t.path).status, 0)
            prs[b] = try gh.addPullRequest(repo: "acme/exp", branch: b)
            XCTAssertEqual(try expt.run(["launch", b], in: t.path).status, 0)
        }
        for (i, _) in faults.enumerated() { try waitForState("f\(i)", in: ["oom"]) }
        for (i, fault) in faults.enumerated() {
            let b = "f\(i)"
            let killed = try expt.run(["fix-and-relaunch", b, "--yes"], in: t.path, env: ["EXPT_FAULT": fault])
            XCTAssertNotEqual(killed.status, 0, "\(fault) should have killed the command")
            let again = try expt.run(["fix-and-relaunch", b, "--yes"], in: t.path)
            XCTAssertEqual(again.status, 0, "\(fault): \(again.stderr)")
            XCTAssertEqual(try fixEntries(b), 1, "\(fault): one doc entry")
            XCTAssertEqual(try fixCommits(b).count, 1, "\(fault): one fix commit")
            XCTAssertEqual(gh.comments(pr: prs[b]!).count, 1, "\(fault): one comment")
            let runs = try XCTUnwrap(try expt.run(["runs", b, "--json"], in: t.path).json() as? [[String: Any]])
            XCTAssertEqual(runs.count, 2, "\(fault): one new job: \(runs.map { $0["run"] ?? "" })")
            let third = try expt.run(["fix-and-relaunch", b, "--yes"], in: t.path)
            XCTAssertEqual(third.status, 3, "\(fault): nothing left to fix")
            XCTAssertTrue(third.stderr.contains("did not fail"), third.stderr)
        }
        XCTAssertEqual(gh.unexpectedCalls(), [])
        for (i, _) in faults.enumerated() { _ = try expt.run(["cancel", "f\(i)"], in: t.path) }
    }

    func testRefusalsDryRunAndNoTerminal() throws {
        XCTAssertEqual(try expt.run(["new", "ok"], in: t.path).status, 0)
        let none = try expt.run(["fix-and-relaunch", "ok", "--yes"], in: t.path)
        XCTAssertEqual(none.status, 4)
        XCTAssertTrue(none.stderr.contains("no runs yet"), none.stderr)

        _ = try failedRun("e1")
        let before = try t.git("rev-parse", "e1")
        let dry = try expt.run(["fix-and-relaunch", "e1", "--dry-run", "--json"], in: t.path)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertEqual((try dry.json() as? [String: Any])?["dry_run"] as? Bool, true)
        XCTAssertEqual(try t.git("rev-parse", "e1"), before)
        XCTAssertEqual(try fixEntries("e1"), 0)
        XCTAssertEqual(gh.calls().filter { $0.argv.starts(with: ["pr", "comment"]) }.count, 0)

        let noTTY = try expt.run(["fix-and-relaunch", "e1"], in: t.path)
        XCTAssertEqual(noTTY.status, 2)
        XCTAssertTrue(noTTY.stderr.contains("--yes"), noTTY.stderr)
    }

    func testCodeErrorNeedsAChangeAndTheSameFixTwiceStopsTheLoop() throws {
        XCTAssertEqual(try expt.run(["new", "bug"], in: t.path).status, 0)
        let wt = t.path + "/.worktrees/bug"
        try t.write("train.py", "import json\nraise KeyError('learning_rate')\n", in: wt)
        XCTAssertEqual(try expt.run(["checkpoint", "bug", "-m", "break it"], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["launch", "bug"], in: t.path).status, 0)
        try waitForState("bug", in: ["failed"])
        let refused = try expt.run(["fix-and-relaunch", "bug", "--yes", "--no-comment"], in: t.path)
        XCTAssertEqual(refused.status, 3)
        XCTAssertTrue(refused.stderr.contains("needs a code or config change"), refused.stderr)
        XCTAssertEqual((try expt.run(["runs", "bug", "--json"], in: t.path).json() as? [Any])?.count, 1, "never a blind retry")

        // A change that does not fix it: relaunched once, then the same failure stops the loop.
        try t.write("train.py", "import json, time\ntime.sleep(1)\nraise KeyError('lr')\n", in: wt)
        let fixed = try expt.run(["fix-and-relaunch", "bug", "--yes", "--no-comment", "-m", "rename the key"], in: t.path)
        XCTAssertEqual(fixed.status, 0, "the relaunch starts: \(fixed.stderr)")
        try waitForState("bug", in: ["failed"])
        let loop = try expt.run(["fix-and-relaunch", "bug", "--yes", "--no-comment"], in: t.path)
        XCTAssertEqual(loop.status, 3)
        XCTAssertTrue(loop.stderr.contains("code or config change"), loop.stderr)
    }
}
