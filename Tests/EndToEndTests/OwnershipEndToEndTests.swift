import Foundation
import XCTest
import ExptTestSupport

/// Commands touch only what is theirs, and a requested cancel is not a failure (issue 10,
/// classes 5 and 8): run outputs never dirty a worktree or reach a commit (R17), `.worktrees/`
/// is excluded without `expt init` (R22), a doc that is a symlink is refused (R24), and a
/// cancelled run is neither diagnosed nor "fixed" (R14), whether its job went at TERM or had to
/// be killed after the grace.
final class OwnershipEndToEndTests: XCTestCase {
    var expt: ExptBinary!
    var t: TempRepo!

    override func setUpWithError() throws {
        expt = try ExptBinary()
        expt.environment["EXPT_LOCAL_KILL_GRACE"] = "1"
    }

    func repo(_ toml: String) throws {
        t = try TempRepo()
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        try toml.write(toFile: t.path + "/expt.toml", atomically: true, encoding: .utf8)
        try t.git("add", "-A"); try t.git("commit", "-qm", "config", "--no-verify")
        XCTAssertEqual(try expt.run(["new", "e"], in: t.path).status, 0)
    }

    func state(_ branch: String = "e") throws -> [String: Any] {
        try XCTUnwrap((try expt.run(["status", branch, "--json"], in: t.path).json() as? [[String: Any]])?.last)
    }

    /// A repository whose branch `e` has one run the local backend killed for memory (OOM).
    /// Only the first run goes over the limit: with the kernel enforcing it (a cgroup) a
    /// relaunch that did too would be killed before the fix's verify saw it running.
    func failedRun() throws {
        try repo("""
        command = "if [ $EXPT_RUN_ID = r1 ]; then python3 -c 'b = bytearray(600 << 20); import time; time.sleep(20)'; else sleep 20; fi"
        [resources]
        mem = "100M"
        """)
        XCTAssertEqual(try expt.run(["launch", "e"], in: t.path).status, 0)
        XCTAssertEqual(try waitForEnd()["state"] as? String, "oom")
    }

