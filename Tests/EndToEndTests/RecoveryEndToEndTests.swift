import Foundation
import XCTest
import ExptTestSupport

/// What expt's own state survives (issue 10, classes 6 and 7): a deleted ledger (R2), a
/// status file that cannot be read (R30) and a disk that fills during a run (R18).
final class RecoveryEndToEndTests: XCTestCase {
    var expt: ExptBinary!
    var t: TempRepo!

    override func setUpWithError() throws {
        expt = try ExptBinary()
        expt.environment["EXPT_LOCAL_KILL_GRACE"] = "1"
    }

    func repo(under: URL? = nil, _ toml: String) throws {
        t = try TempRepo(under: under)
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        try toml.write(toFile: t.path + "/expt.toml", atomically: true, encoding: .utf8)
        try t.git("add", "-A"); try t.git("commit", "-qm", "config", "--no-verify")
        XCTAssertEqual(try expt.run(["new", "e"], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["new", "f"], in: t.path).status, 0)
    }

    func rows(_ branch: String) throws -> [[String: Any]] {
        try XCTUnwrap(try expt.run(["status", branch, "--json"], in: t.path).json() as? [[String: Any]])
    }

    func waitForEnd(_ branch: String, timeout: TimeInterval = 30) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let row = try XCTUnwrap(try rows(branch).last)
            if !["submitting", "pending", "running"].contains(row["state"] as? String ?? "") { return row }
            usleep(200_000)
        }
        XCTFail("the run did not end"); return [:]
    }

    var ledgerPath: String { t.path + "/.git/expt/ledger.sqlite" }

    func testADeletedLedgerIsRefusedThenRebuiltAndItsLiveJobIsNotForgotten() throws {
        try repo("""
        command = "python3 -c 'import os, time; time.sleep(float(os.environ.get(\\"NAP\\", \\"0\\")))'"
        """)
        XCTAssertEqual(try expt.run(["launch", "e"], in: t.path).status, 0)
        XCTAssertEqual(try waitForEnd("e")["state"] as? String, "succeeded")
        expt.environment["NAP"] = "60"
        XCTAssertEqual(try expt.run(["launch", "f"], in: t.path).status, 0)
        defer { _ = try? expt.run(["cancel", "f"], in: t.path) }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledgerPath + suffix) }

        for argv in [["status"], ["launch", "f"], ["launch", "e"]] {
            let refused = try expt.run(argv, in: t.path)
            XCTAssertEqual(refused.status, 1, "\(argv): \(refused.stderr)")
            XCTAssertTrue(refused.stderr.contains("is missing, but 2 run directories exist"), refused.stderr)
            XCTAssertTrue(refused.stderr.contains("expt rebuild-ledger"), refused.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledgerPath), "no empty ledger was started")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: t.path + "/.git/expt/runs").sorted(), ["r1", "r2"],
                       "no run was launched over them")

        let dry = try expt.run(["rebuild-ledger", "--dry-run", "--json"], in: t.path)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertEqual(((try dry.json() as? [String: Any])?["runs"] as? [[String: Any]])?.compactMap { $0["run"] as? String }, ["r1", "r2"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledgerPath))

        let rebuilt = try expt.run(["rebuild-ledger"], in: t.path)
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        XCTAssertTrue(rebuilt.stdout.contains("rebuilt the run ledger with 2 run(s)"), rebuilt.stdout)
        XCTAssertEqual(try rows("e").last?["state"] as? String, "succeeded", "its end is learned again from its run directory")
        XCTAssertEqual(try rows("f").last?["state"] as? String, "running", "the live job is tracked again")
        let second = try expt.run(["launch", "f"], in: t.path)
        XCTAssertEqual(second.status, 3, "one live run per branch still holds: \(second.stderr)")
        expt.environment["NAP"] = "0"
        let next = try expt.run(["launch", "e", "--json"], in: t.path)
        XCTAssertEqual((try next.json() as? [String: Any])?["run"] as? String, "r3", "ids go on; r1 is never overwritten")
        XCTAssertEqual(try rebuiltAgain().status, 3)
    }

    func rebuiltAgain() throws -> ExptBinary.Result { try expt.run(["rebuild-ledger"], in: t.path) }

    /// Waits, without any expt command (which would record the end), until the supervisor
    /// of run `id` has written its status file.
    func waitForStatusFile(_ id: String) throws {
        let path = t.path + "/.git/expt/runs/\(id)/status.json"
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: path), Date() < deadline { usleep(100_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: path), "the run ended")
        usleep(300_000)   // the supervisor exits right after the rename
    }

    func testAnUnreadableStatusFileIsAnUnknownOutcomeNeverANodeFailure() throws {
        try repo("command = \"true\"")
        let damages: [(String, (String) throws -> Void)] = [
            ("truncated", { try "{\"state\": 42".write(toFile: $0, atomically: false, encoding: .utf8) }),
            ("garbage", { try Data([0xff, 0x00, 0x13, 0x37]).write(to: URL(fileURLWithPath: $0)) }),
            ("wrong types", { try "{\"state\": 42, \"supervisor_pid\": \"x\"}".write(toFile: $0, atomically: false, encoding: .utf8) }),
            ("empty", { try Data().write(to: URL(fileURLWithPath: $0)) }),
            ("a directory", { p in
                try FileManager.default.removeItem(atPath: p)
                try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: false)
            }),
        ]
        for (n, (label, damage)) in damages.enumerated() {
            let id = "r\(n + 1)"
            XCTAssertEqual(try expt.run(["launch", "e"], in: t.path).status, 0)
            try waitForStatusFile(id)
            try damage(t.path + "/.git/expt/runs/\(id)/status.json")
            let row = try XCTUnwrap(try rows("e").last)
            XCTAssertEqual(row["run"] as? String, id)
            XCTAssertEqual(row["state"] as? String, "lost", label)
            let reason = row["reason"] as? String ?? ""
            XCTAssertTrue(reason.contains("status.json of \(id) is unreadable") && reason.contains("outcome is unknown"), "\(label): \(reason)")
            XCTAssertEqual(row["diagnosis"] as? String, "unknown", "\(label): never node_failure, nothing to retry")
        }
        let fix = try expt.run(["fix-and-relaunch", "e", "--dry-run", "--json"], in: t.path)
        XCTAssertNotEqual(fix.status, 0, "nothing is relaunched on an unknown outcome: \(fix.stdout)")
    }

    func testADiskThatFillsDuringARunIsDiagnosedDiskFullNotANodeFailure() throws {
        guard let fs = Tmpfs(megabytes: 6) else {
            throw XCTSkip("cannot mount a tmpfs here (needs root): the disk-full case is not exercised")
        }
        defer { t = nil; fs.unmount() }
        try repo(under: fs.url, #"command = "python3 -c 'import time\nfor i in range(40): print(\"x\" * 6000, i, flush=True); time.sleep(0.1)'""#)
        XCTAssertEqual(try expt.run(["launch", "e"], in: t.path).status, 0)
        usleep(800_000)
        try fs.fill()
        try waitForStatusFile("r1")
        try fs.free()
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: t.path + "/.git/expt/runs/r1")
            .filter { $0.contains(".tmp.") || $0.hasSuffix(".reserve") }
        XCTAssertEqual(leftovers, [], "no half-written status files are left behind")
        let row = try XCTUnwrap(try rows("e").last)
        XCTAssertEqual(row["state"] as? String, "failed", "\(row)")
        XCTAssertTrue((row["reason"] as? String ?? "").contains("was full (no space left on device)"), "\(row)")
        XCTAssertEqual(row["diagnosis"] as? String, "disk_full", "not node_failure, which fix-and-relaunch would blindly retry")
    }
}
