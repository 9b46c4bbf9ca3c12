import XCTest
import GitKit
import ExptTestSupport

final class CommitAndMergeTests: XCTestCase {
    func testCommitAllStagesNewModifiedDeletedAndRespectsIgnores() throws {
        let t = try TempRepo(files: ["README.md": "x\n", "gone.txt": "bye\n", ".gitignore": "*.ckpt\n"])
        try t.write("README.md", "changed\n")
        try t.write("new/dir/file.py", "print(1)\n")
        try t.write("model.ckpt", "binary")
        try FileManager.default.removeItem(atPath: t.path + "/gone.txt")
        guard case .committed(let id, let n) = try t.repo.commitAll(message: "work\n\nExpt-Run: r3\n") else {
            return XCTFail("expected a commit")
        }
        XCTAssertEqual(n, 3)
        XCTAssertEqual(try t.git("status", "--porcelain"), "?? model.ckpt\n".replacingOccurrences(of: "?? model.ckpt\n", with: ""))
        let files = try t.git("show", "--name-status", "--format=", id.hex)
        XCTAssertTrue(files.contains("M\tREADME.md"), files)
        XCTAssertTrue(files.contains("A\tnew/dir/file.py"), files)
        XCTAssertTrue(files.contains("D\tgone.txt"), files)
        XCTAssertFalse(files.contains("model.ckpt"), files)
        XCTAssertEqual(try t.repo.commit(id).trailer("Expt-Run"), "r3")
        XCTAssertEqual(try t.repo.commitAll(message: "again\n"), .nothingToCommit)
        try t.git("fsck", "--no-progress")
    }

    func testChangesStagedWithGitAreCommittedToo() throws {
        let t = try TempRepo(files: ["a.txt": "1\n"])
        try t.write("a.txt", "2\n")
        try t.git("add", "a.txt")
        guard case .committed(let id, _) = try t.reopen().commitAll(message: "staged\n") else { return XCTFail("expected a commit") }
        XCTAssertEqual(try t.git("show", "--name-only", "--format=", id.hex), "a.txt\n")
        XCTAssertEqual(try t.git("status", "--porcelain"), "")
    }

    func testMergeAlwaysMakesTwoParentCommitEvenWhenFastForwardIsPossible() throws {
        let t = try TempRepo()
        try t.repo.createBranch("exp", at: "main")
        let wt = try t.repo.addWorktree(branch: "exp", at: t.path + "/.worktrees/exp")
        try t.write("result.txt", "42\n", in: wt.path)
        _ = try Repository.open(at: wt.path).commitAll(message: "result\n")
        let before = try t.repo.branchTip("main")
        guard case .merged(let m) = try t.repo.merge("exp", into: "main") else { return XCTFail("expected merge") }
        let parents = try t.git("rev-list", "--parents", "-n", "1", m.hex).split(separator: " ").dropFirst()
        XCTAssertEqual(parents.count, 2)
        XCTAssertEqual(String(parents.first!).trimmingCharacters(in: .whitespacesAndNewlines), before.hex)
        XCTAssertEqual(try t.git("status", "--porcelain"), "")
        XCTAssertEqual(try String(contentsOfFile: t.path + "/result.txt", encoding: .utf8), "42\n")
        XCTAssertEqual(try t.repo.merge("exp", into: "main"), .upToDate)
        let graph = try t.git("log", "--graph", "--oneline", "main")
        XCTAssertTrue(graph.contains("Merge branch 'exp' into main"), graph)
        try t.git("fsck", "--no-progress")
    }

