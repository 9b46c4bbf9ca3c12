import Foundation
import XCTest
import ExptTestSupport

/// W&B as the run tracker, through `expt` on the local backend: real offline run directories
/// from the pinned wandb (scripts/install-deps.sh), and the strict fakes of the wandb module and
/// CLI where a W&B server would answer (none can run here). Scenarios: a linked run with its
/// progress, an OOM fixed and resumed under the same W&B run, a zombie closed, a stall seen from
/// the log alone, a sweep cancelled on both sides (and only the branch's jobs), and bad input.
final class WandbEndToEndTests: XCTestCase {
    var expt: ExptBinary!
    var fake: FakeWandb!
    var t: TempRepo!

    override func setUpWithError() throws {
        expt = try ExptBinary()
        fake = try FakeWandb()
        expt.environment = fake.environment
        expt.environment["EXPT_LOCAL_KILL_GRACE"] = "1"
        // No network: the real wandb runs offline and nothing may reach a server.
        expt.environment["HTTPS_PROXY"] = "http://127.0.0.1:9"
        expt.environment["WANDB_CONFIG_DIR"] = fake.root + "/wandb-config"
        addTeardownBlock { [fake] in XCTAssertEqual(fake?.unexpectedCalls().count ?? 0, 0, "\(fake?.unexpectedCalls() ?? [])") }
    }

    /// A repository whose expt.toml is `toml` (W&B entity lab, project traits), with `branches`.
    func repo(_ toml: String, branches: [String] = ["train"]) throws {
        let script = try String(contentsOfFile: try FakeWandb.fixture("wandb-train.py"), encoding: .utf8)
        t = try TempRepo(files: ["README.md": "# traits\n", "wandb-train.py": script, ".gitignore": "checkpoints/\n"])
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        try toml.write(toFile: t.path + "/expt.toml", atomically: true, encoding: .utf8)
        try t.git("add", "-A"); try t.git("commit", "-qm", "config", "--no-verify")
        for b in branches { XCTAssertEqual(try expt.run(["new", b], in: t.path).status, 0) }
    }

    func status(_ branch: String = "train") throws -> [[String: Any]] {
        let r = try expt.run(["status", branch, "--all", "--json"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(try r.json() as? [[String: Any]], r.stdout)
    }

    func waitFor(_ states: Set<String>, branch: String = "train", run: String? = nil, timeout: TimeInterval = 60) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let row = try status(branch).last(where: { run == nil || $0["run"] as? String == run }),
               states.contains(row["state"] as? String ?? "") { return row }
            usleep(300_000)
        }
        XCTFail("\(branch) did not reach \(states) in \(timeout) s: \(try status(branch))"); return [:]
    }

    /// The pinned real wandb's Python, for the job (which must import it, not the fake module).
    func realWandb() throws -> String {
        expt.environment["PYTHONPATH"] = nil
        return try FakeWandb.requireRealWandbPython()
    }

    func wandbID(_ launch: ExptBinary.Result) throws -> String {
        let o = try XCTUnwrap(try launch.json() as? [String: Any], launch.stdout + launch.stderr)
        let env = try XCTUnwrap((o["spec"] as? [String: Any])?["environment"] as? [String: String])
        return try XCTUnwrap(env["WANDB_RUN_ID"])
    }

    func setRun(_ id: String, _ fields: [String: Any]) throws {
        var runs = fake.scenario["runs"] as? [String: Any] ?? [:]
        runs["lab/traits/" + id] = fields
        fake.scenario["runs"] = runs
        try fake.write()
    }

    // MARK: - Real wandb, offline