    func waitForEnd(_ branch: String = "e", timeout: TimeInterval = 30) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let row = try state(branch)
            if !["submitting", "pending", "running"].contains(row["state"] as? String ?? "") { return row }
            usleep(200_000)
        }
        XCTFail("the run did not end"); return [:]
    }

    func testRunOutputsNeverDirtyTheWorktreeNorReachACommit() throws {
        for (glob, files) in [("checkpoints/*.pt", ["checkpoints/step-0000.pt", "wandb/offline-run-1-x/files/output.log"]),
                              ("out/ckpt/*", ["out/ckpt/last", "out/ckpt/deep/inner.bin"])] {
            try repo("""
            command = "mkdir -p \(files.map { ($0 as NSString).deletingLastPathComponent }.joined(separator: " ")) && \(files.map { "echo x > \($0)" }.joined(separator: " && "))"
            checkpoint_glob = "\(glob)"
            """)
            XCTAssertEqual(try expt.run(["launch", "e"], in: t.path).status, 0)
            XCTAssertEqual(try waitForEnd()["state"] as? String, "succeeded")
            let wt = t.path + "/.worktrees/e"
            for f in files { XCTAssertTrue(FileManager.default.fileExists(atPath: wt + "/" + f), f) }
            let again = try expt.run(["launch", "e"], in: t.path)
            XCTAssertEqual(again.status, 0, "\(glob): run output is not an uncommitted change: \(again.stderr)")
            _ = try waitForEnd()
            try t.write("notes.md", "a real change\n", in: wt)
            let dry = try expt.run(["checkpoint", "e", "-m", "notes", "--dry-run", "--json"], in: t.path)
            XCTAssertEqual((try dry.json() as? [String: Any])?["changed_paths"] as? Int, 1, dry.stdout)
            XCTAssertEqual(try expt.run(["checkpoint", "e", "-m", "notes"], in: t.path).status, 0)
            let committed = try t.git("-C", wt, "show", "--name-only", "--format=", "HEAD").split(separator: "\n").map(String.init)
            XCTAssertEqual(committed, ["notes.md"], "\(glob): only the change, never the run's output")
        }
    }

    func testWorktreesAreExcludedWithoutInit() throws {
        t = try TempRepo()
        XCTAssertEqual(try expt.run(["new", "exp/x"], in: t.path).status, 0)
        XCTAssertEqual(try t.git("status", "--short"), "", "no `?? .worktrees/`")
        XCTAssertEqual(try expt.run(["new", "exp/y"], in: t.path).status, 0)
        let exclude = try String(contentsOfFile: t.path + "/.git/info/exclude", encoding: .utf8)
        XCTAssertEqual(exclude.components(separatedBy: "\n").filter { $0 == ".worktrees/" }.count, 1, "added once")
    }

    func testADocThatIsASymlinkIsRefused() throws {
        try repo("command = \"true\"\n")
        let wt = t.path + "/.worktrees/e"
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("victim-\(UUID().uuidString.prefix(6)).md").path
        try FileManager.default.copyItem(atPath: wt + "/docs/e.md", toPath: outside)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try FileManager.default.removeItem(atPath: wt + "/docs/e.md")
        try FileManager.default.createSymbolicLink(atPath: wt + "/docs/e.md", withDestinationPath: outside)
        let r = try expt.run(["doc", "check", "e", "--json"], in: t.path)
        XCTAssertNotEqual(r.status, 0, r.stdout)
        let problems = try XCTUnwrap((try r.json() as? [String: Any])?["problems"] as? [[String: Any]], r.stdout)
        XCTAssertEqual(problems.first?["rule"] as? String, "not_a_file", "\(problems)")
    }

    func testACancelledRunIsNotAFailureToDiagnoseOrFix() throws {
        // One job leaves at TERM; one ignores it and is killed after the grace (signal 9).
        for command in ["echo step 1; sleep 30", "trap '' TERM; echo step 1; while true; do sleep 1; done"] {
            try repo("command = \"\(command)\"\n")
            XCTAssertEqual(try expt.run(["launch", "e"], in: t.path).status, 0)
            usleep(700_000)
            let cancel = try expt.run(["cancel", "e", "--json"], in: t.path, timeout: 30)
            XCTAssertEqual(cancel.status, 0, cancel.stderr)
            let row = try state()
            XCTAssertEqual(row["state"] as? String, "cancelled", command)
            XCTAssertEqual(row["reason"] as? String, "cancelled by request", command)
            XCTAssertTrue(row["diagnosis"] is NSNull, "\(command): never diagnosed: \(row)")
            let diagnose = try expt.run(["diagnose", "e"], in: t.path)
            XCTAssertEqual(diagnose.status, 3, diagnose.stdout)
            XCTAssertTrue(diagnose.stderr.contains("was cancelled by request: it did not fail"), diagnose.stderr)
            let fix = try expt.run(["fix-and-relaunch", "e", "--dry-run", "--yes"], in: t.path)
            XCTAssertEqual(fix.status, 3, fix.stdout)
            XCTAssertTrue(fix.stderr.contains("was cancelled by request"), fix.stderr)
        }
    }

    func testCleanRefusesWhileARunIsLive() throws {
        try repo("command = \"echo step 1; sleep 30\"\n")
        XCTAssertEqual(try expt.run(["launch", "e"], in: t.path).status, 0)
        for args in [["clean", "e"], ["clean", "e", "--dry-run"]] {
            let r = try expt.run(args, in: t.path)
            XCTAssertEqual(r.status, 3, "\(args): \(r.stdout)")
            XCTAssertTrue(r.stderr.contains("run r1 of e is running in this worktree") && r.stderr.contains("expt cancel e"), r.stderr)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: t.path + "/.worktrees/e"), "the worktree stays")
        XCTAssertEqual(try expt.run(["cancel", "e"], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["clean", "e"], in: t.path).status, 0, "once the run has ended")
    }

    /// R16: a plan refused at its doc entry is not journaled, so the next attempt plans again
    /// (with its own message) from the worktree as it is then.
    func testARefusedPlanIsNotReplayed() throws {
        try failedRun()
        let wt = t.path + "/.worktrees/e"
        // A hand-edited doc whose entry numbering the fix's entry would break.
        let doc0 = try String(contentsOfFile: wt + "/docs/e.md", encoding: .utf8)
        try (doc0 + "\n### Fix 99 — 2020-01-01 — success\n").write(toFile: wt + "/docs/e.md", atomically: true, encoding: .utf8)
        let refused = try expt.run(["fix-and-relaunch", "e", "--yes", "-m", "first try"], in: t.path)
        XCTAssertEqual(refused.status, 2, refused.stdout + refused.stderr)
        XCTAssertTrue(refused.stderr.contains("would break its rules"), refused.stderr)
        try doc0.write(toFile: wt + "/docs/e.md", atomically: true, encoding: .utf8)
        let again = try expt.run(["fix-and-relaunch", "e", "--yes", "-m", "second try", "--json"], in: t.path, timeout: 90)
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr)
        let doc = try String(contentsOfFile: wt + "/docs/e.md", encoding: .utf8)
        XCTAssertTrue(doc.contains("second try") && !doc.contains("first try") && !doc.contains("Fix 99"), doc)
        _ = try expt.run(["cancel", "e"], in: t.path)
    }

    /// `cancel` says cancelled only when no process of the job is left, even ones that ignore
    /// TERM and their double-forked children (the shape of R34's reproduction; the report's
    /// leftovers did not reproduce here, so this guards the behaviour rather than a fix).
    func testCancelReturnsOnlyWhenEveryProcessOfTheJobIsGone() throws {
        let marker = "1009.\(Int.random(in: 100...999))"
        try repo("command = \"for i in $(seq 20); do (trap '' TERM; (sleep \(marker) &); sleep \(marker)) & done; echo started; wait\"\n")
        XCTAssertEqual(try expt.run(["launch", "e"], in: t.path).status, 0)
        func alive() throws -> Int {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
            p.arguments = ["-f", "sleep \(marker)"]
            let out = Pipe(); p.standardOutput = out
            try p.run(); p.waitUntilExit()
            return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").count
        }
        let deadline = Date().addingTimeInterval(10)
        while try alive() < 40, Date() < deadline { usleep(100_000) }
        XCTAssertGreaterThanOrEqual(try alive(), 40, "twenty subshells and twenty double-forked children run (bash forks carry the same command line)")
        let cancel = try expt.run(["cancel", "e", "--json"], in: t.path, timeout: 40)
        XCTAssertEqual(cancel.status, 0, cancel.stderr)
        XCTAssertEqual((try cancel.json() as? [String: Any])?["state"] as? String, "cancelled")
        XCTAssertEqual(try alive(), 0, "nothing of the job is left when cancel says cancelled")
    }

    /// R15: checkpoint and fix-and-relaunch write only into experiments; a run of the base
    /// branch can still be launched, watched and diagnosed.
    func testCheckpointAndFixTakeExperimentsOnly() throws {
        try repo("command = \"echo oops >&2; exit 1\"\n")
        XCTAssertEqual(try expt.run(["launch", "main"], in: t.path).status, 0, "any branch can run")
        _ = try waitForEnd("main")
        try "secret\n".write(toFile: t.path + "/local-notes.txt", atomically: true, encoding: .utf8)
        let head = try t.git("rev-parse", "HEAD")
        for args in [["checkpoint", "main", "-m", "oops"], ["fix-and-relaunch", "main", "--yes"], ["fix-and-relaunch", "main", "--dry-run", "--yes"]] {
            let r = try expt.run(args, in: t.path)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stdout)")
            XCTAssertTrue(r.stderr.contains("main is not an experiment (it has no recorded base)"), r.stderr)
        }
        XCTAssertEqual(try t.git("rev-parse", "HEAD"), head, "nothing committed to main")
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.path + "/docs/main.md"), "no half-written doc")
        XCTAssertEqual(try expt.run(["diagnose", "main"], in: t.path).status, 0, "a failed run of main is still diagnosed")
    }

    /// R12: two fix-and-relaunch of one branch at once: one fixes, the other exits 3 (the lock,
    /// or nothing left to fix); exactly one fix commit and one relaunch per failed run.
    func testConcurrentFixesOfOneBranchFixOnce() throws {
        for round in 1...3 {
            try failedRun()
            let procs = try (0..<2).map { _ in try expt.start(["fix-and-relaunch", "e", "--yes", "--wait", "30"], in: t.path) }
            procs.forEach { $0.waitUntilExit() }
            let statuses = procs.map(\.terminationStatus).sorted()
            XCTAssertEqual(statuses.filter { $0 == 3 }.count, 1, "round \(round): the other exits 3 (the lock, or nothing left to fix): \(statuses)")
            XCTAssertEqual(statuses.filter { $0 == 0 }.count, 1, "round \(round): one fixes: \(statuses)")
            let runs = try XCTUnwrap(try expt.run(["runs", "e", "--json"], in: t.path).json() as? [[String: Any]])
            XCTAssertEqual(runs.count, 2, "round \(round): one relaunch")
            let fixes = try t.git("-C", t.path + "/.worktrees/e", "log", "--format=%s").split(separator: "\n").filter { $0.hasPrefix("Fix ") }
            XCTAssertEqual(fixes.count, 1, "round \(round): \(fixes)")
            _ = try expt.run(["cancel", "e"], in: t.path)
        }
    }

    /// R29: eight checkpoints of one branch at once take turns: none fails, every file is committed.
    func testConcurrentCheckpointsTakeTurns() throws {
        try repo("command = \"true\"\n")
        let wt = t.path + "/.worktrees/e"
        for i in 0..<8 { try "p\(i)\n".write(toFile: wt + "/par_\(i).txt", atomically: true, encoding: .utf8) }
        let procs = try (0..<8).map { i in try expt.start(["checkpoint", "e", "-m", "p\(i)"], in: t.path) }
        procs.forEach { $0.waitUntilExit() }
        XCTAssertEqual(procs.map(\.terminationStatus), Array(repeating: 0, count: 8), "no checkpoint failed")
        XCTAssertEqual(try t.git("-C", wt, "status", "--porcelain"), "", "every file committed")
    }

    /// R13: an index.lock left by a commit that died is moved aside (kept) and the commit goes
    /// on; one a live process holds is named, exit 3, and nothing is committed.
    func testAStaleIndexLockIsMovedAsideAndALiveOneIsNamed() throws {
        try repo("command = \"true\"\n")
        let wt = t.path + "/.worktrees/e"
        let gitDir = try t.git("-C", wt, "rev-parse", "--absolute-git-dir").trimmingCharacters(in: .whitespacesAndNewlines)
        let lock = gitDir + "/index.lock"
        try "notes\n".write(toFile: wt + "/notes.md", atomically: true, encoding: .utf8)
        // Held by a live process: refused and named.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", "import sys,time; f=open(sys.argv[1],'w'); print('ok', flush=True); time.sleep(30)", lock]
        let out = Pipe(); holder.standardOutput = out
        try holder.run()
        _ = out.fileHandleForReading.availableData   // its "ok": the file is open
        let held = try expt.run(["checkpoint", "e", "-m", "notes"], in: t.path)
        XCTAssertEqual(held.status, 3, held.stderr)
        XCTAssertTrue(held.stderr.contains("locked by a running process (pid \(holder.processIdentifier)): \(lock)"), held.stderr)
        holder.terminate(); holder.waitUntilExit()
        // Left by a dead one: moved aside, the commit goes through.
        XCTAssertTrue(FileManager.default.fileExists(atPath: lock))
        let ok = try expt.run(["checkpoint", "e", "-m", "notes"], in: t.path)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: lock))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: gitDir).filter { $0.hasPrefix("index.lock.stale-") }.count, 1, "kept, not deleted")
        XCTAssertEqual(try t.git("-C", wt, "status", "--porcelain"), "")
    }

    /// R13's reproduction: fix-and-relaunch after a fix killed mid-commit left the index locked.
    func testFixAndRelaunchRecoversAStaleIndexLock() throws {
        try failedRun()
        let wt = t.path + "/.worktrees/e"
        let gitDir = try t.git("-C", wt, "rev-parse", "--absolute-git-dir").trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(FileManager.default.createFile(atPath: gitDir + "/index.lock", contents: Data()))
        let fix = try expt.run(["fix-and-relaunch", "e", "--yes", "--wait", "30"], in: t.path, timeout: 90)
        XCTAssertEqual(fix.status, 0, fix.stdout + fix.stderr)
        XCTAssertEqual(try t.git("-C", wt, "status", "--porcelain", "--", "docs"), "", "the doc entry is committed and the index agrees")
        _ = try expt.run(["cancel", "e"], in: t.path)
    }
}
