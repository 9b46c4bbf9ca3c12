import Foundation
import XCTest
import ExptModel
import ExptTestSupport
@testable import ExptCLI

/// Launch, status, logs and diagnose in-process against the strict fake backend.
final class RunCommandsTests: XCTestCase {
    static let oomLog = """
    epoch 1 step 10/100 loss 2.31
    epoch 1 step 20/100 loss 2.12
    Traceback (most recent call last):
      File "train.py", line 40, in <module>
        out = model(batch)
    torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.77 GiB total capacity)

    """

    func testStatusTableShowsStateElapsedAndProgress() throws {
        let h = try CLIHarness()
        try h.initialize()
        try h.experiment("exp/a")
        h.backend.willSubmit(.init(states: [.running], stdout: "epoch 1 step 10/100 loss 2.3\nepoch 2 step 340/1000 loss 1.1\n"))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        let r = h.run(["status"])
        XCTAssertEqual(r.status, 0, r.stderr)
        Golden.assert(h.normalise(r.stdout), matches: "status-table.txt")
    }

    func testLaunchDryRunJSONHasEveryDocumentedKey() throws {
        let h = try CLIHarness()
        try h.initialize()
        try h.experiment("exp/a")
        let r = h.run(["launch", "exp/a", "--dry-run", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try r.object()
        for key in ["run", "job_id", "backend", "commit", "state", "log_dir", "dry_run", "spec", "config"] {
            XCTAssertTrue(o.keys.contains(key), "missing \(key): \(o.keys.sorted())")
        }
        XCTAssertTrue(o["run"] is NSNull && o["job_id"] is NSNull && o["log_dir"] is NSNull, "\(o)")
        XCTAssertEqual(h.backend.calls, [], "a dry run calls no backend")
    }

    func testLogsReadThroughTheBackendNotTheFileSystem() throws {
        let h = try CLIHarness()
        try h.initialize()
        try h.experiment("exp/a")
        h.backend.willSubmit(.init(states: [.succeeded], exitCode: 0, stdout: "one\ntwo\nthree\n", stderr: "warn\n"))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        XCTAssertEqual(h.run(["logs", "exp/a", "--tail", "2"]).stdout, "two\nthree\n")
        XCTAssertEqual(h.run(["logs", "exp/a", "--stderr"]).stdout, "warn\n")
        let j = try h.run(["logs", "exp/a", "--json"]).object()
        XCTAssertEqual(j["lines"] as? [String], ["one", "two", "three"])
        XCTAssertEqual(j["remote"] as? Bool, true)
        XCTAssertTrue(j["task"] is NSNull)
        XCTAssertTrue(h.backend.calls.contains("read fake-1 stdout"), "\(h.backend.calls)")
        let single = h.run(["logs", "exp/a", "--task", "1"])
        XCTAssertEqual(single.status, 2, "a single job has no task 1")
        XCTAssertTrue(single.stderr.contains("not an array"), single.stderr)
    }

    func testDiagnoseTextAndJSON() throws {
        let h = try CLIHarness()
        try h.initialize("command = \"python3 train.py\"\nbackend = \"fake\"\n[resources]\nmem = \"1G\"\n")
        try h.experiment("exp/a")
        h.backend.willSubmit(.init(states: [.failed], exitCode: 1, stdout: Self.oomLog))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        let text = h.run(["diagnose", "exp/a"])
        XCTAssertEqual(text.status, 0, text.stderr)
        Golden.assert(h.normalise(text.stdout), matches: "diagnose-gpu-oom.txt")
        let json = try h.run(["diagnose", "exp/a", "--json"]).object()
        XCTAssertEqual(json["category"] as? String, "oom_gpu")
        XCTAssertTrue(json.keys.contains("batch") && json["batch"] is NSNull, "every key, null when absent: \(json.keys.sorted())")
        XCTAssertTrue(json["checkpoint"] is NSNull)
    }

    func testMemoryFactorScalesTheOOMRemedy() throws {
        let h = try CLIHarness()
        try h.initialize("""
        command = "python3 train.py"
        backend = "fake"
        [resources]
        mem = "1G"
        [retry]
        memory_factor = 2.0
        """)
        try h.experiment("exp/a")
        h.backend.willSubmit(.init(states: [.oom], exitCode: 137, maxRSSMB: 1000,
                                   stderr: "slurmstepd: error: Detected 1 oom-kill event(s) in StepId=1.batch. Some of your processes may have been killed by the cgroup out-of-memory handler.\n"))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        let d = try h.run(["diagnose", "exp/a", "--json"]).object()
        XCTAssertEqual(d["category"] as? String, "oom_host", "\(d)")
        let change = try XCTUnwrap((d["remedy"] as? [String: Any])?["change"] as? [String: Any], "\(d)")
        XCTAssertEqual(change["memory_mb"] as? Int, 2048, "1G × memory_factor 2.0")
        XCTAssertTrue(((d["remedy"] as? [String: Any])?["description"] as? String ?? "").contains("1G → 2G"), "\(d)")
    }

    func testWatchJSONIsOneObjectPerLine() throws {
        let h = try CLIHarness()
        try h.initialize()
        try h.experiment("exp/a")
        h.backend.willSubmit(.init(states: [.running, .running, .succeeded], exitCode: 0, stdout: "a  b  c\n"))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        let r = h.run(["watch", "exp/a", "--json", "--interval", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertGreaterThanOrEqual(lines.count, 2, r.stdout)
        for line in lines {
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
            XCTAssertFalse(o.isEmpty)
        }
        let last = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any])
        XCTAssertEqual(last["succeeded"] as? [String], ["r1"])
        XCTAssertTrue(last.keys.contains("done"))
    }

    func testPendingOnABlockingReasonIsNotProgress() throws {
        let h = try CLIHarness()
        try h.initialize()
        try h.experiment("exp/a")
        h.backend.willSubmit(.init(states: [.pending], reason: "Blocked"))
        XCTAssertEqual(h.run(["launch", "exp/a"]).status, 0)
        let s = h.run(["status"]).stdout
        XCTAssertTrue(s.contains("pending (Blocked)"), s)
    }
}

/// An array run's output is per task, through the backend.
final class ArrayLogsTests: XCTestCase {
    func testLogsOfOneTaskAndTheErrorWithoutTask() throws {
        let h = try CLIHarness()
        try h.initialize()
        try h.experiment("exp/sweep")
        h.backend.willSubmit(.init(states: [.failed], exitCode: 1, taskStates: [0: .succeeded, 1: .failed, 2: .succeeded],
                                   taskStdout: [0: "task 0 done\n", 1: "task 1 broke\n", 2: "task 2 done\n"]))
        XCTAssertEqual(h.run(["launch", "exp/sweep", "--array", "0-2"]).status, 0)
        let one = h.run(["logs", "exp/sweep", "--task", "1"])
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertEqual(one.stdout, "task 1 broke\n")
        let none = h.run(["logs", "exp/sweep", "--json"])
        XCTAssertEqual(none.status, 2)
        let error = try XCTUnwrap(try none.object()["error"] as? [String: Any])
        XCTAssertEqual(error["kind"] as? String, "invalid_input")
        XCTAssertEqual(error["hint"] as? String, "pass --task N (tasks 0-2; failed: 1)")
        XCTAssertEqual(h.run(["logs", "exp/sweep", "--task", "7"]).status, 2)
    }
}