    func testAnOOMIsFixedAndResumedUnderTheSameWandbRun() throws {
        let python = try realWandb()
        try repo("""
        command = "\(python) wandb-train.py oom --steps 8"
        resume_command = "\(python) wandb-train.py ok --steps 8 --resume-from {checkpoint}"
        checkpoint_glob = "checkpoints/step.txt"
        [env]
        WANDB_MODE = "offline"
        [resources]
        mem = "700M"
        [wandb]
        entity = "lab"
        project = "traits"
        """)
        let launch = try expt.run(["launch", "train", "--json"], in: t.path)
        XCTAssertEqual(launch.status, 0, launch.stderr)
        let id = try wandbID(launch)
        XCTAssertTrue(id.hasPrefix("train-r1-"), id)
        let failed = try waitFor(["oom", "failed", "succeeded"], timeout: 90)
        XCTAssertEqual(failed["state"] as? String, "oom", "\(failed)")
        let w = try XCTUnwrap(failed["wandb"] as? [String: Any])
        XCTAssertEqual(w["id"] as? String, id)
        XCTAssertEqual(w["url"] as? String, "https://wandb.ai/lab/traits/runs/\(id)")
        XCTAssertEqual(w["source"] as? String, "files", "offline: only its directory is read, W&B is never asked")
        let dirs = try XCTUnwrap(w["directories"] as? [String])
        XCTAssertEqual(dirs.count, 1, "\(dirs)")
        guard dirs.count == 1 else { return }
        XCTAssertTrue(dirs[0].contains("/.worktrees/train/wandb/offline-run-") && dirs[0].hasSuffix("-" + id), dirs[0])
        XCTAssertEqual(try t.git("-C", t.path + "/.worktrees/train", "status", "--porcelain", "--", "wandb"), "",
                       "W&B directories are run output: never a dirty worktree")

        let fix = try expt.run(["fix-and-relaunch", "train", "--yes", "--wait", "60", "--json"], in: t.path, timeout: 120)
        XCTAssertEqual(fix.status, 0, fix.stdout + fix.stderr)
        let relaunch = try waitFor(["succeeded", "failed", "oom"], run: "r2", timeout: 90)
        XCTAssertEqual(relaunch["state"] as? String, "succeeded", "\(relaunch)")
        let w2 = try XCTUnwrap(relaunch["wandb"] as? [String: Any])
        XCTAssertEqual(w2["id"] as? String, id, "the resume continues the same W&B run")
        let dirs2 = try XCTUnwrap(w2["directories"] as? [String])
        XCTAssertEqual(dirs2.count, 2, "both attempts wrote into one W&B run id: \(dirs2)")
        XCTAssertTrue(dirs2.allSatisfy { $0.contains("-" + id) }, "\(dirs2)")
        let progress = try XCTUnwrap(relaunch["progress_detail"] as? [String: Any])
        XCTAssertEqual(progress["step"] as? Int, 7)
        XCTAssertEqual(progress["total_steps"] as? Int, 8)
        let steps = try XCTUnwrap((try fix.json() as? [String: Any])?["steps"] as? [[String: Any]])
        XCTAssertEqual(steps.first { $0["step"] as? String == "supersede" }?["status"] as? String, "skipped", "\(steps)")
        let verify = try XCTUnwrap(steps.first { $0["step"] as? String == "verify" }?["detail"] as? String)
        XCTAssertTrue(verify.contains("past the failed run's step"), verify)
        let text = try expt.run(["status", "train"], in: t.path).stdout
        XCTAssertTrue(text.contains("r2 W&B: https://wandb.ai/lab/traits/runs/\(id)"), text)
    }

    /// The file-based path on the other endings: a run that raises, and one SIGKILLed from
    /// outside (its run directory is all wandb leaves; 0.31.0 writes 7 bytes of .wandb then).
    func testRunsThatRaiseOrAreSIGKILLedAreFoundByTheirDirectory() throws {
        let python = try realWandb()
        try repo("""
        command = "\(python) wandb-train.py fail --steps 8"
        [env]
        WANDB_MODE = "offline"
        [wandb]
        entity = "lab"
        project = "traits"
        """, branches: ["raises", "killed"])
        let toml = t.path + "/.worktrees/killed/expt.toml"
        try (try String(contentsOfFile: toml, encoding: .utf8)).replacingOccurrences(of: " fail ", with: " kill ")
            .write(toFile: toml, atomically: true, encoding: .utf8)
        XCTAssertEqual(try expt.run(["checkpoint", "killed", "-m", "kill mode"], in: t.path).status, 0)
        for b in ["raises", "killed"] { XCTAssertEqual(try expt.run(["launch", b], in: t.path).status, 0) }
        let raised = try waitFor(["failed", "succeeded"], branch: "raises", timeout: 90)
        XCTAssertEqual(raised["exit_code"] as? Int, 1)
        XCTAssertEqual(raised["diagnosis"] as? String, "code_error", "the traceback: \(raised)")
        XCTAssertEqual(((raised["wandb"] as? [String: Any])?["directories"] as? [String])?.count, 1, "\(raised)")
        XCTAssertEqual((raised["progress_detail"] as? [String: Any])?["step"] as? Int, 1)

        // Wait for its second step, then SIGKILL the training process itself.
        let deadline = Date().addingTimeInterval(60)
        var killed = false
        while Date() < deadline, !killed {
            let out = (try? String(contentsOfFile: t.path + "/.worktrees/killed/checkpoints/step.txt", encoding: .utf8)) ?? ""
            if out.trimmingCharacters(in: .whitespacesAndNewlines) == "2" {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/pkill")
                p.arguments = ["-KILL", "-f", "wandb-train.py kill"]
                try p.run(); p.waitUntilExit()
                killed = p.terminationStatus == 0
            } else { usleep(200_000) }
        }
        XCTAssertTrue(killed, "the kill-mode run reached its second step")
        let row = try waitFor(["failed", "succeeded"], branch: "killed", timeout: 60)
        XCTAssertEqual(row["signal"] as? Int, 9, "\(row)")
        let w = try XCTUnwrap(row["wandb"] as? [String: Any])
        XCTAssertEqual((w["directories"] as? [String])?.count, 1, "\(w)")
        XCTAssertNotNil(w["heartbeat_at"] as? String, "the directory's last write stands in for a heartbeat offline")
    }

