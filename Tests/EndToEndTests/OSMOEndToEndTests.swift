import Foundation
import XCTest
import ExptTestSupport

/// NVIDIA OSMO through `expt`, against the strict fake `osmo` on PATH (the OSMO service cannot
/// run here; the fake serves shapes from OSMO's own source and eval fixtures): the workflow file
/// submitted as written to the configured pool, an OOM (exit 3004) resubmitted with more memory,
/// a mount failure named as such, and bad input.
final class OSMOEndToEndTests: XCTestCase {
    static let toml = """
    backend = "osmo"
    [osmo]
    workflow_file = "workflows/train.yaml"
    pool = "h100-east"
    memory_key = "memory"
    [resources]
    mem = "32G"
    gpus = 1
    [profiles.highmem]
    mem = "64G"
    """

    var expt: ExptBinary!
    var osmo: FakeOSMO!
    var t: TempRepo!

    override func setUpWithError() throws {
        expt = try ExptBinary()
        osmo = try FakeOSMO()
        expt.environment = osmo.environment
        let yaml = try FakeOSMO.fixture("cookbook-6.3.1-single-node-train.yaml")
        t = try TempRepo(files: ["README.md": "# train\n", "workflows/train.yaml": yaml])
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        try Self.toml.write(toFile: t.path + "/expt.toml", atomically: true, encoding: .utf8)
        try t.git("add", "-A"); try t.git("commit", "-qm", "osmo config", "--no-verify")
        XCTAssertEqual(try expt.run(["new", "train"], in: t.path).status, 0)
        addTeardownBlock { [osmo] in
            XCTAssertEqual(osmo?.calls().filter(\.unexpected).map(\.argv) ?? [], [], "every call was one the fake expects")
        }
    }

