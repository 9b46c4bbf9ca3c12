import XCTest
import GitKit
import ExptTestSupport

/// The branch/worktree lifecycle through the real binary, cross-checked with the git CLI.
final class LifecycleEndToEndTests: XCTestCase {
    var expt: ExptBinary!
    override func setUpWithError() throws { expt = try ExptBinary() }

    func initialized(_ name: String = "repo") throws -> TempRepo {
        let t = try TempRepo(name: name)
        let r = try expt.run(["init"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        return t
    }

    /// The executable's own `mbedtls_x509_crt_parse_file` takes libgit2's call (so the CA bundle
    /// is parsed only before a push, GitKit's DeferredCertificates): the dynamic loader binds
    /// libgit2's reference to it, and an ordinary command never opens the bundle.
    func testLibgit2sCABundleParseIsBoundToTheExecutable() throws {
        let t = try TempRepo()
        let r = try expt.run(["list"], in: t.path, env: ["LD_DEBUG": "bindings"])
        let bindings = r.stderr.split(separator: "\n").filter { $0.contains("`mbedtls_x509_crt_parse_file'") }
        guard bindings.contains(where: { $0.contains("libgit2") }) else {
            throw XCTSkip("this libgit2 does not parse its CA bundle with mbedTLS")
        }
        XCTAssertTrue(bindings.contains { $0.contains("libgit2") && $0.contains("to \(expt.path)") }, bindings.joined(separator: "\n"))
    }

    func testInitIsIdempotentAndInstallsHooks() throws {
        let t = try TempRepo()
        let first = try expt.run(["init", "--json"], in: t.path)
        XCTAssertEqual(first.status, 0, first.stderr)
        let obj = try XCTUnwrap(first.json() as? [String: Any])
        XCTAssertEqual(obj["created"] as? [String], ["expt.toml", ".githooks/pre-commit", ".githooks/commit-msg", "docs/"])
        XCTAssertEqual(try t.git("config", "core.hooksPath").trimmingCharacters(in: .whitespacesAndNewlines), ".githooks")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: t.path + "/.githooks/pre-commit"))
        XCTAssertEqual(try t.git("status", "--porcelain"), "")
        XCTAssertEqual(try t.git("log", "--format=%s", "-1"), "Set up expt\n")
        let head = try t.git("rev-parse", "HEAD")
        let second = try expt.run(["init"], in: t.path)
        XCTAssertEqual(second.status, 0)
        XCTAssertTrue(second.stdout.contains("already set up"), second.stdout)
        XCTAssertEqual(try t.git("rev-parse", "HEAD"), head, "a second init commits nothing")
    }