    // MARK: - Fakes where W&B would answer

    static let quick = """
    command = "echo step 3/4 loss 0.5"
    [wandb]
    entity = "lab"
    project = "traits"
    """

    func testAZombieIsShownAndClosedWithDryRunFirst() throws {
        try repo(Self.quick)
        let launch = try expt.run(["launch", "train", "--json"], in: t.path)
        XCTAssertEqual(launch.status, 0, launch.stderr)
        let id = try wandbID(launch)
        _ = try waitFor(["succeeded"])
        try setRun(id, ["state": "running", "heartbeatAt": "2026-12-01T08:00:00Z"])
        let row = try XCTUnwrap(try status().last)
        let d = try XCTUnwrap((row["discrepancies"] as? [[String: Any]])?.first)
        XCTAssertEqual(d["kind"] as? String, "zombie")
        let dry = try expt.run(["close-zombies", "--dry-run", "--json"], in: t.path)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertEqual((try dry.json() as? [[String: Any]])?.first?["action"] as? String, "would_close")
        XCTAssertEqual(try fake.run("lab/traits/" + id)?["state"] as? String, "running", "a dry run changes nothing")
        let close = try expt.run(["close-zombies"], in: t.path)
        XCTAssertEqual(close.status, 0, close.stderr)
        XCTAssertTrue(close.stdout.contains("train r1: marked W&B run lab/traits/\(id) failed (it was running)"), close.stdout)
        XCTAssertEqual(try fake.run("lab/traits/" + id)?["state"] as? String, "failed")
        XCTAssertEqual((try status().last?["discrepancies"] as? [Any])?.count, 0)
        XCTAssertEqual(try expt.run(["close-zombies"], in: t.path).stdout, "no zombies: every tracker run that says running has a live job\n")
        // A wandb without Run.update_state says which version is needed.
        try setRun(id, ["state": "running"])
        fake.scenario["update_state"] = false; fake.scenario["version"] = "0.18.7"
        try fake.write()
        let old = try expt.run(["close-zombies"], in: t.path)
        XCTAssertEqual(old.status, 5)
        XCTAssertTrue(old.stdout.contains("0.18.7") && old.stdout.contains("0.31.0"), old.stdout)
    }

    func testAStallIsSeenFromTheLogAloneWithoutWandb() throws {
        try repo("""
        command = "echo step 1/10; echo 'NCCL INFO AllReduce: opCount 7f'; sleep 60"
        [run]
        stall_after = "2s"
        """)
        XCTAssertEqual(try expt.run(["launch", "train"], in: t.path).status, 0)
        _ = try waitFor(["running"])
        sleep(4)
        let text = try expt.run(["status", "train"], in: t.path)
        XCTAssertTrue(text.stdout.contains("r1 stalled: no new log line for "), text.stdout)
        XCTAssertTrue(text.stdout.contains("  last line: NCCL INFO AllReduce: opCount 7f"), text.stdout)
        XCTAssertEqual(try status().last?["state"] as? String, "running", "a warning: the job is still the scheduler's")
        let watch = try expt.run(["watch", "train", "--max-duration", "0", "--json"], in: t.path)
        XCTAssertTrue(watch.stdout.contains("\"warning\":\"stalled\""), watch.stdout)
        XCTAssertEqual(try expt.run(["cancel", "train"], in: t.path).status, 0)
    }