    func state() throws -> [String: Any] {
        let r = try expt.run(["status", "train", "--json"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap((try r.json() as? [[String: Any]])?.last)
    }

    /// Changes the experiment's expt.toml (text appended, or a replacement) and commits it.
    /// Replacements go to the repository's file too (the worktree's overrides it key by key).
    func configure(append: String = "", replacing: [(String, String)] = []) throws {
        for dir in [t.path, t.path + "/.worktrees/train"] {
            let path = dir + "/expt.toml"
            var toml = try String(contentsOfFile: path, encoding: .utf8)
            for (old, new) in replacing {
                XCTAssertTrue(toml.contains(old), "\(path) has \(old)")
                toml = toml.replacingOccurrences(of: old, with: new)
            }
            try (toml + (dir == t.path ? "" : append)).write(toFile: path, atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(try expt.run(["checkpoint", "train", "-m", "configure"], in: t.path).status, 0)
    }

    /// PyYAML reads the file (python3-yaml, installed by scripts/install-deps.sh).
    static func yamlToJSON(_ yaml: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input; p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(yaml.utf8)); try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw XCTSkip("python3 with PyYAML is needed to read the workflow file") }
        return String(decoding: data, as: UTF8.self)
    }

    func scenario(_ queries: [[String]]) throws {
        var s = FakeOSMO.Scenario(pools: try FakeOSMO.fixture("evalfixture-pool_list.json"))
        s.submissions = try queries.map { FakeOSMO.Workflow(FakeOSMO.Script(states: try $0.map(FakeOSMO.fixture))) }
        try osmo.setScenario(s)
    }

    func testOOMIsResubmittedToTheSamePoolWithMoreMemory() throws {
        try scenario([["query-oom-evicted.json"], ["query-completed.json"]])
        let launch = try expt.run(["launch", "train", "--json"], in: t.path)
        XCTAssertEqual(launch.status, 0, launch.stderr)
        let result = try XCTUnwrap(try launch.json() as? [String: Any])
        XCTAssertFalse((result["job_id"] as? String ?? "").isEmpty, "the workflow ID")
        let notes = try XCTUnwrap(result["notes"] as? [String])
        XCTAssertTrue(notes.contains { $0.contains("h100-east") }, "the pool and why: \(notes)")
        XCTAssertTrue(notes.contains { $0.hasPrefix("http") }, "the OSMO Web link: \(notes)")
        XCTAssertTrue(notes.contains { $0.hasPrefix("output dataset:") }, "the declared output dataset: \(notes)")
        let submit = try XCTUnwrap(osmo.calls().first { $0.argv.prefix(2) == ["workflow", "submit"] }?.argv)
        XCTAssertTrue(submit[2].hasSuffix("/workflows/train.yaml"), "the file as written: \(submit)")
        XCTAssertEqual(Array(submit[3...]), ["--pool", "h100-east", "--set", "memory=32Gi", "--format-type", "json"])
        let row = try state()
        XCTAssertEqual(row["state"] as? String, "oom", "\(row)")
        let d = try expt.run(["diagnose", "train", "--json"], in: t.path)
        XCTAssertEqual((try d.json() as? [String: Any])?["category"] as? String, "oom_host", d.stdout)
        let fix = try expt.run(["fix-and-relaunch", "train", "--yes", "--no-push", "--no-comment"], in: t.path)
        XCTAssertEqual(fix.status, 0, fix.stdout + fix.stderr)
        let again = try XCTUnwrap(osmo.calls().last { $0.argv.prefix(2) == ["workflow", "submit"] }?.argv)
        XCTAssertEqual(Array(again[3...]), ["--pool", "h100-east", "--set", "memory=64Gi", "--format-type", "json"], "same pool, more memory")
        XCTAssertEqual(try state()["state"] as? String, "succeeded")
    }

    /// The retry budget (`[retry] max_failures`, 3 by default): after the third failed run of the
    /// experiment, fix-and-relaunch submits nothing and stops with exit 8 and a message for a
    /// person.
    func testTheThirdFailureStopsAndAsksAPerson() throws {
        // Room to escalate twice (32G → the highmem profile's 64G → 96G), so the budget decides.
        try configure(append: "\n[retry]\nmemory_cap = \"512G\"\n")
        try scenario([["query-oom-evicted.json"], ["query-oom-evicted.json"], ["query-oom-evicted.json"]])
        let launch = try expt.run(["launch", "train"], in: t.path)
        XCTAssertEqual(launch.status, 0, launch.stderr)
        for attempt in 1...2 {
            XCTAssertEqual(try state()["state"] as? String, "oom", "failure \(attempt)")
            // The fake's relaunch fails at once: verify says so (exit 1), and the fix is over.
            let fix = try expt.run(["fix-and-relaunch", "train", "--yes", "--no-push", "--no-comment"], in: t.path)
            XCTAssertEqual(fix.status, 1, "fix \(attempt): " + fix.stdout + fix.stderr)
            XCTAssertTrue(fix.stderr.contains("the relaunched run r\(attempt + 1) failed at once: oom [oom_host]"), fix.stderr)
        }
        XCTAssertEqual(try state()["state"] as? String, "oom", "failure 3")
        let third = try expt.run(["fix-and-relaunch", "train", "--yes", "--no-push", "--no-comment", "--json"], in: t.path)
        XCTAssertEqual(third.status, 8, third.stdout + third.stderr)
        XCTAssertTrue(third.stderr.contains("failure budget is spent: 3 failed runs of train")
                      && third.stderr.contains("a person should look"), third.stderr)
        let submits = osmo.calls().filter { $0.argv.prefix(2) == ["workflow", "submit"] }.map { Array($0.argv[3...]) }
        XCTAssertEqual(submits.map { $0[3] }, ["memory=32Gi", "memory=64Gi", "memory=96Gi"], "the same pool, more memory each time; no fourth submission")
        let runs = try XCTUnwrap(try expt.run(["runs", "train", "--json"], in: t.path).json() as? [[String: Any]])
        XCTAssertEqual(runs.count, 3, "nothing was launched: \(runs)")
    }

    /// Without `workflow_file`, expt writes the workflow from templates/osmo-workflow.yaml: the
    /// run's command in `image`, its resources and time limit; an OOM fix resubmits a new file
    /// with more memory. The file parses as YAML to exactly the values given.
    func testWithoutAWorkflowFileTheTemplateRunsTheCommand() throws {
        try configure(append: "\n[env]\nSEED = \"7\"\n",
                      replacing: [("backend = \"osmo\"\n", "backend = \"osmo\"\ncommand = \"python train.py --lr 0.1 'a b'\"\n"),
                                  ("workflow_file = \"workflows/train.yaml\"\n", "image = \"nvcr.io/nvidia/pytorch:24.03-py3\"\n")])
        let toml = try String(contentsOfFile: t.path + "/.worktrees/train/expt.toml", encoding: .utf8)
        XCTAssertFalse(toml.contains("workflow_file"), toml)
        try scenario([["query-oom-evicted.json"], ["query-completed.json"]])
        let launch = try expt.run(["launch", "train", "--time", "2h"], in: t.path)
        XCTAssertEqual(launch.status, 0, launch.stderr)
        func submitted(_ n: Int) throws -> [String: Any] {
            let call = try XCTUnwrap(osmo.calls().filter { $0.argv.prefix(2) == ["workflow", "submit"] }.dropFirst(n).first)
            XCTAssertEqual(Array(call.argv[3...]), ["--pool", "h100-east", "--format-type", "json"], "no --set: the values are in the file")
            let text = try XCTUnwrap(call.files[call.argv[2]], "the fake read the file")
            let json = try Self.yamlToJSON(text)
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], text)
        }
        let first = try XCTUnwrap(try submitted(0)["workflow"] as? [String: Any])
        XCTAssertEqual(first["name"] as? String, "expt-r1-train")
        XCTAssertEqual((first["resources"] as? [String: [String: Any]])?["default"]?["memory"] as? String, "32Gi")
        XCTAssertEqual((first["resources"] as? [String: [String: Any]])?["default"]?["gpu"] as? Int, 1)
        XCTAssertEqual((first["timeout"] as? [String: Any])?["exec_timeout"] as? String, "7200s")
        let task = try XCTUnwrap((first["tasks"] as? [[String: Any]])?.first)
        XCTAssertEqual(task["image"] as? String, "nvcr.io/nvidia/pytorch:24.03-py3")
        XCTAssertEqual(task["command"] as? [String], ["bash", "-c"])
        XCTAssertEqual(task["args"] as? [String], ["python train.py --lr 0.1 'a b'"], "the command exactly")
        let env = try XCTUnwrap(task["environment"] as? [String: String])
        XCTAssertEqual(env["SEED"], "7"); XCTAssertEqual(env["EXPT_RUN_ID"], "r1"); XCTAssertEqual(env["EXPT_BRANCH"], "train")
        let fix = try expt.run(["fix-and-relaunch", "train", "--yes", "--no-push", "--no-comment"], in: t.path)
        XCTAssertEqual(fix.status, 0, fix.stdout + fix.stderr)
        let second = try XCTUnwrap(try submitted(1)["workflow"] as? [String: Any])
        XCTAssertEqual(second["name"] as? String, "expt-r2-train")
        XCTAssertEqual((second["resources"] as? [String: [String: Any]])?["default"]?["memory"] as? String, "64Gi", "more memory")
        XCTAssertEqual(try state()["state"] as? String, "succeeded")
    }

