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

    /// An experiment `exp/<name>` that adds `dir/` with 600 files, committed, its worktree
    /// cleaned: ready to merge into main.
    func mergeable(_ name: String) throws {
        XCTAssertEqual(try expt.run(["new", "exp/\(name)"], in: t.path).status, 0)
        let wt = t.path + "/.worktrees/exp/\(name)"
        for i in 1...600 { try t.write("\(name)/f\(i).txt", "\(name) \(i)\n", in: wt) }
        XCTAssertEqual(try expt.run(["checkpoint", "exp/\(name)", "-m", name], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["clean", "exp/\(name)"], in: t.path).status, 0)
    }

    func assertMerged(_ name: String, _ context: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try git("status", "--porcelain"), "", context, file: file, line: line)
        XCTAssertEqual(try git("rev-parse", "main^2"), try git("rev-parse", "exp/\(name)"), "a merge commit: \(context)", file: file, line: line)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: t.path + "/\(name)").count, 600, context, file: file, line: line)
    }

    func testAStaleIndexLockIsMovedAsideAndAMergeNeverStrandsItsFiles() throws {
        try mergeable("m7")
        let before = try git("rev-parse", "main")
        let lock = t.path + "/.git/index.lock"
        XCTAssertTrue(FileManager.default.createFile(atPath: lock, contents: nil))
        let merged = try expt.run(["merge", "exp/m7"], in: t.path)
        XCTAssertEqual(merged.status, 0, "no process holds the lock: \(merged.stderr)")
        try assertMerged("m7", "after a stale lock")
        XCTAssertFalse(FileManager.default.fileExists(atPath: lock))
        XCTAssertNotEqual(try git("rev-parse", "main"), before)

        // A lock a live process holds: refused before anything is written.
        try mergeable("m8")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec sleep 30 3>\(lock)"]   // sleep itself holds it: TERM ends it at once
        try holder.run()
        defer { holder.terminate(); holder.waitUntilExit() }
        usleep(300_000)
        let head = try git("rev-parse", "main")
        let refused = try expt.run(["merge", "exp/m8"], in: t.path)
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("locked by a running process (pid"), refused.stderr)
        XCTAssertEqual(try git("rev-parse", "main"), head)
        XCTAssertEqual(try git("status", "--porcelain", "--untracked-files=all"), "", "nothing of the merge was written")
    }

    func testLeftoversOfAnInterruptedMergeAreRecognisedAndTheMergeFinishes() throws {
        try mergeable("m9")
        // What a merge killed between its checkout and its ref update leaves: the merge's
        // files, untracked or (in one trial of the probe) staged.
        let source = t.path + "/m9"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        for i in 1...600 { try "m9 \(i)\n".write(toFile: source + "/f\(i).txt", atomically: false, encoding: .utf8) }
        try t.git("add", "m9/f1.txt", "m9/f2.txt")
        let merged = try expt.run(["merge", "exp/m9"], in: t.path)
        XCTAssertEqual(merged.status, 0, merged.stderr)
        try assertMerged("m9", "finished over its own leftovers")

        // A person's different file in the way is never overwritten, and nothing is written.
        try mergeable("m10")
        try t.write("m10/f3.txt", "mine\n")
        let head = try git("rev-parse", "main")
        let refused = try expt.run(["merge", "exp/m10"], in: t.path)
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("in the way of the merge") && refused.stderr.contains("m10/f3.txt"), refused.stderr)
        XCTAssertEqual(try git("rev-parse", "main"), head)
        XCTAssertEqual(try String(contentsOfFile: t.path + "/m10/f3.txt", encoding: .utf8), "mine\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: t.path + "/m10"), ["f3.txt"])
    }

    func testAMergeKilledAtAnyMomentConvergesOnRerun() throws {
        for (n, delay) in [0.03, 0.06, 0.1, 0.15, 0.25].enumerated() {
            let name = "k\(n)"
            try mergeable(name)
            let p = try expt.start(["merge", "exp/\(name)"], in: t.path)
            usleep(useconds_t(delay * 1e6))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let again = try expt.run(["merge", "exp/\(name)"], in: t.path)
            XCTAssertEqual(again.status, 0, "killed after \(delay) s: \(again.stderr)")
            try assertMerged(name, "killed after \(delay) s")
        }
    }

    func testAFullDiskDuringAMergeIsNamedAndLeavesMainAsItWas() throws {
        guard let fs = Tmpfs(megabytes: 12) else {
            throw XCTSkip("cannot mount a tmpfs here (needs root): the full-disk merge is not exercised")
        }
        defer { t = nil; fs.unmount() }
        t = try TempRepo(files: ["README.md": "# test\n"], under: fs.url)
        try mergeable("b")
        let head = try git("rev-parse", "main")
        try fs.fill()
        let full = try expt.run(["merge", "exp/b"], in: t.path)
        XCTAssertEqual(full.status, 1, full.stderr)
        XCTAssertTrue(full.stderr.contains("no space left on device while merging 'exp/b' into 'main'"), full.stderr)
        XCTAssertTrue(full.stderr.contains("'main' was not moved"), full.stderr)
        XCTAssertFalse(full.stderr.contains("object not found"), "the cause, not libgit2's symptom")
        try fs.free()
        XCTAssertEqual(try git("rev-parse", "main"), head)
        XCTAssertEqual(try git("status", "--porcelain", "--untracked-files=all"), "", "nothing of the merge was left behind")
        XCTAssertEqual(try expt.run(["merge", "exp/b"], in: t.path).status, 0)
        XCTAssertEqual(try git("rev-parse", "main^2"), try git("rev-parse", "exp/b"))
    }
}