    func testASweepIsCancelledOnBothSidesAndNoOtherJobIsTouched() throws {
        try repo("""
        command = "echo step 1/100; sleep 60"
        [wandb]
        entity = "lab"
        project = "traits"
        """, branches: ["train", "other"])
        fake.scenario["sweeps"] = ["lab/traits/sw1": ["state": "RUNNING"]]
        try fake.write()
        // Only `train` belongs to the sweep: its worktree's expt.toml names it.
        let trainToml = t.path + "/.worktrees/train/expt.toml"
        try (try String(contentsOfFile: trainToml, encoding: .utf8) + "\nsweep = \"lab/traits/sw1\"\n")
            .write(toFile: trainToml, atomically: true, encoding: .utf8)
        XCTAssertEqual(try expt.run(["checkpoint", "train", "-m", "in the sweep"], in: t.path).status, 0)
        for b in ["train", "other"] { XCTAssertEqual(try expt.run(["launch", b], in: t.path).status, 0) }
        XCTAssertEqual(try expt.run(["launch", "train", "--allow-concurrent"], in: t.path).status, 0)
        _ = try waitFor(["running"], run: "r3")

        let dry = try expt.run(["cancel", "train", "--dry-run"], in: t.path)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("would cancel r1") && dry.stdout.contains("would cancel r3"), dry.stdout)
        XCTAssertTrue(dry.stdout.contains("would run: wandb sweep --cancel lab/traits/sw1"), dry.stdout)
        XCTAssertEqual(fake.cliCalls(), [], "a dry run asks nothing")

        let cancel = try expt.run(["cancel", "train", "--json"], in: t.path)
        XCTAssertEqual(cancel.status, 0, cancel.stderr)
        let o = try XCTUnwrap(try cancel.json() as? [String: Any])
        XCTAssertEqual(o["action"] as? String, "cancelled")
        XCTAssertEqual((o["runs"] as? [[String: Any]])?.compactMap { $0["state"] as? String }, ["cancelled", "cancelled"])
        XCTAssertEqual(fake.cliCalls(), [["sweep", "--cancel", "lab/traits/sw1"]])
        XCTAssertEqual((try fake.current()["sweeps"] as? [String: [String: String]])?["lab/traits/sw1"]?["state"], "CANCELED")
        XCTAssertEqual(try status("other").last?["state"] as? String, "running", "never another branch's job")
        XCTAssertEqual(try expt.run(["cancel", "other"], in: t.path).status, 0)
        XCTAssertEqual(fake.cliCalls().count, 1, "other is in no sweep")
        // Again: the sweep has ended already, which is not an error.
        let again = try expt.run(["cancel", "train"], in: t.path)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("W&B sweep lab/traits/sw1 had already ended (Sweep already canceled.)"), again.stdout)

        // --stop: the sweep stops and the job is left to finish.
        fake.scenario = try fake.current()
        fake.scenario["sweeps"] = ["lab/traits/sw1": ["state": "RUNNING"]]
        try fake.write()
        XCTAssertEqual(try expt.run(["launch", "train"], in: t.path).status, 0)
        let stop = try expt.run(["cancel", "train", "--stop"], in: t.path)
        XCTAssertEqual(stop.status, 0, stop.stderr)
        XCTAssertTrue(stop.stdout.contains("stopped W&B sweep lab/traits/sw1") && stop.stdout.contains("left to finish: r4"), stop.stdout)
        XCTAssertEqual(try status().last?["state"] as? String, "running")
        XCTAssertEqual((try fake.current()["sweeps"] as? [String: [String: String]])?["lab/traits/sw1"]?["state"], "FINISHED")
        XCTAssertEqual(try expt.run(["cancel", "train", "--run", "r4"], in: t.path).status, 0)
    }

    func testBadInputIsRefusedClearly() throws {
        try repo(Self.quick.replacingOccurrences(of: "entity = \"lab\"", with: "entity = \"lab/x\""))
        let bad = try expt.run(["launch", "train"], in: t.path)
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("expt.toml:3") && bad.stderr.contains("not a W&B entity name"), bad.stderr)
        try repo(Self.quick + "\nsweep = \"lab/traits/nope\"\n")
        fake.scenario["sweeps"] = [:]
        try fake.write()
        XCTAssertEqual(try expt.run(["launch", "train"], in: t.path).status, 0)
        let missing = try expt.run(["cancel", "train"], in: t.path)
        XCTAssertEqual(missing.status, 5, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("W&B refused to cancel sweep lab/traits/nope: Error: Sweep lab/traits/nope not found"), missing.stderr)
        let typo = try expt.run(["status"], in: t.path, env: ["PYTHONPATH": "/nonexistent"])
        XCTAssertEqual(typo.status, 0, "a missing wandb degrades, never fails status")
        XCTAssertTrue(typo.stderr.contains("wandb is not installed"), typo.stderr)
    }
}