    func testConflictTouchesNothingAndListsPaths() throws {
        let t = try TempRepo(files: ["a.txt": "base\n", "b.txt": "base\n"])
        try t.repo.createBranch("exp", at: "main")
        let wt = try t.repo.addWorktree(branch: "exp", at: t.path + "/.worktrees/exp")
        try t.write("a.txt", "theirs\n", in: wt.path)
        _ = try Repository.open(at: wt.path).commitAll(message: "theirs\n")
        try t.write("a.txt", "ours\n")
        _ = try t.repo.commitAll(message: "ours\n")
        let mainBefore = try t.repo.branchTip("main")
        XCTAssertThrowsError(try t.repo.merge("exp", into: "main")) { e in
            XCTAssertEqual((e as? MergeConflict)?.paths, ["a.txt"])
        }
        XCTAssertEqual(try t.repo.branchTip("main"), mainBefore)
        XCTAssertEqual(try t.git("status", "--porcelain"), "")
        XCTAssertEqual(try String(contentsOfFile: t.path + "/a.txt", encoding: .utf8), "ours\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.path + "/.git/MERGE_HEAD"))
    }

    func testMergeIntoBranchCheckedOutInLinkedWorktreeAndSyncDirection() throws {
        let t = try TempRepo()
        try t.repo.createBranch("exp", at: "main")
        let wt = try t.repo.addWorktree(branch: "exp", at: t.path + "/.worktrees/exp")
        try t.write("upstream.txt", "new on main\n")
        _ = try t.repo.commitAll(message: "main moves\n")
        // sync: main into the experiment, checked out in the linked worktree
        guard case .merged = try t.repo.merge("main", into: "exp") else { return XCTFail() }
        XCTAssertEqual(try t.git("status", "--porcelain", in: wt.path), "")
        XCTAssertTrue(FileManager.default.fileExists(atPath: wt.path + "/upstream.txt"))
        XCTAssertEqual(try t.git("rev-parse", "HEAD", in: wt.path), try t.git("rev-parse", "exp"))
    }

    func testDirtyTargetWorktreeIsRefusedAndNothingChanges() throws {
        let t = try TempRepo(files: ["a.txt": "1\n"])
        try t.repo.createBranch("exp", at: "main")
        let wt = try t.repo.addWorktree(branch: "exp", at: t.path + "/.worktrees/exp")
        try t.write("b.txt", "2\n", in: wt.path)
        _ = try Repository.open(at: wt.path).commitAll(message: "b\n")
        try t.write("a.txt", "dirty\n")
        let before = try t.repo.branchTip("main")
        XCTAssertThrowsError(try t.repo.merge("exp", into: "main")) { e in
            XCTAssertTrue("\(e)".contains("uncommitted changes"), "\(e)")
        }
        XCTAssertEqual(try t.repo.branchTip("main"), before)
        XCTAssertEqual(try t.git("status", "--porcelain"), " M a.txt\n")
    }

    func testLogTrailersAndAheadBehind() throws {
        let t = try TempRepo()
        try t.repo.createBranch("exp", at: "main")
        let wt = try Repository.open(at: try t.repo.addWorktree(branch: "exp", at: t.path + "/.worktrees/exp").path)
        for i in 1...3 {
            try t.write("f\(i)", "\(i)", in: wt.workdir)
            _ = try wt.commitAll(message: "step \(i)\n\nExpt-Run: r\(i)\nExpt-Diagnosis: oom_host\n")
        }
        let (ahead, behind) = try t.repo.aheadBehind(try t.repo.branchTip("exp"), try t.repo.branchTip("main"))
        XCTAssertEqual(ahead, 3); XCTAssertEqual(behind, 0)
        let log = try t.repo.log(from: try t.repo.branchTip("exp"), hiding: try t.repo.branchTip("main"))
        XCTAssertEqual(log.map(\.summary), ["step 3", "step 2", "step 1"])
        XCTAssertEqual(log.first?.trailer("Expt-Run"), "r3")
        XCTAssertEqual(log.first?.trailer("Expt-Diagnosis"), "oom_host")
        let cli = try t.git("log", "--format=%(trailers:key=Expt-Run,valueonly)", "main..exp")
        XCTAssertEqual(cli.split(separator: "\n").map(String.init), ["r3", "r2", "r1"])
    }
}
