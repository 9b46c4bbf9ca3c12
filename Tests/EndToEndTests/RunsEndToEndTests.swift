import XCTest
import ExptTestSupport

/// Launch, status, logs, cancel and watch on the local backend, with real processes and a real
/// SQLite ledger, through the built binary.
final class RunsEndToEndTests: XCTestCase {
    var expt: ExptBinary!
    var t: TempRepo!

    /// A repo with expt.toml whose command is `script` (a bash snippet), and experiment e1.
    func setUp(command: String, extra: String = "", files: [String: String] = [:]) throws {
        expt = try ExptBinary()
        expt.environment["EXPT_LOCAL_KILL_GRACE"] = "1"
        t = try TempRepo(files: files.merging(["README.md": "x\n"]) { a, _ in a })
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        let toml = try String(contentsOfFile: t.path + "/expt.toml", encoding: .utf8)
            .replacingOccurrences(of: "command = \"python3 train.py\"", with: "command = '''\(command)'''")
        try (toml + extra).write(toFile: t.path + "/expt.toml", atomically: true, encoding: .utf8)
        try t.git("add", "-A"); try t.git("commit", "-qm", "config", "--no-verify")
        XCTAssertEqual(try expt.run(["new", "e1"], in: t.path).status, 0)
    }

    func json(_ r: ExptBinary.Result) throws -> [String: Any] {
        try XCTUnwrap(try r.json() as? [String: Any], r.stdout + r.stderr)
    }