    func testNewListCheckpointMergeCleanWorktreeAgreeWithGit() throws {
        let t = try initialized("dépôt 実験")
        let new = try expt.run(["new", "exp/lr-0.1", "--json"], in: t.path)
        XCTAssertEqual(new.status, 0, new.stderr)
        let created = try XCTUnwrap(new.json() as? [String: Any])
        let wt = try XCTUnwrap(created["worktree"] as? String)
        XCTAssertEqual(wt, t.path + "/.worktrees/exp/lr-0.1")
        XCTAssertTrue(try t.git("worktree", "list", "--porcelain").contains("worktree \(wt)\nHEAD"))
        let doc = try String(contentsOfFile: wt + "/docs/exp/lr-0.1.md", encoding: .utf8)
        XCTAssertTrue(doc.contains("# exp/lr-0.1") && doc.contains("Base: `main`") && doc.contains("## Fixes"), doc)
        XCTAssertEqual(try t.git("status", "--porcelain", in: wt), "")
        XCTAssertEqual(try t.git("status", "--porcelain"), "")

        try t.write("train.py", "print('hi')\n", in: wt)
        try FileManager.default.removeItem(atPath: wt + "/README.md")
        let cp = try expt.run(["checkpoint", "exp/lr-0.1", "-m", "add training script"], in: wt)
        XCTAssertEqual(cp.status, 0, cp.stderr)
        XCTAssertEqual(try t.git("status", "--porcelain", in: wt), "")
        XCTAssertEqual(try t.git("show", "--name-status", "--format=", "exp/lr-0.1"), "D\tREADME.md\nA\ttrain.py\n")
        let again = try expt.run(["checkpoint", "exp/lr-0.1", "-m", "nothing", "--json"], in: t.path)
        XCTAssertEqual(again.status, 0)
        XCTAssertEqual((try again.json() as? [String: Any])?["committed"] as? Bool, false)

        let list = try expt.run(["list", "--json"], in: wt)
        let rows = try XCTUnwrap(list.json() as? [[String: Any]])
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0]["branch"] as? String, "exp/lr-0.1")
        XCTAssertEqual(rows[0]["worktree"] as? String, wt)
        XCTAssertEqual(rows[0]["doc"] as? Bool, true)
        XCTAssertEqual(rows[0]["ahead"] as? Int, 2)
        XCTAssertEqual(rows[0]["head"] as? String, try t.git("rev-parse", "exp/lr-0.1").trimmingCharacters(in: .whitespacesAndNewlines))

        let merge = try expt.run(["merge", "exp/lr-0.1"], in: t.path)
        XCTAssertEqual(merge.status, 0, merge.stderr)
        let parents = try t.git("log", "-1", "--format=%P", "main").split(separator: " ")
        XCTAssertEqual(parents.count, 2, "always a merge commit, even when fast-forward was possible")
        XCTAssertEqual(try t.git("status", "--porcelain"), "")
        XCTAssertTrue(FileManager.default.fileExists(atPath: t.path + "/train.py"))

        let clean = try expt.run(["clean", "exp/lr-0.1"], in: t.path)
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: wt))
        XCTAssertFalse(try t.git("worktree", "list", "--porcelain").contains(wt))
        XCTAssertTrue(try t.git("branch", "--list", "exp/lr-0.1").contains("exp/lr-0.1"))
        let back = try expt.run(["worktree", "exp/lr-0.1"], in: t.path)
        XCTAssertEqual(back.stdout, wt + "\n")
        XCTAssertTrue(try t.git("worktree", "list", "--porcelain").contains("worktree \(wt)\n"))
        try t.git("fsck", "--no-progress")
    }

    func testWorktreeRemovedByHandIsPrunedAndRecreated() throws {
        let t = try initialized()
        XCTAssertEqual(try expt.run(["new", "e1"], in: t.path).status, 0)
        let wt = t.path + "/.worktrees/e1"
        try FileManager.default.removeItem(atPath: wt)
        let r = try expt.run(["worktree", "e1", "--json"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual((try r.json() as? [String: Any])?["recreated"] as? Bool, true)
        let porcelain = try t.git("worktree", "list", "--porcelain")
        XCTAssertEqual(porcelain.components(separatedBy: "worktree \(wt)\n").count - 1, 1, porcelain)
        XCTAssertFalse(porcelain.contains("prunable"), porcelain)
    }

    func testSyncMergesBaseIntoExperiment() throws {
        let t = try initialized()
        XCTAssertEqual(try expt.run(["new", "e1"], in: t.path).status, 0)
        try t.write("data.csv", "a,b\n")
        try t.git("add", "data.csv"); try t.git("commit", "-qm", "data", "--no-verify")
        let r = try expt.run(["sync", "e1"], in: t.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: t.path + "/.worktrees/e1/data.csv"))
        XCTAssertEqual(try t.git("log", "-1", "--format=%P", "e1").split(separator: " ").count, 2)
        XCTAssertEqual(try t.git("status", "--porcelain", in: t.path + "/.worktrees/e1"), "")
    }

    func testMergeConflictChangesNothingAndExits3() throws {
        let t = try initialized()
        XCTAssertEqual(try expt.run(["new", "e1"], in: t.path).status, 0)
        try t.write("README.md", "theirs\n", in: t.path + "/.worktrees/e1")
        XCTAssertEqual(try expt.run(["checkpoint", "e1", "-m", "theirs"], in: t.path).status, 0)
        try t.write("README.md", "ours\n")
        try t.git("commit", "-qam", "ours", "--no-verify")
        let before = try t.git("rev-parse", "main")
        let r = try expt.run(["merge", "e1", "--json"], in: t.path)
        XCTAssertEqual(r.status, 3)
        XCTAssertTrue(r.stderr.contains("README.md") && r.stderr.contains("nothing was changed"), r.stderr)
        XCTAssertEqual((try r.json() as? [String: [String: Any]])?["error"]?["kind"] as? String, "conflict")
        XCTAssertEqual(try t.git("rev-parse", "main"), before)
        XCTAssertEqual(try t.git("status", "--porcelain"), "")
    }

    func testCleanRefusesDirtyWorktreeUnlessForcedAndDryRunRemovesNothing() throws {
        let t = try initialized()
        XCTAssertEqual(try expt.run(["new", "e1"], in: t.path).status, 0)
        let wt = t.path + "/.worktrees/e1"
        try t.write("scratch.txt", "unsaved\n", in: wt)
        let refused = try expt.run(["clean", "e1"], in: t.path)
        XCTAssertEqual(refused.status, 3)
        XCTAssertTrue(refused.stderr.contains("scratch.txt") && refused.stderr.contains("--force"), refused.stderr)
        let dry = try expt.run(["clean", "e1", "--dry-run", "--force"], in: t.path)
        XCTAssertEqual(dry.status, 0)
        XCTAssertTrue(dry.stdout.contains("would remove"), dry.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: wt + "/scratch.txt"))
        XCTAssertEqual(try expt.run(["clean", "e1", "--force"], in: t.path).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: wt))
    }
}