    /// OSMO renders the file with Jinja: a command with `{{` is refused before anything runs.
    func testACommandWithJinjaBracesIsRefusedInTheTemplate() throws {
        try configure(replacing: [("backend = \"osmo\"\n", "backend = \"osmo\"\ncommand = \"echo {{ oops }}\"\n"),
                                  ("workflow_file = \"workflows/train.yaml\"\n", "image = \"ubuntu:24.04\"\n")])
        try scenario([])
        let dry = try expt.run(["launch", "train", "--dry-run"], in: t.path)
        XCTAssertEqual(dry.status, 2, "the dry run refuses what the launch would: \(dry.stderr)")
        let r = try expt.run(["launch", "train"], in: t.path)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("OSMO's Jinja templating") && r.stderr.contains("hint:"), r.stderr)
        XCTAssertEqual(osmo.calls().filter { $0.argv.prefix(2) == ["workflow", "submit"] }.count, 0)
    }

    func testMountFailureIsNamedAsSuch() throws {
        try scenario([["query-mount-2011.json"]])
        XCTAssertEqual(try expt.run(["launch", "train"], in: t.path).status, 0)
        XCTAssertEqual(try state()["state"] as? String, "failed")
        let d = try XCTUnwrap(try expt.run(["diagnose", "train", "--json"], in: t.path).json() as? [String: Any])
        XCTAssertEqual(d["category"] as? String, "mount_failure", "\(d)")
    }

    /// A node failure changes nothing in the workflow: `osmo workflow restart` reruns only the
    /// failed groups on the same pool, instead of a new submission.
    func testATransientFailureIsRestartedNotResubmitted() throws {
        let failed = try FakeOSMO.fixture("query-mount-2011.json")
            .replacingOccurrences(of: "\"exit_code\": 2011", with: "\"exit_code\": 3001")
        XCTAssertTrue(failed.contains("3001"), "the fixture's exit code was replaced")
        var s = FakeOSMO.Scenario(pools: try FakeOSMO.fixture("evalfixture-pool_list.json"))
        s.submissions = [FakeOSMO.Workflow(FakeOSMO.Script(states: [failed]),
                                           restart: FakeOSMO.Script(states: [try FakeOSMO.fixture("query-restart-running.json")]))]
        try osmo.setScenario(s)
        XCTAssertEqual(try expt.run(["launch", "train"], in: t.path).status, 0)
        let d = try XCTUnwrap(try expt.run(["diagnose", "train", "--json"], in: t.path).json() as? [String: Any])
        XCTAssertEqual(d["category"] as? String, "node_failure", "\(d)")
        let fix = try expt.run(["fix-and-relaunch", "train", "--yes", "--no-push", "--no-comment"], in: t.path)
        XCTAssertEqual(fix.status, 0, fix.stdout + fix.stderr)
        let restart = try XCTUnwrap(osmo.calls().first { $0.argv.prefix(2) == ["workflow", "restart"] }?.argv, "\(osmo.calls().map(\.argv))")
        XCTAssertEqual(Array(restart[3...]), ["--pool", "h100-east", "--format-type", "json"])
        XCTAssertEqual(osmo.calls().filter { $0.argv.prefix(2) == ["workflow", "submit"] }.count, 1, "no second submission")
    }

    /// Without `[osmo] pool`, the pool whose free GPUs fit the request is chosen, and the choice
    /// and why are shown.
    func testThePoolIsChosenByFreeGPUsWhenNoneIsConfigured() throws {
        // Both files name no pool (the worktree's overrides the repository's key by key).
        for dir in [t.path, t.path + "/.worktrees/train"] {
            let toml = try String(contentsOfFile: dir + "/expt.toml", encoding: .utf8).replacingOccurrences(of: "pool = \"h100-east\"\n", with: "")
            try toml.write(toFile: dir + "/expt.toml", atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(try expt.run(["checkpoint", "train", "-m", "no pool"], in: t.path).status, 0)
        var s = FakeOSMO.Scenario(pools: try FakeOSMO.fixture("evalfixture-pool_list.json"),
                                  resources: try FakeOSMO.fixture("evalfixture-resource_list.json"))
        s.submissions = [FakeOSMO.Workflow(FakeOSMO.Script(states: [try FakeOSMO.fixture("query-completed.json")]))]
        try osmo.setScenario(s)
        let r = try expt.run(["launch", "train", "--json"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(osmo.calls().contains { $0.argv.prefix(2) == ["resource", "list"] }, "free GPUs were looked up")
        let submit = try XCTUnwrap(osmo.calls().first { $0.argv.prefix(2) == ["workflow", "submit"] }?.argv)
        let pool = submit[try XCTUnwrap(submit.firstIndex(of: "--pool")) + 1]
        let notes = try XCTUnwrap((try r.json() as? [String: Any])?["notes"] as? [String])
        XCTAssertTrue(notes.first?.contains(pool) == true, "the choice and why: \(notes)")
    }

    func testAQueueTimeoutIsStuckScheduling() throws {
        try scenario([["query-queue-timeout.json"]])
        XCTAssertEqual(try expt.run(["launch", "train"], in: t.path).status, 0)
        let d = try XCTUnwrap(try expt.run(["diagnose", "train", "--json"], in: t.path).json() as? [String: Any])
        XCTAssertEqual(d["category"] as? String, "stuck_scheduling", "\(d)")
    }

    func testUnknownPoolAndMissingCLIAreClearErrors() throws {
        var s = FakeOSMO.Scenario(pools: try FakeOSMO.fixture("evalfixture-pool_list.json"))
        s.submissions = [.rejected(FakeOSMO.Reject(kind: "usage", message: "Pool h100-east not found."))]
        try osmo.setScenario(s)
        let r = try expt.run(["launch", "train"], in: t.path)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("h100-east"), r.stderr)
        let missing = try expt.run(["launch", "train"], in: t.path, env: try osmo.environmentWithoutOSMO())
        XCTAssertEqual(missing.status, 5)
        XCTAssertTrue(missing.stderr.contains("osmo is not installed"), missing.stderr)
    }

    /// A rate limit (exit 75, HTTP 429) is waited out: the call is retried after each wait of
    /// `[osmo] rate_limit_backoff`, and only when every retry was refused is it an error.
    func testARateLimitIsRetriedWithBackOff() throws {
        try configure(replacing: [("memory_key = \"memory\"\n", "memory_key = \"memory\"\nrate_limit_backoff = [0.2, 0.4]\n")])
        var s = FakeOSMO.Scenario(pools: try FakeOSMO.fixture("evalfixture-pool_list.json"))
        s.failNext = [.rateLimited, .rateLimited]
        s.submissions = [FakeOSMO.Workflow(FakeOSMO.Script(states: [try FakeOSMO.fixture("query-completed.json")]))]
        try osmo.setScenario(s)
        let start = Date()
        let r = try expt.run(["launch", "train"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.6, "it waited 0.2 s, then 0.4 s")
        XCTAssertEqual(osmo.calls().filter { $0.argv.prefix(2) == ["pool", "list"] }.count, 3, "refused twice, then answered")
        XCTAssertEqual(try state()["state"] as? String, "succeeded")
    }

    func testServiceFailuresAndARejectedWorkflowAreClearErrorsAndRecordNothing() throws {
        try configure(replacing: [("memory_key = \"memory\"\n", "memory_key = \"memory\"\nrate_limit_backoff = [0.1]\n")])
        for (mode, words) in [(FakeOSMO.Mode.notLoggedIn, "not logged in"), (.rateLimited, "rate limiting"),
                              (.unreachable, "cannot be reached")] {
            var s = FakeOSMO.Scenario(mode: mode, pools: try FakeOSMO.fixture("evalfixture-pool_list.json"))
            s.submissions = [FakeOSMO.Workflow(FakeOSMO.Script(states: [try FakeOSMO.fixture("query-completed.json")]))]
            try osmo.setScenario(s)
            let r = try expt.run(["launch", "train"], in: t.path)
            XCTAssertEqual(r.status, 5, "\(mode): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(words) && r.stderr.contains("hint:"), "\(mode): \(r.stderr)")
        }
        var s = FakeOSMO.Scenario(pools: try FakeOSMO.fixture("evalfixture-pool_list.json"))
        s.submissions = [.rejected(FakeOSMO.Reject(kind: "validation", message: "Workflow train submit failed:\nresources: gpu must be an integer"))]
        try osmo.setScenario(s)
        let r = try expt.run(["launch", "train"], in: t.path)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("rejected the workflow") && r.stderr.contains("gpu must be an integer"), "OSMO's message: \(r.stderr)")
        let runs = try XCTUnwrap(try expt.run(["runs", "train", "--json"], in: t.path).json() as? [[String: Any]])
        XCTAssertTrue(runs.allSatisfy { $0["job_id"] is NSNull }, "no job recorded: \(runs)")
    }
}
