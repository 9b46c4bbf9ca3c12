import Foundation
import XCTest
import ExptTestSupport

/// Commands killed half way leave nothing that a later command turns into damage (issue 10,
/// class 4): an interrupted `new` is finished by rerunning it and refused by everything else,
/// and a worktree whose checkout never finished is never committed (R1).
final class InterruptionEndToEndTests: XCTestCase {
    var expt: ExptBinary!
    var t: TempRepo!

    override func setUpWithError() throws {
        expt = try ExptBinary()
        var files = ["README.md": "# test\n", ".gitignore": "checkpoints/\n", "train.py": "print('train')\n"]
        for i in 1...1500 { files["data/f\(i).txt"] = "b \(i)\n" }
        t = try TempRepo(files: files)
    }

    func git(_ args: String...) throws -> String {
        try Git.run(args, in: t.path).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The worktree of `branch` holds exactly its branch's files, with nothing to commit.
    func assertComplete(_ branch: String, _ context: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let wt = t.path + "/.worktrees/" + branch
        XCTAssertEqual(try t.git("-C", wt, "status", "--porcelain"), "", context, file: file, line: line)
        let tracked = try t.git("-C", wt, "ls-tree", "-r", "--name-only", "HEAD").split(separator: "\n").count
        XCTAssertEqual(tracked, 1500 + 4, "the data, README, .gitignore, train.py and the doc: \(context)", file: file, line: line)
        XCTAssertTrue(FileManager.default.fileExists(atPath: wt + "/train.py"), context, file: file, line: line)
    }

    func testANewKilledAfterItsBranchIsRefusedEverywhereAndFinishedByRunningItAgain() throws {
        for (n, point) in ["new-after-branch", "new-after-worktree"].enumerated() {
            let branch = "exp/k\(n)"
            let killed = try expt.run(["new", branch], in: t.path, env: ["EXPT_FAULT": point])
            XCTAssertNotEqual(killed.status, 0, point)
            XCTAssertEqual(try git("branch", "--list", "--format=%(refname:short)", branch), branch, "the branch exists")
            for argv in [["checkpoint", branch, "-m", "my work"], ["worktree", branch], ["launch", branch, "--dry-run"]] {
                let refused = try expt.run(argv, in: t.path)
                XCTAssertEqual(refused.status, 3, "\(point) \(argv): \(refused.stderr)")
                XCTAssertTrue(refused.stderr.contains("the creation of '\(branch)' was interrupted"), refused.stderr)
                XCTAssertTrue(refused.stderr.contains("run `expt new \(branch)` again"), refused.stderr)
            }
            let head = try git("rev-parse", branch)
            let again = try expt.run(["new", branch], in: t.path)
            XCTAssertEqual(again.status, 0, "\(point): \(again.stderr)")
            XCTAssertTrue(again.stdout.contains("finished the interrupted creation of \(branch)"), again.stdout)
            XCTAssertEqual(try git("rev-parse", branch), head, "the branch and its doc commit are kept")
            try assertComplete(branch, point)
            XCTAssertEqual(try git("config", "branch.\(branch).exptbase"), "main")
            let third = try expt.run(["new", branch], in: t.path)
            XCTAssertEqual(third.status, 3, "now it is an ordinary existing branch")
            XCTAssertEqual(try expt.run(["checkpoint", branch, "-m", "nothing"], in: t.path).status, 0)
            XCTAssertEqual(try git("rev-parse", branch), head, "nothing to commit: no deletions")
        }
    }

    func testANewKilledAtAnyMomentConvergesWithoutCommittingDeletions() throws {
        for (n, delay) in [0.05, 0.1, 0.15, 0.2, 0.3, 0.45].enumerated() {
            let branch = "exp/d\(n)"
            let p = try expt.start(["new", branch], in: t.path)
            usleep(useconds_t(delay * 1e6))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let exists = try !git("branch", "--list", branch).isEmpty
            let again = try expt.run(["new", branch], in: t.path)
            // Killed before the branch: a fresh creation; after it: finished; already done: 3.
            XCTAssertTrue(again.status == 0 || (again.status == 3 && exists && again.stderr.contains("already exists")),
                          "\(delay) s: \(again.status) \(again.stderr)")
            try assertComplete(branch, "killed after \(delay) s")
        }
    }

    func testAWorktreeWhoseCheckoutNeverFinishedIsNotCommittedAndIsCheckedOutAfresh() throws {
        XCTAssertEqual(try expt.run(["new", "exp/w"], in: t.path).status, 0)
        let wt = t.path + "/.worktrees/exp/w"
        // What a checkout killed half way leaves (seen with `expt worktree` and `new`): no index
        // yet and only some of the files.
        let gitDir = try git("-C", wt, "rev-parse", "--absolute-git-dir")
        try FileManager.default.removeItem(atPath: gitDir + "/index")
        for i in 700...1500 { try FileManager.default.removeItem(atPath: wt + "/data/f\(i).txt") }
        try FileManager.default.removeItem(atPath: wt + "/train.py")
        try t.write("notes.md", "written after the kill\n", in: wt)
        let head = try git("rev-parse", "exp/w")

        let refused = try expt.run(["checkpoint", "exp/w", "-m", "my work"], in: t.path)
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("has no index: its checkout was interrupted"), refused.stderr)
        XCTAssertEqual(try git("rev-parse", "exp/w"), head, "no commit of deletions")

        let repaired = try expt.run(["worktree", "exp/w"], in: t.path)
        XCTAssertEqual(repaired.status, 0, repaired.stderr)
        try assertComplete("exp/w", "checked out afresh")
        let aside = try FileManager.default.contentsOfDirectory(atPath: t.path + "/.worktrees/.interrupted")
        XCTAssertEqual(aside.count, 1)
        XCTAssertTrue(aside[0].hasPrefix("exp-w-"), aside[0])
        XCTAssertEqual(try String(contentsOfFile: t.path + "/.worktrees/.interrupted/\(aside[0])/notes.md", encoding: .utf8),
                       "written after the kill\n", "what was in it is moved aside, never deleted")
        XCTAssertEqual(try t.git("status", "--porcelain"), "", "the main worktree stays clean")
    }
}
