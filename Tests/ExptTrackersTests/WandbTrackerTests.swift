import XCTest
import ExptModel
import ExptTestSupport
@testable import ExptTrackers

final class WandbTrackerTests: XCTestCase {
    func settings(_ edit: (inout TrackerSettings) -> Void = { _ in }) -> TrackerSettings {
        var s = TrackerSettings()
        s.entity = "lab"; s.project = "traits"; s.timeout = 20
        edit(&s)
        return s
    }

    func tracker(_ fake: FakeWandb, _ s: TrackerSettings? = nil, env: [String: String] = [:]) -> (WandbTracker, RecordingRunner) {
        let runner = RecordingRunner(fake.environment.merging(env) { $1 })
        return (WandbTracker(settings: s ?? settings(), repoRoot: "/repo", worktree: nil, runner: runner, environment: ["HOME": fake.root]), runner)
    }

    func testRunIDsAreDeterministicSafeAndDistinct() {
        let a = WandbRunID.make(repoRoot: "/home/u/proj", branch: "exp/lr-3e-4", runID: "r12")
        XCTAssertEqual(a, WandbRunID.make(repoRoot: "/home/u/proj", branch: "exp/lr-3e-4", runID: "r12"), "the same run, the same id")
        XCTAssertTrue(a.hasPrefix("exp-lr-3e-4-r12-"), a)
        XCTAssertNotEqual(a, WandbRunID.make(repoRoot: "/home/u/clone", branch: "exp/lr-3e-4", runID: "r12"), "another clone")
        XCTAssertNotEqual(a, WandbRunID.make(repoRoot: "/home/u/proj", branch: "exp/lr_3e_4", runID: "r12"), "branches that slug alike")
        for branch in ["a", String(repeating: "x/", count: 80), "Ünïcode/名前", "--", "a..b"] {
            let id = WandbRunID.make(repoRoot: "/r", branch: branch, runID: "r123456")
            XCTAssertLessThanOrEqual(id.count, 64, id)
            XCTAssertTrue(id.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }, id)
            XCTAssertFalse(id.hasPrefix("-"), id)
        }
    }

    func testEnvironmentLinksTheRunAndAResumeContinuesIt() throws {
        let fake = try FakeWandb()
        let (t, _) = tracker(fake, settings { $0.baseURL = "https://wandb.example.org" })
        let env = t.environment(TrackerLink(runID: "r3", branch: "exp/a", attempt: 3))
        XCTAssertEqual(env["WANDB_RUN_GROUP"], "exp/a")
        XCTAssertEqual(env["WANDB_NAME"], "exp/a r3")
        XCTAssertEqual(env["WANDB_RESUME"], "allow")
        XCTAssertEqual(env["WANDB_TAGS"], "expt,expt-r3,attempt-3")
        XCTAssertEqual(env["WANDB_ENTITY"], "lab")
        XCTAssertEqual(env["WANDB_BASE_URL"], "https://wandb.example.org")
        XCTAssertNil(env["WANDB_API_KEY"])
        let resumed = t.environment(TrackerLink(runID: "r4", branch: "exp/a", attempt: 3, continuing: env["WANDB_RUN_ID"]))
        XCTAssertEqual(resumed["WANDB_RUN_ID"], env["WANDB_RUN_ID"])
        XCTAssertEqual(t.url(runID: "x1"), "https://wandb.example.org/lab/traits/runs/x1", "self-hosted: the server is the app")
        let (pub, _) = tracker(fake, settings { $0.baseURL = "https://api.wandb.ai" })
        XCTAssertEqual(pub.url(runID: "x1"), "https://wandb.ai/lab/traits/runs/x1")
    }

    func testEntityAndProjectFallBackToVariablesThenSettingsFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wbset-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: dir + "/wandb", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "[default]\nentity = from-file\nproject = file-project\nbase_url = https://wb.local\n".write(toFile: dir + "/wandb/settings", atomically: true, encoding: .utf8)
        var s = TrackerSettings()
        XCTAssertEqual(WandbLocation.resolve(s, environment: [:], settingsFiles: [dir + "/wandb/settings"]),
                       WandbLocation(entity: "from-file", project: "file-project", baseURL: "https://wb.local"))
        XCTAssertEqual(WandbLocation.resolve(s, environment: ["WANDB_ENTITY": "from-env"], settingsFiles: [dir + "/wandb/settings"]).entity, "from-env")
        s.jobEnvironment = ["WANDB_ENTITY": "from-job", "WANDB_MODE": "offline"]
        let job = WandbLocation.resolve(s, environment: ["WANDB_ENTITY": "from-env"], settingsFiles: [])
        XCTAssertEqual(job.entity, "from-job")
        XCTAssertTrue(job.offline)
        s.entity = "configured"
        XCTAssertEqual(WandbLocation.resolve(s, environment: ["WANDB_ENTITY": "from-env"], settingsFiles: []).entity, "configured")
        XCTAssertNil(WandbLocation.resolve(TrackerSettings(), environment: [:], settingsFiles: ["/nonexistent"]).project)
    }

    func testRunDirectoriesAreFoundByNameOldestFirst() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wbdirs-\(UUID().uuidString.prefix(6))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["offline-run-20261202_041447-abc", "run-20261201_100000-abc", "offline-run-20261202_041447-abc-1",
                     "offline-run-20261202_041447-xabc", "offline-run-20261202_041447-abc-x", "latest-run", "debug.log"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + name + "/files", withIntermediateDirectories: true)
        }
        let found = WandbFiles.runDirectories("abc", in: [dir, dir + "/missing"]).map { ($0.path as NSString).lastPathComponent }
        XCTAssertEqual(found, ["run-20261201_100000-abc", "offline-run-20261202_041447-abc", "offline-run-20261202_041447-abc-1"])
    }

    func testFetchAsksTheAPIOnceForAllRuns() throws {
        let fake = try FakeWandb(runs: [
            "lab/traits/a1": ["state": "running", "heartbeatAt": "2026-12-02T10:00:00Z", "sweep": "sw1", "tags": ["expt"],
                              "summary": ["_step": 340, "epoch": 2, "loss": 0.5], "config": ["max_steps": 1000],
                              "history": [["_step": 0, "loss": 2.0], ["_step": 100, "loss": 1.0], ["_step": 340, "loss": "NaN"]]],
            "lab/traits/b2": ["state": "finished", "heartbeatAt": "2026-12-02T09:00:00.123456", "sweep": NSNull(), "tags": [],
                              "summary": ["_step": 9], "config": [:], "history": []],
        ])
        let (t, runner) = tracker(fake)
        let s = t.fetch([TrackedRun(trackerID: "a1", searchDirs: []), TrackedRun(trackerID: "b2", searchDirs: []),
                         TrackedRun(trackerID: "gone", searchDirs: [])])
        XCTAssertEqual(runner.calls.count, 1, "one helper call for all runs")
        XCTAssertNil(s.notice)
        let a = try XCTUnwrap(s.runs["a1"])
        XCTAssertEqual(a.source, .api)
        XCTAssertEqual(a.state, "running")
        XCTAssertEqual(a.heartbeatAt, Date(timeIntervalSince1970: 1_796_205_600))
        XCTAssertEqual(a.step, 340)
        XCTAssertEqual(a.epoch, 2)
        XCTAssertEqual(a.totalSteps, 1000)
        XCTAssertEqual(a.losses.count, 3)
        XCTAssertTrue(a.losses[2].isNaN, "NaN crosses JSON as a string")
        XCTAssertEqual(a.sweep, "lab/traits/sw1")
        XCTAssertEqual(a.url, "https://wandb.ai/lab/traits/runs/a1")
        XCTAssertEqual(s.runs["b2"]?.state, "finished")
        XCTAssertNotNil(s.runs["b2"]?.heartbeatAt, "a heartbeat without a zone reads as UTC")
        XCTAssertEqual(s.errors["gone"], "not found: lab/traits/gone")
        XCTAssertEqual(fake.unexpectedCalls().count, 0, "\(fake.unexpectedCalls())")
    }

    func testWithoutAnEntityWandbIsNotAskedAndSaysWhy() throws {
        let fake = try FakeWandb(runs: ["lab/traits/a1": ["state": "running"]])
        let (t, runner) = tracker(fake, settings { $0.entity = nil })
        let s = t.fetch([TrackedRun(trackerID: "a1", searchDirs: [])])
        XCTAssertEqual(s.notice, "W&B: no entity is set ([wandb] entity, WANDB_ENTITY or wandb/settings), so only logs and run directories are read")
        XCTAssertEqual(runner.calls.count, 0)
        XCTAssertNil(t.url(runID: "a1"))
        // Offline, nothing is asked of W&B: not a tag, not a close.
        let (offline, r2) = tracker(fake, settings { $0.jobEnvironment = ["WANDB_MODE": "offline"] })
        XCTAssertThrowsError(try offline.tag(runID: "a1", "expt-superseded")) { XCTAssertTrue("\($0)".contains("offline"), "\($0)") }
        XCTAssertThrowsError(try offline.close(runID: "a1"))
        XCTAssertEqual(r2.calls.count, 0)
    }

    func testAProjectThatDoesNotExistIsNamed() throws {
        let fake = try FakeWandb(runs: ["lab/other/a1": ["state": "running"]])
        let s = tracker(fake).0.fetch([TrackedRun(trackerID: "a1", searchDirs: [])])
        XCTAssertEqual(s.errors["a1"], "not found: project lab/traits")
        XCTAssertNil(s.runs["a1"]?.state)
        XCTAssertEqual(fake.unexpectedCalls().count, 0, "\(fake.unexpectedCalls())")
    }

    func testAServiceThatCannotBeAskedDegradesToFilesWithOneNotice() throws {
        let fake = try FakeWandb(runs: ["lab/traits/a1": ["state": "running"]])
        for (value, said) in [(false as Any, "not logged in"), ("unreachable" as Any, "could not be reached")] {
            fake.scenario["logged_in"] = value
            try fake.write()
            let s = tracker(fake).0.fetch([TrackedRun(trackerID: "a1", searchDirs: [])])
            XCTAssertTrue(s.notice?.contains(said) == true, "\(value): \(s.notice ?? "nil")")
            XCTAssertTrue(s.notice?.contains("showing what the logs and run directories say") == true)
            XCTAssertNil(s.runs["a1"]?.state, "nothing invented")
        }
        fake.scenario["installed"] = false
        try fake.write()
        XCTAssertTrue(tracker(fake).0.fetch([TrackedRun(trackerID: "a1", searchDirs: [])]).notice?.contains("wandb is not installed") == true)
        // Offline mode and a run asked about by files only never start Python.
        let (offline, runner) = tracker(fake, settings { $0.jobEnvironment = ["WANDB_MODE": "offline"] })
        XCTAssertNil(offline.fetch([TrackedRun(trackerID: "a1", searchDirs: [])]).notice)
        _ = tracker(fake).0.fetch([TrackedRun(trackerID: "a1", searchDirs: [], online: false)])
        XCTAssertEqual(runner.calls.count, 0)
        XCTAssertEqual(fake.unexpectedCalls().count, 0, "\(fake.unexpectedCalls())")
    }

    func testCloseMarksAZombieFailedAndSaysWhichWandbIsNeeded() throws {
        let fake = try FakeWandb(runs: ["lab/traits/z1": ["state": "running", "sweep": NSNull()]])
        let (t, _) = tracker(fake)
        XCTAssertEqual(try t.close(runID: "z1"), "marked W&B run lab/traits/z1 failed (it was running)")
        XCTAssertEqual(try fake.run("lab/traits/z1")?["state"] as? String, "failed")
        fake.scenario["update_state"] = false
        fake.scenario["version"] = "0.18.7"
        try fake.write()
        XCTAssertThrowsError(try t.close(runID: "z1")) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("0.18.7") && text.contains("0.31.0"), text)
        }
        XCTAssertEqual(fake.unexpectedCalls().count, 0, "\(fake.unexpectedCalls())")
    }

    func testTagIsAddedOnce() throws {
        let fake = try FakeWandb(runs: ["lab/traits/t1": ["state": "failed", "tags": ["expt"]]])
        let (t, _) = tracker(fake)
        try t.tag(runID: "t1", "expt-superseded")
        try t.tag(runID: "t1", "expt-superseded")
        XCTAssertEqual(try fake.run("lab/traits/t1")?["tags"] as? [String], ["expt", "expt-superseded"])
        XCTAssertEqual(fake.unexpectedCalls().count, 0, "\(fake.unexpectedCalls())")
    }

    func testSweepCancelStopAndAMissingSweep() throws {
        let fake = try FakeWandb(sweeps: ["lab/traits/sw1": "RUNNING", "lab/traits/sw2": "RUNNING"])
        let (t, _) = tracker(fake)
        XCTAssertEqual(try t.cancelSweep("lab/traits/sw1", stop: false), "cancelled W&B sweep lab/traits/sw1")
        XCTAssertEqual(try t.cancelSweep("lab/traits/sw2", stop: true), "stopped W&B sweep lab/traits/sw2")
        let sweeps = try fake.current()["sweeps"] as? [String: [String: String]]
        XCTAssertEqual(sweeps?["lab/traits/sw1"]?["state"], "CANCELED")
        XCTAssertEqual(sweeps?["lab/traits/sw2"]?["state"], "FINISHED")
        XCTAssertThrowsError(try t.cancelSweep("lab/traits/nope", stop: false)) { e in
            XCTAssertTrue("\(e)".contains("Sweep lab/traits/nope not found"), "\(e)")
        }
        XCTAssertEqual(fake.cliCalls().map { Array($0.suffix(2)) },
                       [["--cancel", "lab/traits/sw1"], ["--stop", "lab/traits/sw2"], ["--cancel", "lab/traits/nope"]])
        XCTAssertEqual(fake.unexpectedCalls().count, 0, "\(fake.unexpectedCalls())")
    }

    func testTheAPIKeyNeverReachesArgvOrStdin() throws {
        let key = "0123456789abcdef0123456789abcdef01234567"
        let fake = try FakeWandb(runs: ["lab/traits/k1": ["state": "running"]])
        let (t, runner) = tracker(fake, env: ["WANDB_API_KEY": key])
        _ = t.fetch([TrackedRun(trackerID: "k1", searchDirs: [])])
        _ = try? t.close(runID: "k1")
        _ = try? t.cancelSweep("lab/traits/none", stop: false)
        XCTAssertEqual(runner.calls.count, 3)
        for c in runner.calls {
            XCTAssertFalse((c.argv + [c.stdin]).joined().contains(key))
            XCTAssertFalse(c.argv.contains("status"), "never `wandb status`")
            XCTAssertEqual(c.argv.prefix(3), ["timeout", "-k", "2"], "every call has a deadline")
        }
    }

    /// The helper against the real wandb from PyPI (`scripts/install-deps.sh` pins 0.31.0):
    /// its version verb, and `fetch` without an API key (no network is touched).
    func testTheHelperSpeaksToTheRealWandb() throws {
        let python = try FakeWandb.requireRealWandbPython()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("wbhome-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let env = ["HOME": home, "WANDB_API_KEY": "", "HTTPS_PROXY": "http://127.0.0.1:9", "WANDB_CONFIG_DIR": home + "/cfg"]
        let t = WandbTracker(settings: settings { $0.python = python; $0.timeout = 30 }, repoRoot: "/repo", worktree: nil,
                             runner: RecordingRunner(env), environment: ["HOME": home])
        let version = try t.helper("version", [:])
        XCTAssertEqual(version["version"] as? String, "0.31.0")
        XCTAssertEqual(version["update_state"] as? Bool, true)
        let s = t.fetch([TrackedRun(trackerID: "a1", searchDirs: [])])
        XCTAssertTrue(s.notice?.contains("not logged in") == true, s.notice ?? "nil")
    }
}
