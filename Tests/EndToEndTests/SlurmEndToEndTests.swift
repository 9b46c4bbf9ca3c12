import XCTest
import ExptTestSupport

/// The Slurm scenarios of the Slurm issue, each through `expt` commands against a real one-node
/// Slurm (scripts/slurm-local.sh). Skipped when no Slurm answers, unless EXPT_REQUIRE_SLURM=1.
final class SlurmEndToEndTests: XCTestCase {
    static let jobPy = """
    import json, os, signal, sys, time
    signal.signal(signal.SIGUSR1, lambda *a: print("USR1: checkpointing", flush=True))
    steps, start = int(os.environ.get("STEPS", "4")), 0
    if len(sys.argv) > 2 and sys.argv[1] == "--resume":
        start = json.load(open(sys.argv[2]))["step"]
        print(f"resuming from {sys.argv[2]} at step {start}", flush=True)
    task = os.environ.get("SLURM_ARRAY_TASK_ID", "")
    if task and task == os.environ.get("FAIL_TASK"):
        hog = b"\\x01" * (400 << 20)
        time.sleep(10)
    os.makedirs("checkpoints", exist_ok=True)
    for step in range(start + 1, steps + 1):
        print(f"task {task} step {step}/{steps}", flush=True)
        if not task:
            json.dump({"step": step}, open(f"checkpoints/step-{step:03d}.json", "w"))
        time.sleep(float(os.environ.get("STEP_SECONDS", "0.2")))
    if os.environ.get("CRASH"):
        raise KeyError("learning_rate")
    print("done", flush=True)
    """

    static let slurmReachable: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sinfo", "-h", "-o", "%T"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    var expt: ExptBinary!
    var t: TempRepo!

    override func setUpWithError() throws {
        if !Self.slurmReachable {
            if ProcessInfo.processInfo.environment["EXPT_REQUIRE_SLURM"] == "1" {
                XCTFail("EXPT_REQUIRE_SLURM=1 but no Slurm is reachable (sinfo failed): run scripts/slurm-local.sh start")
            }
            throw XCTSkip("no Slurm reachable: start it with scripts/slurm-local.sh start")
        }
        expt = try ExptBinary()
        // Slurm jobs run as root from a shared temp dir: the repo must be readable by slurmd.
        t = try TempRepo(files: ["job.py": Self.jobPy, ".gitignore": "checkpoints/\n"])
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        try """
        command = "python3 job.py"
        resume_command = "python3 job.py --resume {checkpoint}"
        checkpoint_glob = "checkpoints/*.json"
        backend = "slurm"
        [resources]
        mem = "200M"
        time = "00:05:00"
        [profiles.highmem]
        mem = "1G"
        """.write(toFile: t.path + "/expt.toml", atomically: true, encoding: .utf8)
        try t.git("add", "-A"); try t.git("commit", "-qm", "slurm config", "--no-verify")
    }

    /// A new experiment whose worktree's [env] gets `env`, committed.
    func experiment(_ branch: String, env: [String: String] = [:]) throws {
        XCTAssertEqual(try expt.run(["new", branch], in: t.path).status, 0)
        if !env.isEmpty {
            let wt = t.path + "/.worktrees/" + branch
            let toml = try String(contentsOfFile: wt + "/expt.toml", encoding: .utf8)
            let lines = env.sorted { $0.key < $1.key }.map { "\($0.key) = \"\($0.value)\"" }.joined(separator: "\n")
            try (toml + "\n[env]\n" + lines + "\n").write(toFile: wt + "/expt.toml", atomically: true, encoding: .utf8)
            XCTAssertEqual(try expt.run(["checkpoint", branch, "-m", "env"], in: t.path).status, 0)
        }
    }

