import XCTest
import GitKit
import ExptTestSupport

final class BranchAndWorktreeTests: XCTestCase {
    func testOpensFromSubdirectoryAndReportsDirs() throws {
        let t = try TempRepo()
        try t.write("a/b/c.txt", "x")
        let r = try Repository.open(at: t.path + "/a/b")
        XCTAssertEqual(r.workdir, t.path)
        XCTAssertEqual(r.commonDir, t.path + "/.git")
        XCTAssertEqual(try r.currentBranch(), "main")
        XCTAssertFalse(r.isHeadUnborn)
    }

    func testNotARepoAndBareRepoAreRefusedInWords() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("expt-norepo-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try Repository.open(at: dir)) { e in
            XCTAssertTrue("\(e)".contains("not a git repository"), "\(e)")
        }
        let bare = dir + "/bare.git"
        _ = try Git.run(["init", "-q", "--bare", bare], in: dir)
        XCTAssertThrowsError(try Repository.open(at: bare)) { e in
            XCTAssertTrue("\(e)".contains("bare repository"), "\(e)")
        }
    }

    func testWorktreeConfigExtensionIsRefusedClearly() throws {
        let t = try TempRepo()
        try t.git("config", "extensions.worktreeConfig", "true")
        XCTAssertThrowsError(try Repository.open(at: t.path)) { e in
            XCTAssertTrue("\(e)".contains("extensions.worktreeConfig"), "\(e)")
        }
    }

    func testBadBranchNamesAreRefusedWithTheRuleTheyBreak() throws {
        let cases: [(String, String)] = [
            ("", "empty"), ("-rf", "start with '-'"), ("a..b", "'..'"), ("foo.lock", ".lock"),
            ("x/../../etc", "'..'"), ("has space", "spaces"), ("ctl\u{1}x", "control"),
            ("a~b", "'~'"), ("a^b", "'^'"), ("a:b", "':'"), ("a?b", "'?'"), ("a*b", "'*'"),
            ("a[b", "'['"), ("a\\b", "'\\'"), ("HEAD", "reserved"), ("end/", "'/'"), (".hidden", "'.'"),
        ]
        for (name, rule) in cases {
            XCTAssertThrowsError(try Repository.validateBranchName(name), name) { e in
                XCTAssertTrue("\(e)".contains(rule), "\(name): \(e)")
            }
        }
        for ok in ["exp/lr-0.1", "données/résumé", "実験", "a_b.c"] {
            XCTAssertNoThrow(try Repository.validateBranchName(ok), ok)
        }
    }

    func testCreateBranchAgreesWithGitAndRefusesExisting() throws {
        let t = try TempRepo()
        let tip = try t.repo.createBranch("exp/one", at: "main")
        XCTAssertEqual(try t.git("rev-parse", "exp/one").trimmingCharacters(in: .whitespacesAndNewlines), tip.hex)
        XCTAssertThrowsError(try t.repo.createBranch("exp/one", at: "main")) { e in
            XCTAssertTrue("\(e)".contains("already exists"), "\(e)")
        }
        XCTAssertThrowsError(try t.repo.createBranch("x", at: "nope")) { e in
            XCTAssertTrue("\(e)".contains("nope"), "\(e)")
        }
        XCTAssertEqual(try t.repo.localBranches(), ["exp/one", "main"])
    }

    func testAddListPruneAndRecreateWorktreeAgreeWithGit() throws {
        let t = try TempRepo(name: "répertoire ü")
        try t.repo.createBranch("exp/lr", at: "main")
        let path = t.path + "/.worktrees/exp/lr"
        let wt = try t.repo.addWorktree(branch: "exp/lr", at: path)
        XCTAssertEqual(wt.name, "exp-lr")
        XCTAssertEqual(wt.branch, "exp/lr")
        XCTAssertTrue(wt.exists)
        let porcelain = try t.git("worktree", "list", "--porcelain")
        XCTAssertTrue(porcelain.contains("worktree \(path)\n"), porcelain)
        XCTAssertTrue(porcelain.contains("branch refs/heads/exp/lr"), porcelain)
        let inWt = try Repository.open(at: path)
        XCTAssertEqual(try inWt.currentBranch(), "exp/lr")
        XCTAssertEqual(inWt.commonDir, t.path + "/.git")
        XCTAssertTrue(inWt.isLinkedWorktree)

        // A second worktree for the same branch is refused; so is an existing path.
        XCTAssertThrowsError(try t.repo.addWorktree(branch: "exp/lr", at: t.path + "/other")) { e in
            XCTAssertTrue("\(e)".contains("already checked out"), "\(e)")
        }
        try t.repo.createBranch("b2", at: "main")
        try FileManager.default.createDirectory(atPath: t.path + "/taken", withIntermediateDirectories: true)
        XCTAssertThrowsError(try t.repo.addWorktree(branch: "b2", at: t.path + "/taken")) { e in
            XCTAssertTrue("\(e)".contains("already exists"), "\(e)")
        }

        // Removed by hand: stale, prunable, recreatable.
        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(try t.repo.worktree(named: "exp-lr")?.exists, false)
        XCTAssertTrue(try t.repo.pruneWorktree(named: "exp-lr"))
        XCTAssertFalse(try t.git("worktree", "list", "--porcelain").contains(path))
        try t.repo.addWorktree(branch: "exp/lr", at: path)
        XCTAssertTrue(try t.git("worktree", "list", "--porcelain").contains("worktree \(path)\n"))
        XCTAssertEqual(try t.git("status", "--porcelain", in: path), "")
        try t.git("fsck", "--no-progress")
    }

    /// Branch tips read from the ref files agree with `git for-each-ref`: loose, packed, a
    /// packed ref a newer loose one overrides, nested names; a symbolic branch (which the file
    /// reader leaves to libgit2) too.
    func testBranchTipsAgreeWithGitForEachRef() throws {
        let t = try TempRepo()
        func gitTips() throws -> [String] {
            try t.git("for-each-ref", "--format=%(refname:lstrip=2) %(objectname)", "refs/heads").split(separator: "\n").map(String.init).sorted()
        }
        func ours() throws -> [String] { try t.repo.localBranchTips().map { "\($0.name) \($0.tip.hex)" }.sorted() }
        for b in ["exp/a", "exp/deep/b", "packed-only"] { try t.repo.createBranch(b, at: "main") }
        try t.git("pack-refs", "--all")
        try t.git("checkout", "-q", "exp/a")
        try t.write("f.txt", "x")
        try t.git("add", "f.txt")
        try t.git("commit", "-q", "-m", "loose again")
        try t.git("checkout", "-q", "main")
        try t.repo.createBranch("loose-only", at: "main")
        XCTAssertEqual(try ours(), try gitTips())
        XCTAssertEqual(try t.repo.localBranches(), ["exp/a", "exp/deep/b", "loose-only", "main", "packed-only"])
        try t.git("symbolic-ref", "refs/heads/alias", "refs/heads/main")
        XCTAssertEqual(try ours(), try gitTips())
    }

    /// Worktrees made, locked and detached by the git CLI are listed as `git worktree list
    /// --porcelain` lists them: path, branch, lock; a directory that is not one is skipped.
    func testWorktreesMadeByGitAreListedAsGitListsThem() throws {
        let t = try TempRepo()
        try t.git("worktree", "add", "-q", "-b", "exp/a", t.path + "/wa")
        try t.git("worktree", "add", "-q", "--detach", t.path + "/wd")
        try t.git("worktree", "lock", t.path + "/wa")
        try FileManager.default.createDirectory(atPath: t.path + "/.git/worktrees/junk", withIntermediateDirectories: true)
        let list = try t.repo.worktrees()
        let porcelain = try t.git("worktree", "list", "--porcelain")
        XCTAssertEqual(list.map(\.path), porcelain.split(separator: "\n").filter { $0.hasPrefix("worktree ") }.map { String($0.dropFirst(9)) })
        XCTAssertEqual(list.map(\.branch), ["main", "exp/a", nil])
        XCTAssertEqual(list.map(\.isLocked), [false, true, false])
        XCTAssertTrue(porcelain.contains("worktree \(t.path)/wa\nHEAD "), porcelain)
        XCTAssertTrue(porcelain.contains("locked"), porcelain)
        XCTAssertEqual(list.map(\.exists), [true, true, true])
        XCTAssertNil(try t.repo.worktree(named: "junk"))

        // git 2.48's worktree.useRelativePaths: gitdir relative to the admin directory.
        try "../../../wd/.git\n".write(toFile: t.path + "/.git/worktrees/wd/gitdir", atomically: true, encoding: .utf8)
        XCTAssertEqual(try t.repo.worktree(named: "wd")?.path, t.path + "/wd")
        XCTAssertEqual(try t.repo.worktree(named: "wd")?.exists, true)
    }

    func testRemoveWorktreeKeepsBranchAndCleansEmptyParents() throws {
        let t = try TempRepo()
        try t.repo.createBranch("exp/deep/x", at: "main")
        let path = t.path + "/.worktrees/exp/deep/x"
        let wt = try t.repo.addWorktree(branch: "exp/deep/x", at: path)
        try t.repo.removeWorktree(named: wt.name!)
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.path + "/.worktrees/exp"))
        XCTAssertTrue(try t.repo.branchExists("exp/deep/x"))
        XCTAssertEqual(try t.git("worktree", "list", "--porcelain").components(separatedBy: "worktree ").count - 1, 1)
    }

    func testExcludeIsIdempotentAndHidesWorktrees() throws {
        let t = try TempRepo()
        XCTAssertFalse(try t.repo.ensureExcluded(".worktrees/"), "TempRepo excludes it, as expt init does")
        XCTAssertTrue(try t.repo.ensureExcluded("scratch/"))
        XCTAssertFalse(try t.repo.ensureExcluded("scratch/"))
        let exclude = try String(contentsOfFile: t.path + "/.git/info/exclude", encoding: .utf8)
        XCTAssertEqual(exclude.components(separatedBy: "\n").filter { $0 == "scratch/" }.count, 1)
        try t.repo.createBranch("e", at: "main")
        try t.repo.addWorktree(branch: "e", at: t.path + "/.worktrees/e")
        XCTAssertEqual(try t.git("status", "--porcelain"), "")
    }

    func testConfigRoundTripAgreesWithGit() throws {
        let t = try TempRepo()
        XCTAssertNil(try t.repo.configString("core.hooksPath"))
        try t.repo.setConfigString("core.hooksPath", ".githooks")
        XCTAssertEqual(try t.git("config", "--local", "core.hooksPath").trimmingCharacters(in: .whitespacesAndNewlines), ".githooks")
        XCTAssertEqual(try t.reopen().configString("core.hooksPath"), ".githooks")
    }

    /// A handle reads the live config, never a stale copy: its own writes and another
    /// process's (git, here) are seen by the next read.
    func testAHandleSeesConfigWrittenSinceItsLastRead() throws {
        let t = try TempRepo()
        let r = try t.reopen()
        XCTAssertNil(try r.configString("branch.exp/a.exptbase"))
        XCTAssertEqual(try r.configSubsections(section: "branch", key: "exptbase").count, 0)
        try r.setConfigString("branch.exp/a.exptbase", "main")
        XCTAssertEqual(try r.configString("branch.exp/a.exptbase"), "main", "its own write")
        for value in ["dev1", "dev2"] {   // two writes in a row by git, of the same size
            _ = try t.git("config", "branch.exp/a.exptbase", value)
            XCTAssertEqual(try r.configString("branch.exp/a.exptbase"), value, "git's write")
        }
        _ = try t.git("config", "branch.exp/b.exptbase", "main")
        _ = try t.git("config", "branch.exptbase", "not a subsection")
        _ = try t.git("config", "branch.exp.v2.other", "another key")
        _ = try t.git("config", "branch.Exp.V2.ExptBase", "mixed case")
        // Cross-checked with git's own listing.
        let fromGit = try t.git("config", "--get-regexp", "^branch\\..*\\.exptbase$").split(separator: "\n").map(String.init).sorted()
        let ours = try r.configSubsections(section: "branch", key: "exptbase").map { "branch.\($0.subsection).exptbase \($0.value)" }.sorted()
        XCTAssertEqual(ours, fromGit)
        XCTAssertEqual(ours, ["branch.Exp.V2.exptbase mixed case", "branch.exp/a.exptbase dev2", "branch.exp/b.exptbase main"])
        try r.deleteConfig("branch.exp/a.exptbase")
        XCTAssertNil(try r.configString("branch.exp/a.exptbase"), "its own deletion")
    }

    func testUnbornHeadAndDetachedHead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("expt-unborn-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Repository.create(at: dir)
        XCTAssertTrue(r.isHeadUnborn)
        XCTAssertNil(try r.headCommit())
        XCTAssertEqual(try r.currentBranch(), "main")
        let t = try TempRepo()
        try t.git("checkout", "-q", "--detach")
        XCTAssertTrue(try t.reopen().isHeadDetached)
        XCTAssertNil(try t.reopen().currentBranch())
    }

    func testCheckoutFiltersStillApplyWhenTheRepoHasAttributes() throws {
        let t = try TempRepo(files: [".gitattributes": "*.txt text eol=crlf\n", "a.txt": "line\n", "b.bin": "raw\n"])
        try t.repo.createBranch("e", at: "main")
        let wt = try t.repo.addWorktree(branch: "e", at: t.path + "/.worktrees/e")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: wt.path + "/a.txt")), Data("line\r\n".utf8))
        XCTAssertEqual(try t.git("status", "--porcelain", in: wt.path), "")
        let plain = try TempRepo(files: ["a.txt": "line\n"])
        try plain.repo.createBranch("e", at: "main")
        let pw = try plain.repo.addWorktree(branch: "e", at: plain.path + "/.worktrees/e")
        XCTAssertEqual(try String(contentsOfFile: pw.path + "/a.txt", encoding: .utf8), "line\n")
        XCTAssertEqual(try plain.git("status", "--porcelain", in: pw.path), "")
    }
}