    /// Polls `expt status e1 --json` until the latest run is terminal.
    func waitForEnd(timeout: TimeInterval = 30) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let rows = try XCTUnwrap(try expt.run(["status", "e1", "--json"], in: t.path).json() as? [[String: Any]])
            if let row = rows.last, let state = row["state"] as? String,
               !["submitting", "pending", "running"].contains(state) { return row }
            usleep(200_000)
        }
        XCTFail("run did not end in \(timeout) s"); return [:]
    }

    func testLaunchSucceedsAndStatusLogsRunsReportIt() throws {
        try setUp(command: "echo epoch 1/2; echo oops >&2; echo epoch 2/2; echo done")
        let launch = try expt.run(["launch", "e1", "--json"], in: t.path)
        XCTAssertEqual(launch.status, 0, launch.stderr)
        let l = try json(launch)
        XCTAssertEqual(l["run"] as? String, "r1")
        XCTAssertEqual(l["backend"] as? String, "local")
        XCTAssertEqual(l["commit"] as? String, try t.git("rev-parse", "e1").trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertNotNil(l["job_id"] as? String)
        let row = try waitForEnd()
        XCTAssertEqual(row["state"] as? String, "succeeded")
        XCTAssertEqual(row["exit_code"] as? Int, 0)
        XCTAssertEqual(row["progress"] as? String, "epoch 2/2 (100%)")
        let detail = try XCTUnwrap(row["progress_detail"] as? [String: Any])
        XCTAssertEqual(detail["percent"] as? Double, 100)
        XCTAssertEqual(detail["source"] as? String, "log")
        XCTAssertNil(row["wandb"] as? [String: Any], "no [wandb]: no tracker")
        XCTAssertEqual(try expt.run(["logs", "e1"], in: t.path).stdout, "epoch 1/2\nepoch 2/2\ndone\n")
        XCTAssertEqual(try expt.run(["logs", "e1", "--stderr"], in: t.path).stdout, "oops\n")
        XCTAssertEqual(try expt.run(["logs", "e1", "--tail", "1"], in: t.path).stdout, "done\n")
        let runs = try XCTUnwrap(try expt.run(["runs", "e1", "--json"], in: t.path).json() as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["run"] as? String }, ["r1"])
    }

    /// A finished run's log is read once: later views come from the ledger's cache of its
    /// tail (issue 16), so they say the same even once the log is gone.
    func testAFinishedRunsProgressIsReadOnceAndCached() throws {
        try setUp(command: "echo step 10/30; echo step 30/30; echo all done")
        XCTAssertEqual(try expt.run(["launch", "e1"], in: t.path).status, 0)
        let first = try waitForEnd()
        XCTAssertEqual(first["progress"] as? String, "step 30/30 (100%)")
        let runDir = t.path + "/.git/expt/runs/r1"
        XCTAssertTrue(FileManager.default.fileExists(atPath: runDir + "/stdout.log"))
        try FileManager.default.moveItem(atPath: runDir + "/stdout.log", toPath: t.path + "/.git/expt/stdout.aside")
        let rows = try XCTUnwrap(try expt.run(["status", "e1", "--json"], in: t.path).json() as? [[String: Any]])
        XCTAssertEqual(rows.last?["progress"] as? String, "step 30/30 (100%)", "from the cache, not the (moved) log")
    }

    func testOOMTimeoutFailureAndCancelAreReportedAsSuch() throws {
        try setUp(command: "python3 -c 'b = bytearray(400 * 1024 * 1024); import time; time.sleep(30)'")
        XCTAssertEqual(try expt.run(["launch", "e1", "--mem", "100M"], in: t.path).status, 0)
        let oom = try waitForEnd()
        XCTAssertEqual(oom["state"] as? String, "oom")
        XCTAssertEqual(oom["diagnosis"] as? String, "oom_host", "status diagnoses new failures")
        XCTAssertTrue(try expt.run(["logs", "e1", "--stderr"], in: t.path).stdout.contains("oom-kill event"))
        let d = try json(try expt.run(["diagnose", "e1", "--json"], in: t.path))
        XCTAssertEqual(d["category"] as? String, "oom_host")
        XCTAssertEqual(((d["evidence"] as? [[String: Any]])?.first?["file"]) as? String, "stderr.log")
        XCTAssertTrue((((d["evidence"] as? [[String: Any]])?.first?["text"]) as? String ?? "").contains("oom-kill event"))
        XCTAssertEqual((d["remedy"] as? [String: Any])?["kind"] as? String, "escalate_resources")

        XCTAssertEqual(try expt.run(["launch", "e1", "--time", "1s", "--mem", "1G", "--allow-dirty"], in: t.path).status, 0)
        try t.write("expt.toml", (try String(contentsOfFile: t.path + "/.worktrees/e1/expt.toml", encoding: .utf8))
            .replacingOccurrences(of: "python3 -c 'b = bytearray(400 * 1024 * 1024); import time; time.sleep(30)'", with: "sleep 30"),
                    in: t.path + "/.worktrees/e1")
        _ = try waitForEnd()
        XCTAssertEqual(try expt.run(["checkpoint", "e1", "-m", "sleep"], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["launch", "e1", "--time", "1s"], in: t.path).status, 0)
        XCTAssertEqual(try waitForEnd()["state"] as? String, "timeout")
        let td = try json(try expt.run(["diagnose", "e1", "--json"], in: t.path))
        XCTAssertEqual(td["category"] as? String, "timeout")
        XCTAssertTrue((((td["evidence"] as? [[String: Any]])?.first?["text"]) as? String ?? "").contains("TIME LIMIT"), "\(td)")

        XCTAssertEqual(try expt.run(["launch", "e1"], in: t.path).status, 0)
        let cancel = try expt.run(["cancel", "e1", "--json"], in: t.path)
        XCTAssertEqual(cancel.status, 0, cancel.stderr)
        XCTAssertEqual(try json(cancel)["state"] as? String, "cancelled")
        let watch = try expt.run(["watch", "e1", "--interval", "1"], in: t.path)
        XCTAssertEqual(watch.status, 6, "watch exits 6 when the watched run failed: \(watch.stdout)")
    }

    func testFailedJobAndWatchExitCodes() throws {
        try setUp(command: "sleep 1; exit 3")
        XCTAssertEqual(try expt.run(["launch", "e1"], in: t.path).status, 0)
        let timedOut = try expt.run(["watch", "e1", "--interval", "1", "--max-duration", "0"], in: t.path)
        XCTAssertEqual(timedOut.status, 7, timedOut.stdout + timedOut.stderr)
        let watch = try expt.run(["watch", "e1", "--interval", "1"], in: t.path)
        XCTAssertEqual(watch.status, 6)
        XCTAssertTrue(watch.stdout.contains("failed (exit 3)"), watch.stdout)
    }

    func testDirtyWorktreeAndConcurrentRunAreRefusedDryRunChangesNothing() throws {
        try setUp(command: "sleep 5")
        try t.write("notes.txt", "wip\n", in: t.path + "/.worktrees/e1")
        let dirty = try expt.run(["launch", "e1"], in: t.path)
        XCTAssertEqual(dirty.status, 3)
        XCTAssertTrue(dirty.stderr.contains("notes.txt") && dirty.stderr.contains("--allow-dirty"), dirty.stderr)
        try FileManager.default.removeItem(atPath: t.path + "/.worktrees/e1/notes.txt")
        let dry = try expt.run(["launch", "e1", "--dry-run", "--json", "--profile", "highmem"], in: t.path)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        let spec = try XCTUnwrap(try json(dry)["spec"] as? [String: Any])
        XCTAssertEqual(spec["command"] as? String, "sleep 5")
        XCTAssertEqual((spec["resources"] as? [String: Any])?["memory_mb"] as? Int, 16384)
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.path + "/.git/expt/ledger.sqlite"), "dry-run touches nothing")
        XCTAssertEqual(try expt.run(["launch", "e1"], in: t.path).status, 0)
        let again = try expt.run(["launch", "e1"], in: t.path)
        XCTAssertEqual(again.status, 3)
        XCTAssertTrue(again.stderr.contains("already has run r1"), again.stderr)
        XCTAssertEqual(try expt.run(["cancel", "e1"], in: t.path).status, 0)
    }

    func testEightConcurrentLaunchesSubmitExactlyOnce() throws {
        try setUp(command: "sleep 3")
        let procs = try (0..<8).map { _ in try expt.start(["launch", "e1"], in: t.path) }
        procs.forEach { $0.waitUntilExit() }
        let statuses = procs.map(\.terminationStatus)
        XCTAssertEqual(statuses.filter { $0 == 0 }.count, 1, "exactly one launch submits: \(statuses)")
        XCTAssertEqual(statuses.filter { $0 == 3 }.count, 7, "the rest are refused with a conflict: \(statuses)")
        let runs = try XCTUnwrap(try expt.run(["runs", "e1", "--json"], in: t.path).json() as? [[String: Any]])
        XCTAssertEqual(runs.count, 1)
        let refused = try expt.run(["launch", "e1"], in: t.path)
        XCTAssertTrue(refused.stderr.contains("already"), refused.stderr)
        XCTAssertEqual(try expt.run(["cancel", "e1"], in: t.path).status, 0)
    }

    func testLaunchKilledAtEachStepEndsWithExactlyOneJobAndNoOrphan() throws {
        try setUp(command: "echo started; sleep 2")
        for fault in ["after-intent", "after-submit"] {
            let p = try expt.start(["launch", "e1", "--allow-concurrent"], in: t.path, env: ["EXPT_FAULT": fault])
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .uncaughtSignal, fault)
        }
        // The next commands reconcile: the after-submit launch is found by its job name; the
        // after-intent one never submitted and is discarded once its grace has passed.
        let deadline = Date().addingTimeInterval(20)
        var runs: [[String: Any]] = []
        while Date() < deadline {
            runs = try XCTUnwrap(try expt.run(["runs", "e1", "--json"], in: t.path).json() as? [[String: Any]])
            if !runs.contains(where: { $0["state"] as? String == "submitting" }) { break }
            usleep(500_000)
        }
        XCTAssertEqual(runs.count, 1, "exactly one recorded job: \(runs)")
        XCTAssertEqual(runs.first?["run"] as? String, "r2")
        XCTAssertNotNil(runs.first?["job_id"] as? String)
        let dirs = try FileManager.default.contentsOfDirectory(atPath: t.path + "/.git/expt/runs")
        let started = dirs.filter { FileManager.default.fileExists(atPath: t.path + "/.git/expt/runs/\($0)/supervisor.json") }
        XCTAssertEqual(started, ["r2"], "no orphan job: only the recorded run ever started")
    }

    func testJobWhoseSupervisorVanishedIsLostNeverSucceeded() throws {
        try setUp(command: "sleep 30")
        let l = try json(try expt.run(["launch", "e1", "--json"], in: t.path))
        let jobID = try XCTUnwrap(l["job_id"] as? String)
        let pid = try XCTUnwrap(Int32(jobID.split(separator: ".").last!))
        kill(pid, SIGKILL)
        let row = try waitForEnd()
        XCTAssertEqual(row["state"] as? String, "lost")
        let status = try expt.run(["status", "e1"], in: t.path)
        XCTAssertTrue(status.stdout.contains("lost"), status.stdout)
        XCTAssertEqual(try json(try expt.run(["diagnose", "e1", "--json"], in: t.path))["category"] as? String, "node_failure")
        // The job's processes outlived their supervisor; cancel still stops them.
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: t.path + "/.git/expt/runs/r1/supervisor.json"))) as? [String: Any]
        let pgid = try XCTUnwrap(info?["job_pgid"] as? Int)
        XCTAssertEqual(kill(-Int32(pgid), 0), 0, "the orphaned job still runs")
        XCTAssertEqual(try expt.run(["cancel", "e1", "--run", "r1"], in: t.path).status, 0)
        let deadline = Date().addingTimeInterval(10)
        while kill(-Int32(pgid), 0) == 0 && Date() < deadline { usleep(100_000) }
        XCTAssertNotEqual(kill(-Int32(pgid), 0), 0, "cancel stopped the orphaned job")
    }

    func testBadConfigAndLookupsGiveClearErrors() throws {
        try setUp(command: "true")
        let wt = t.path + "/.worktrees/e1"
        func launchError(_ toml: String) throws -> ExptBinary.Result {
            try toml.write(toFile: wt + "/expt.toml", atomically: true, encoding: .utf8)
            return try expt.run(["launch", "e1", "--allow-dirty"], in: t.path)
        }
        var r = try launchError("command = \"true\"\n[resources]\nmemory = \"4G\"\n")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("expt.toml:3") && r.stderr.contains("resources.memory"), r.stderr)
        r = try launchError("backend = \"k8s\"\n")
        XCTAssertTrue(r.stderr.contains("unknown backend 'k8s'") && r.stderr.contains(":1") && r.stderr.contains("kubernetes"), r.stderr)
        r = try launchError("command = \"true\n")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("expt.toml:1"), r.stderr)
        r = try launchError("[resources]\nmem = \"lots\"\n")
        XCTAssertTrue(r.stderr.contains("'lots' is not a size"), r.stderr)
        try t.git("checkout", "-q", "--", "expt.toml", in: wt)
        r = try expt.run(["launch", "e1", "--profile", "huge"], in: t.path)
        XCTAssertTrue(r.stderr.contains("unknown profile 'huge'") && r.stderr.contains("highmem"), r.stderr)
        try FileManager.default.removeItem(atPath: t.path + "/expt.toml")
        try FileManager.default.removeItem(atPath: wt + "/expt.toml")
        r = try expt.run(["launch", "e1", "--allow-dirty"], in: t.path)
        XCTAssertEqual(r.status, 4)
        XCTAssertTrue(r.stderr.contains("no expt.toml") && r.stderr.contains("expt init"), r.stderr)

        XCTAssertEqual(try expt.run(["launch", "nope"], in: t.path).status, 4)
        r = try expt.run(["logs", "e1"], in: t.path)
        XCTAssertEqual(r.status, 4)
        XCTAssertTrue(r.stderr.contains("no runs yet"), r.stderr)
        r = try expt.run(["logs", "e1", "--run", "r99"], in: t.path)
        XCTAssertTrue(r.stderr.contains("no run 'r99'"), r.stderr)
    }

    func testACommandThatDoesNotExistFailsAndIsDiagnosed() throws {
        try setUp(command: "no-such-trainer --epochs 3")
        XCTAssertEqual(try expt.run(["launch", "e1"], in: t.path).status, 0)
        let row = try waitForEnd()
        XCTAssertEqual(row["state"] as? String, "failed")
        XCTAssertEqual(row["exit_code"] as? Int, 127)
        let d = try json(try expt.run(["diagnose", "e1", "--json"], in: t.path))
        XCTAssertEqual(d["category"] as? String, "missing_dependency", "\(d)")
    }

    func testHugeBinaryNonUTF8LogsAreReadBoundedWithoutCrashing() throws {
        try setUp(command: "head -c 30000000 /dev/urandom; printf '\\xff\\xfe not utf8\\nlast line\\n'")
        XCTAssertEqual(try expt.run(["launch", "e1"], in: t.path).status, 0)
        XCTAssertEqual(try waitForEnd()["state"] as? String, "succeeded")
        let tail = try expt.run(["logs", "e1", "--tail", "1"], in: t.path)
        XCTAssertEqual(tail.status, 0, tail.stderr)
        XCTAssertEqual(tail.stdout, "last line\n")
        let all = try expt.run(["logs", "e1", "--json"], in: t.path)
        XCTAssertEqual(all.status, 0)
        XCTAssertLessThan(all.stdout.utf8.count, 40_000_000, "read from the end, bounded")
        XCTAssertEqual(try expt.run(["diagnose", "e1"], in: t.path).status, 0)
    }

    /// Polling with silently-defaulted settings (another backend, no exec prefix) could mark live
    /// jobs lost; a broken expt.toml stops status instead, naming file and line.
    func testBrokenRootConfigStopsStatusInsteadOfPollingWithDefaults() throws {
        try setUp(command: "sleep 5")
        XCTAssertEqual(try expt.run(["launch", "e1"], in: t.path).status, 0)
        try "backend = \"slurm\"\n[slurm\n".write(toFile: t.path + "/expt.toml", atomically: true, encoding: .utf8)
        let r = try expt.run(["status"], in: t.path)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("expt.toml:2"), r.stderr)
        try t.git("checkout", "-q", "--", "expt.toml")
        XCTAssertEqual(try expt.run(["cancel", "e1"], in: t.path).status, 0)
    }

    func testCorruptedLedgerIsReportedAndLeftUntouched() throws {
        try setUp(command: "true")
        let ledger = t.path + "/.git/expt/ledger.sqlite"
        try FileManager.default.createDirectory(atPath: t.path + "/.git/expt", withIntermediateDirectories: true)
        let garbage = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: ledger))
        let r = try expt.run(["status"], in: t.path)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("unreadable") && r.stderr.contains("left untouched"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: ledger)), garbage)
    }
}
