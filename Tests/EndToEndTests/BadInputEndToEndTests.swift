import XCTest
import GitKit
import ExptTestSupport

/// Every bad input of the foundation issue: a clear error, a non-zero exit, and the repository
/// exactly as it was (branches, worktrees, files).
final class BadInputEndToEndTests: XCTestCase {
    var expt: ExptBinary!
    override func setUpWithError() throws { expt = try ExptBinary() }

    /// A fingerprint of everything expt could touch.
    func snapshot(_ t: TempRepo) throws -> String {
        let refs = try t.git("for-each-ref", "--format=%(refname) %(objectname)")
        let wts = try t.git("worktree", "list", "--porcelain")
        let status = try t.git("status", "--porcelain", "--ignored")
        let config = try String(contentsOfFile: t.path + "/.git/config", encoding: .utf8)
        return [refs, wts, status, config].joined(separator: "\n--\n")
    }

    func testInvalidBranchNamesAreRefusedWithTheirRuleAndNothingIsCreated() throws {
        let t = try TempRepo()
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        let before = try snapshot(t)
        let cases: [(String, String)] = [
            ("", "empty"), ("-rf", "start with '-'"), ("a..b", "'..'"), ("foo.lock", ".lock"),
            ("x/../../etc", "'..'"), ("with space", "spaces"), ("bell\u{7}", "control characters"),
            ("a~1", "'~'"), ("a^1", "'^'"), ("a:b", "':'"), ("a?b", "'?'"), ("a*b", "'*'"), ("a[b", "'['"),
            ("a\\b", "'\\'"),
        ]
        for (name, rule) in cases {
            let r = try expt.run(["new", "--", name], in: t.path)
            XCTAssertEqual(r.status, 2, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(rule), "\(name): \(r.stderr)")
        }
        XCTAssertEqual(try snapshot(t), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.path + "/.worktrees"))
    }

    /// Issue 10, R21: `launch --dry-run` refuses what the real launch refuses (the backend's own
    /// check, `Backend.check`), whether the array comes from the flag or from expt.toml.
    func testADryRunRefusesWhatTheLaunchWouldRefuse() throws {
        let t = try TempRepo()
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["new", "exp/t"], in: t.path).status, 0)
        let real = try expt.run(["launch", "exp/t", "--array", "0-2"], in: t.path)
        XCTAssertEqual(real.status, 2, real.stderr)
        for args in [["launch", "exp/t", "--array", "0-2", "--dry-run"], ["launch", "exp/t", "--array", "0-2", "--dry-run", "--json"]] {
            let dry = try expt.run(args, in: t.path)
            XCTAssertEqual(dry.status, 2, "\(args): \(dry.stdout)")
            XCTAssertTrue((dry.stderr + dry.stdout).contains("the local backend runs one job at a time"), dry.stderr + dry.stdout)
        }
        let toml = t.path + "/.worktrees/exp/t/expt.toml"
        try ("array = \"0-3\"\n" + (try String(contentsOfFile: toml, encoding: .utf8))).write(toFile: toml, atomically: true, encoding: .utf8)
        let fromFile = try expt.run(["launch", "exp/t", "--dry-run", "--allow-dirty"], in: t.path)
        XCTAssertEqual(fromFile.status, 2, fromFile.stdout + fromFile.stderr)
        XCTAssertTrue(fromFile.stderr.contains("asks for an array job"), fromFile.stderr)
    }

    func testExistingAndMissingBranches() throws {
        let t = try TempRepo()
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["new", "e1"], in: t.path).status, 0)
        let before = try snapshot(t)
        let dup = try expt.run(["new", "e1"], in: t.path)
        XCTAssertEqual(dup.status, 3)
        XCTAssertTrue(dup.stderr.contains("already exists"), dup.stderr)
        let main = try expt.run(["new", "main"], in: t.path)
        XCTAssertEqual(main.status, 3, main.stderr)
        for cmd in [["worktree", "nope"], ["checkpoint", "nope", "-m", "x"], ["merge", "nope"], ["sync", "nope"], ["clean", "nope"]] {
            let r = try expt.run(cmd + ["--json"], in: t.path)
            XCTAssertEqual(r.status, 4, "\(cmd): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("there is no branch 'nope'"), r.stderr)
            XCTAssertEqual((try r.json() as? [String: [String: Any]])?["error"]?["exit_code"] as? Int, 4)
        }
        let badFrom = try expt.run(["new", "e2", "--from", "no-such-ref"], in: t.path)
        XCTAssertEqual(badFrom.status, 4)
        XCTAssertTrue(badFrom.stderr.contains("no-such-ref"), badFrom.stderr)
        XCTAssertEqual(try snapshot(t), before)
    }

    func testNotARepoBareRepoWorktreeConfigAndUnbornHead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("expt-bad-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: dir + "/plain", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plain = try expt.run(["list"], in: dir + "/plain")
        XCTAssertEqual(plain.status, 4, "not_found")
        XCTAssertTrue(plain.stderr.contains("not inside a git repository"), plain.stderr)

        _ = try Git.run(["init", "-q", "--bare", dir + "/bare.git"], in: dir)
        let bare = try expt.run(["init"], in: dir + "/bare.git")
        XCTAssertNotEqual(bare.status, 0)
        XCTAssertTrue(bare.stderr.contains("bare repository"), bare.stderr)

        _ = try Git.run(["init", "-q", "-b", "main", dir + "/unborn"], in: dir)
        let unborn = try expt.run(["init"], in: dir + "/unborn")
        XCTAssertEqual(unborn.status, 2)
        XCTAssertTrue(unborn.stderr.contains("no commits yet"), unborn.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/unborn/expt.toml"))

        let t = try TempRepo()
        try t.git("config", "extensions.worktreeConfig", "true")
        let before = try snapshot(t)
        let wc = try expt.run(["new", "e1"], in: t.path)
        XCTAssertNotEqual(wc.status, 0)
        XCTAssertTrue(wc.stderr.contains("extensions.worktreeConfig"), wc.stderr)
        XCTAssertEqual(try snapshot(t), before)
    }

    func testWorktreePathAlreadyExistsDetachedHeadAndDirtyMergeTarget() throws {
        let t = try TempRepo()
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        try FileManager.default.createDirectory(atPath: t.path + "/.worktrees/taken", withIntermediateDirectories: true)
        let before = try snapshot(t)
        let taken = try expt.run(["new", "taken"], in: t.path)
        XCTAssertEqual(taken.status, 3)
        XCTAssertTrue(taken.stderr.contains("already exists"), taken.stderr)
        XCTAssertEqual(try snapshot(t), before)

        XCTAssertEqual(try expt.run(["new", "e1"], in: t.path).status, 0)
        try t.write("x.txt", "1\n", in: t.path + "/.worktrees/e1")
        XCTAssertEqual(try expt.run(["checkpoint", "e1", "-m", "x"], in: t.path).status, 0)
        try t.write("README.md", "dirty\n")
        let dirty = try expt.run(["merge", "e1"], in: t.path)
        XCTAssertEqual(dirty.status, 3)
        XCTAssertTrue(dirty.stderr.contains("uncommitted changes"), dirty.stderr)
        XCTAssertEqual(try t.git("status", "--porcelain"), " M README.md\n")
        try t.git("checkout", "-q", "README.md")

        try t.git("checkout", "-q", "--detach")
        let detached = try expt.run(["new", "e2"], in: t.path)
        XCTAssertEqual(detached.status, 2)
        XCTAssertTrue(detached.stderr.contains("detached HEAD") && detached.stderr.contains("--from"), detached.stderr)
        XCTAssertEqual(try expt.run(["new", "e2", "--from", "main"], in: t.path).status, 0)
    }

    func testBranchCheckedOutElsewhereIsFoundNotDuplicated() throws {
        let t = try TempRepo()
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["new", "e1"], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["clean", "e1"], in: t.path).status, 0)
        let elsewhere = t.root.appendingPathComponent("elsewhere").path
        try t.git("worktree", "add", "-q", elsewhere, "e1")
        let r = try expt.run(["worktree", "e1"], in: t.path)
        XCTAssertEqual(r.stdout, elsewhere + "\n")
        XCTAssertEqual(try t.git("worktree", "list", "--porcelain").components(separatedBy: "branch refs/heads/e1").count - 1, 1)
    }

    func testUsageErrorsExit64AndHelpExits0() throws {
        let t = try TempRepo()
        let r = try expt.run(["new"], in: t.path)
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.stderr.contains("Missing expected argument"), r.stderr)
        let h = try expt.run(["--help"], in: t.path)
        XCTAssertEqual(h.status, 0)
        XCTAssertTrue(h.stdout.contains("fix-and-relaunch") || h.stdout.contains("merge"), h.stdout)
    }
}
