import Foundation
import XCTest
import ExptModel
import ExptTestSupport
@testable import ExptCLI

/// Items of an array or workflow: an item that "succeeded" without its done marker counts as
/// failed; before the failed items run again their partial outputs are moved aside, never
/// deleted; a stalled run is stopped first.
final class ItemOutputsTests: XCTestCase {
    static let toml = """
    command = "python3 train.py"
    backend = "fake"
    [resources]
    mem = "1G"
    [profiles.highmem]
    mem = "4G"
    [outputs]
    item_dir = "outputs/trait_{item}"
    done_marker = "DONE.csv"
    """

    func harness() throws -> CLIHarness {
        let h = try CLIHarness(files: ["train.py": "print('hi')\n", ".gitignore": "outputs/\n"])
        try h.initialize(Self.toml)
        try h.experiment("exp/gwas")
        return h
    }

    func write(_ h: CLIHarness, _ item: Int, done: Bool) throws {
        let dir = h.worktree("exp/gwas") + "/outputs/trait_\(item)"
        try h.repo.write("part.txt", "partial \(item)\n", in: dir)
        if done { try h.repo.write("DONE.csv", "ok\n", in: dir) }
    }

    func testSucceededItemWithoutItsMarkerFailsAndOnlyFailedItemsRerunWithOutputsMovedAside() throws {
        let h = try harness()
        try write(h, 0, done: true)
        try write(h, 1, done: false)     // OOM
        try write(h, 2, done: false)     // "succeeded", but no marker
        h.backend.willSubmit(.init(states: [.failed], exitCode: 137, taskStates: [0: .succeeded, 1: .oom, 2: .succeeded],
                                   taskStdout: [1: "slurmstepd: error: Detected 1 oom-kill event(s) in StepId=7.batch.\n"]))
        XCTAssertEqual(h.run(["launch", "exp/gwas", "--array", "0-2"]).status, 0)
        let runs = try XCTUnwrap(try h.run(["runs", "exp/gwas", "--json"]).json() as? [[String: Any]])
        let tasks = try XCTUnwrap(runs.first?["tasks"] as? [[String: Any]])
        XCTAssertEqual(tasks.map { $0["state"] as? String }, ["succeeded", "oom", "failed"])
        XCTAssertEqual(tasks[2]["raw_state"] as? String, "INCOMPLETE")
        XCTAssertTrue((tasks[2]["message"] as? String ?? "").contains("DONE.csv is missing"), "\(tasks[2])")

        let dry = h.run(["fix-and-relaunch", "exp/gwas", "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("aside     move the outputs of item(s) 1-2"), dry.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: h.worktree("exp/gwas") + "/outputs/trait_1/part.txt"), "a dry run moves nothing")

        h.backend.willSubmit(.init(states: [.running]))
        let fix = h.run(["fix-and-relaunch", "exp/gwas", "--yes", "--no-push", "--no-comment", "--json"])
        XCTAssertEqual(fix.status, 0, fix.stderr)
        XCTAssertEqual(h.backend.submitted.last?.array?.indices, [1, 2], "only the failed and the incomplete item")
        let wt = h.worktree("exp/gwas")
        let aside = wt + "/outputs/expt-aside/\(ISO8601.day(h.clock.now))-r1"
        for item in [1, 2] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: wt + "/outputs/trait_\(item)"), "moved away")
            XCTAssertEqual(try String(contentsOfFile: aside + "/trait_\(item)/part.txt", encoding: .utf8), "partial \(item)\n", "kept, not deleted")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: wt + "/outputs/trait_0/DONE.csv"), "a finished item is left alone")
    }

    func testAStalledRunIsStoppedBeforeTheRelaunch() throws {
        let h = try harness()
        h.backend.allowCancel = true
        h.backend.willSubmit(.init(states: [.stalled], taskStates: [:],
                                   taskStdout: [0: "stuck: pod wf-run-1 has been PodInitializing for 14m\n"]))
        XCTAssertEqual(h.run(["launch", "exp/gwas", "--array", "0-1"]).status, 0)
        let status = h.run(["status"])
        XCTAssertTrue(status.stdout.contains("stalled"), status.stdout)
        h.backend.willSubmit(.init(states: [.running]))
        let fix = h.run(["fix-and-relaunch", "exp/gwas", "--yes", "--no-push", "--no-comment"])
        XCTAssertEqual(fix.status, 0, fix.stderr)
        XCTAssertTrue(fix.stdout.contains("stop      stopped r1"), fix.stdout)
        let calls = h.backend.calls
        let cancel = try XCTUnwrap(calls.firstIndex(of: "cancel fake-1"), "\(calls)")
        let relaunch = try XCTUnwrap(calls.firstIndex(of: "submit r2"), "\(calls)")
        XCTAssertLessThan(cancel, relaunch, "stopped before the relaunch")
    }

    func testOutputsConfigErrorsNameTheKey() throws {
        let h = try CLIHarness()
        try h.initialize("command = \"true\"\nbackend = \"fake\"\n[outputs]\nitem_dir = \"outputs/trait\"\n")
        try h.experiment("exp/a")
        let r = h.run(["launch", "exp/a"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("expt.toml:4") && r.stderr.contains("{item}"), r.stderr)
    }
}