    func launch(_ branch: String, _ extra: [String] = []) throws -> [String: Any] {
        let r = try expt.run(["launch", branch, "--json"] + extra, in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(try r.json() as? [String: Any], r.stdout)
    }

    @discardableResult
    func waitFor(_ branch: String, _ states: Set<String>, timeout: TimeInterval = 180) throws -> [String: Any] {
        var last: [String: Any] = [:]
        if let row = try expt.waitForRun(branch, in: states, cwd: t.path, timeout: timeout, last: &last) { return row }
        XCTFail("\(branch) did not reach \(states) in \(Int(timeout)) s; last: \(last)")
        return last
    }

    /// Puts a wrapper for each Slurm command first on expt's PATH that appends the call to a
    /// file and runs the real command; returns the file.
    func countSlurmCalls() throws -> String {
        let dir = t.path + "/.git/slurm-shim", log = dir + "/calls.log"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["sbatch", "squeue", "sacct", "scontrol", "scancel", "sinfo"] {
            guard let real = path.split(separator: ":").map({ "\($0)/\(name)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) })
            else { continue }
            let script = "#!/bin/sh\necho \"\(name) $*\" >> '\(log)'\nexec '\(real)' \"$@\"\n"
            _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(script.utf8), attributes: [.posixPermissions: 0o755])
        }
        expt.environment["PATH"] = dir + ":" + path
        return log
    }

    func diagnosis(_ branch: String) throws -> [String: Any] {
        let r = try expt.run(["diagnose", branch, "--json"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(try r.json() as? [String: Any], r.stdout)
    }

    func testSuccessAndCancel() throws {
        try experiment("ok")
        let l = try launch("ok")
        XCTAssertEqual(l["backend"] as? String, "slurm")
        let row = try waitFor("ok", ["succeeded"])
        XCTAssertEqual(row["exit_code"] as? Int, 0)
        XCTAssertTrue(try expt.run(["logs", "ok"], in: t.path).stdout.contains("done"))

        try experiment("long", env: ["STEPS": "600", "STEP_SECONDS": "1"])
        _ = try launch("long")
        try waitFor("long", ["running"])
        let c = try expt.run(["cancel", "long", "--json"], in: t.path)
        XCTAssertEqual(c.status, 0, c.stderr)
        try waitFor("long", ["cancelled"], timeout: 60)
    }

    func testBadPartitionShowsSbatchsErrorAndRecordsNoJob() throws {
        try experiment("nopart")
        let wt = t.path + "/.worktrees/nopart"
        let toml = try String(contentsOfFile: wt + "/expt.toml", encoding: .utf8)
        try (toml + "\n[slurm]\npartition = \"no-such-partition\"\n").write(toFile: wt + "/expt.toml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try expt.run(["checkpoint", "nopart", "-m", "partition"], in: t.path).status, 0)
        let r = try expt.run(["launch", "nopart"], in: t.path)
        XCTAssertEqual(r.status, 5, r.stderr)
        XCTAssertTrue(r.stderr.lowercased().contains("partition"), "sbatch's own error is shown: \(r.stderr)")
        XCTAssertEqual((try expt.run(["runs", "nopart", "--json"], in: t.path).json() as? [Any])?.count, 0, "no unrecorded or phantom job")
    }

    /// A cluster reached through `exec_prefix` (here a wrapper that records each command and
    /// runs it with `bash -c`, as ssh would on a login node): submitting, polling and reading
    /// the logs all go through it.
    func testLogsOfAClusterBehindAnExecPrefixAreReadThroughIt() throws {
        let calls = t.root.appendingPathComponent("prefix-calls.log").path
        let wrapper = t.root.appendingPathComponent("login-node").path
        try "#!/bin/bash\nprintf '%s\\n' \"$1\" >> \(calls)\nexec bash -c \"$1\"\n".write(toFile: wrapper, atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(wrapper, 0o755), 0)
        try experiment("remote")
        let wt = t.path + "/.worktrees/remote"
        let toml = try String(contentsOfFile: wt + "/expt.toml", encoding: .utf8)
        try (toml + "\n[slurm]\nexec_prefix = [\"\(wrapper)\"]\n").write(toFile: wt + "/expt.toml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try expt.run(["checkpoint", "remote", "-m", "prefix"], in: t.path).status, 0)
        _ = try launch("remote")
        try waitFor("remote", ["succeeded"])
        let logs = try expt.run(["logs", "remote", "--tail", "2"], in: t.path)
        XCTAssertEqual(logs.status, 0, logs.stderr)
        XCTAssertEqual(logs.stdout, "task  step 4/4\ndone\n")
        let recorded = try String(contentsOfFile: calls, encoding: .utf8)
        XCTAssertTrue(recorded.contains("sbatch --parsable"), recorded)
        XCTAssertTrue(recorded.split(separator: "\n").contains { $0.hasPrefix("tail -c") && $0.contains("stdout.log") },
                      "the log was read on the cluster side: \(recorded)")
    }

    func testMemoryLimitIsAnOOMWithTheOOMKillLineAsEvidence() throws {
        try experiment("hog", env: ["FAIL_TASK": "0"])
        _ = try launch("hog", ["--array", "0", "--mem", "100M"])
        try waitFor("hog", ["oom", "failed"])
        let d = try diagnosis("hog")
        XCTAssertEqual(d["category"] as? String, "oom_host")
        let evidence = (d["evidence"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        XCTAssertTrue(evidence.contains { $0.contains("oom-kill event") || $0.contains("OUT_OF_MEMORY") }, "\(evidence)")
    }

    func testPythonTracebackIsACodeErrorAndIsNotRetriedBlindly() throws {
        try experiment("crash", env: ["CRASH": "1"])
        _ = try launch("crash")
        try waitFor("crash", ["failed"])
        XCTAssertEqual(try diagnosis("crash")["category"] as? String, "code_error")
        let fix = try expt.run(["fix-and-relaunch", "crash", "--yes", "--no-push", "--no-comment"], in: t.path)
        XCTAssertEqual(fix.status, 3, fix.stdout + fix.stderr)
        XCTAssertTrue(fix.stderr.contains("code or config change"), fix.stderr)
        XCTAssertEqual((try expt.run(["runs", "crash", "--json"], in: t.path).json() as? [Any])?.count, 1)
    }

    func testArrayWithOneFailingTaskRetriesOnlyThatTask() throws {
        try experiment("sweep", env: ["FAIL_TASK": "2"])
        _ = try launch("sweep", ["--array", "0-3", "--mem", "100M"])
        let row = try waitFor("sweep", ["oom", "failed", "succeeded"])
        let tasks = try XCTUnwrap(row["tasks"] as? [[String: Any]])
        XCTAssertEqual(tasks.count, 4, "\(tasks)")
        XCTAssertEqual(tasks.filter { ($0["state"] as? String) != "succeeded" }.compactMap { $0["index"] as? Int }, [2])
        let status = try expt.run(["status", "sweep"], in: t.path)
        XCTAssertTrue(status.stdout.contains("1 of 4 tasks failed") && status.stdout.contains("oom_host"), status.stdout)
        // Each task's own output, read through the backend.
        let task1 = try expt.run(["logs", "sweep", "--task", "1"], in: t.path)
        XCTAssertEqual(task1.status, 0, task1.stderr)
        XCTAssertTrue(task1.stdout.contains("task 1 step 4/4") && task1.stdout.contains("done"), task1.stdout)
        XCTAssertFalse(task1.stdout.contains("task 0 "), "only task 1's output")
        let task2 = try expt.run(["logs", "sweep", "--task", "2", "--stderr", "--json"], in: t.path)
        XCTAssertEqual(task2.status, 0, task2.stderr)
        XCTAssertTrue(((try task2.json() as? [String: Any])?["file"] as? String ?? "").hasSuffix("stderr.2.log"), task2.stdout)
        let whole = try expt.run(["logs", "sweep"], in: t.path)
        XCTAssertEqual(whole.status, 2, "an array's output is per task")
        XCTAssertTrue(whole.stderr.contains("--task") && whole.stderr.contains("failed: 2"), whole.stderr)
        XCTAssertEqual(try expt.run(["logs", "sweep", "--task", "9"], in: t.path).status, 2)
        let calls = try countSlurmCalls()
        let fix = try expt.run(["fix-and-relaunch", "sweep", "--yes", "--json", "--no-push", "--no-comment"], in: t.path)
        XCTAssertEqual(fix.status, 0, fix.stderr)
        let plan = try XCTUnwrap((try fix.json() as? [String: Any])?["plan"] as? [String: Any])
        XCTAssertEqual(plan["tasks"] as? [Int], [2])
        // Issue 16: at most 3 scheduler calls before the relaunch.
        let made = try String(contentsOfFile: calls, encoding: .utf8).split(separator: "\n")
        let submit = try XCTUnwrap(made.firstIndex { $0.hasPrefix("sbatch") }, "\(made)")
        XCTAssertLessThanOrEqual(submit, 3, "scheduler calls before the relaunch: \(made[..<submit])")
        XCTAssertEqual(plan["profile"] as? String, "highmem")
        let runs = try XCTUnwrap(try expt.run(["runs", "sweep", "--json"], in: t.path).json() as? [[String: Any]])
        let relaunch = try XCTUnwrap(runs.last)
        XCTAssertEqual(relaunch["parent_run"] as? String, runs.first?["run"] as? String)
        let done = try waitFor("sweep", ["succeeded", "failed", "oom"])
        XCTAssertEqual(done["state"] as? String, "succeeded", "\(done)")
        XCTAssertEqual((done["tasks"] as? [[String: Any]])?.compactMap { $0["index"] as? Int }, [2], "only task 2 ran again")
    }

    func testRequeuedJobResumesFromItsCheckpointWithoutTruncatingOutput() throws {
        try experiment("requeue", env: ["STEPS": "12", "STEP_SECONDS": "1"])
        let l = try launch("requeue")
        let job = try XCTUnwrap(l["job_id"] as? String)
        let ckpt = t.path + "/.worktrees/requeue/checkpoints/step-003.json"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: ckpt) && Date() < deadline { Thread.sleep(forTimeInterval: 0.5) }
        let rq = Process()
        rq.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        rq.arguments = ["scontrol", "requeue", job]
        try rq.run(); rq.waitUntilExit()
        XCTAssertEqual(rq.terminationStatus, 0)
        try waitFor("requeue", ["succeeded"], timeout: 240)
        let out = try expt.run(["logs", "requeue"], in: t.path).stdout
        XCTAssertTrue(out.contains("task  step 1/12"), "the first attempt's output is kept: \(out)")
        XCTAssertTrue(out.contains("resuming from checkpoints/step-0"), out)
        XCTAssertTrue(out.hasSuffix("done\n"), out)
        XCTAssertTrue(try expt.run(["logs", "requeue", "--stderr"], in: t.path).stdout.contains("requeued (restart 1)"))
    }

    /// The one time-limit scenario (Slurm's smallest limit is a minute, and it enforces it up to
    /// 30 s late): `signal_before_limit` reaches the program as SIGUSR1 through the batch
    /// script's trap, the job ends as TIMEOUT, and fix-and-relaunch resumes it with a longer limit.
    func testTimeoutIsResumedWithALongerLimitByFixAndRelaunch() throws {
        try experiment("slow", env: ["STEPS": "100", "STEP_SECONDS": "1"])
        let wt = t.path + "/.worktrees/slow"
        let toml = try String(contentsOfFile: wt + "/expt.toml", encoding: .utf8)
        try (toml + "\n[slurm]\nsignal_before_limit = 50\n").write(toFile: wt + "/expt.toml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try expt.run(["checkpoint", "slow", "-m", "signal"], in: t.path).status, 0)
        _ = try launch("slow", ["--time", "1"])
        try waitFor("slow", ["timeout"], timeout: 240)
        XCTAssertEqual(try diagnosis("slow")["category"] as? String, "timeout")
        XCTAssertTrue(try expt.run(["logs", "slow"], in: t.path).stdout.contains("USR1: checkpointing"), "SIGUSR1 before the limit")
        XCTAssertTrue(try expt.run(["logs", "slow", "--stderr"], in: t.path).stdout.contains("DUE TO TIME LIMIT"))
        // The relaunch runs fast: the user changed the step time, and the fix commits it.
        let fast = try String(contentsOfFile: wt + "/expt.toml", encoding: .utf8)
            .replacingOccurrences(of: "STEP_SECONDS = \"1\"", with: "STEP_SECONDS = \"0.05\"")
        try fast.write(toFile: wt + "/expt.toml", atomically: true, encoding: .utf8)
        let fix = try expt.run(["fix-and-relaunch", "slow", "--yes", "--json", "--no-push", "--no-comment"], in: t.path)
        XCTAssertEqual(fix.status, 0, fix.stderr)
        let plan = try XCTUnwrap((try fix.json() as? [String: Any])?["plan"] as? [String: Any])
        let limit = try XCTUnwrap((plan["resources"] as? [String: Any])?["time_limit_seconds"] as? Int)
        XCTAssertGreaterThanOrEqual(limit, 90, "×1.5 (rounded up to whole minutes for Slurm)")
        XCTAssertNotNil(plan["resume_from"] as? String)
        try waitFor("slow", ["succeeded"], timeout: 240)
        XCTAssertTrue(try expt.run(["logs", "slow"], in: t.path).stdout.contains("resuming from"))
        let history = try XCTUnwrap(try expt.run(["history", "slow", "--json"], in: t.path).json() as? [[String: Any]])
        XCTAssertEqual(history.first?["outcome"] as? String, "succeeded")
    }
}
