import Foundation
import XCTest
import ExptModel
import ExptTestSupport
@testable import ExptCLI
@testable import ExptCore
import GitKit

/// Issue 10, R5: expt never commits an untracked file that looks like a secret on the user's
/// behalf, by name or by content, in `checkpoint` or in fix-and-relaunch (which pushes).
final class SecretFilesTests: XCTestCase {
    // Assembled at run time so no scanner mistakes this file for a leak.
    static let token = "hf_" + String(String(repeating: "aBcDeFgHiJ", count: 4).prefix(34))

    func testCheckpointRefusesSecretLookingUntrackedFilesAndCommitsNothing() throws {
        let h = try CLIHarness()
        try h.initialize()
        try h.experiment("exp/s")
        let wt = h.worktree("exp/s")
        let cases: [(file: String, contents: String, why: String)] = [
            (".env", "HF_TOKEN=x\n", "its name (.env)"),
            ("config/.env.local", "A=1\n", "environment file"),
            ("keys/deploy.pem", "not really a key\n", "(.pem)"),
            ("secrets/id_ed25519", "k\n", "(id_ed25519)"),
            ("notes.txt", "lr 3e-4\nexport HF_TOKEN=\(Self.token)\n", "line 2 looks like a secret"),
        ]
        for c in cases {
            try h.repo.write(c.file, c.contents, in: wt)
            try h.repo.write("train.txt", "change for \(c.file)\n", in: wt)
            let head = try h.repo.git("rev-parse", "HEAD", in: wt)
            for args in [["checkpoint", "exp/s", "-m", "wip"], ["checkpoint", "exp/s", "-m", "wip", "--dry-run"]] {
                let r = h.run(args)
                XCTAssertEqual(r.status, 2, "\(c.file) \(args): \(r.stdout) \(r.stderr)")
                XCTAssertTrue(r.stderr.contains("refusing to commit the untracked file \(c.file)") && r.stderr.contains(c.why)
                              && r.stderr.contains(".gitignore"), r.stderr)
            }
            XCTAssertEqual(try h.repo.git("rev-parse", "HEAD", in: wt), head, "nothing committed for \(c.file)")
            XCTAssertFalse(try r2(h, wt).contains(Self.token))
            try FileManager.default.removeItem(atPath: wt + "/" + c.file)
        }
        // Shared templates, ignored secrets and tracked files are the user's business.
        try h.repo.write(".env.example", "HF_TOKEN=\n", in: wt)
        try h.repo.write(".gitignore", ".env\n", in: wt)
        try h.repo.write(".env", "HF_TOKEN=\(Self.token)\n", in: wt)
        let ok = h.run(["checkpoint", "exp/s", "-m", "templates only"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let files = try h.repo.git("show", "--name-only", "--format=", "HEAD", in: wt)
        XCTAssertTrue(files.contains(".env.example") && !files.split(separator: "\n").contains(".env"), files)
    }

    func r2(_ h: CLIHarness, _ wt: String) throws -> String { try h.repo.git("log", "-p", "-3", in: wt) }

    func testFixAndRelaunchRefusesBeforeWritingAnything() throws {
        let h = try FixCommandTests.makeHarness()
        let wt = h.worktree("exp/oom")
        try h.repo.write(".env", "HF_TOKEN=\(Self.token)\n", in: wt)
        let before = try h.repo.git("rev-parse", "exp/oom")
        let doc = try String(contentsOfFile: wt + "/docs/exp/oom.md", encoding: .utf8)
        let r = h.run(["fix-and-relaunch", "exp/oom", "--yes"])
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("refusing to commit the untracked file .env"), r.stderr)
        XCTAssertEqual(try h.repo.git("rev-parse", "exp/oom"), before, "no commit")
        XCTAssertEqual(try String(contentsOfFile: wt + "/docs/exp/oom.md", encoding: .utf8), doc, "no doc entry")
        XCTAssertTrue(h.host.calls.isEmpty, "no comment: \(h.host.calls)")
        XCTAssertEqual(h.backend.submitted.count, 1, "no relaunch")
    }

    /// What a push would publish is scanned first: a committed file with a token stops the
    /// fix before its push (and so before the comment and the relaunch), naming file and line.
    func testAPushThatWouldPublishASecretIsRefused() throws {
        let h = try FixCommandTests.makeHarness()
        let wt = h.worktree("exp/oom")
        try h.repo.write("notes/run.txt", "lr 3e-4\nHF_TOKEN=\(Self.token)\n", in: wt)
        try h.repo.git("add", "notes/run.txt", in: wt)
        try h.repo.git("commit", "-qm", "my notes", "--no-verify", in: wt)
        let r = h.run(["fix-and-relaunch", "exp/oom", "--yes"])
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("refusing to push exp/oom: notes/run.txt:2 in commit ")
                      && r.stderr.contains("EXPT_PUSH_ALLOW_SECRETS=1"), r.stderr)
        let bare = h.repo.root.appendingPathComponent("origin.git").path
        XCTAssertThrowsError(try Git.run(["rev-parse", "--verify", "refs/heads/exp/oom"], in: bare), "nothing pushed")
        XCTAssertTrue(h.host.calls.isEmpty, "no comment: \(h.host.calls)")
        XCTAssertEqual(h.backend.submitted.count, 1, "no relaunch")
        // The scan itself: a commit message counts too, and the override lets a person push.
        let repo = try Repository.open(at: wt)
        XCTAssertThrowsError(try PushScan.refuseSecrets(repo, branch: "exp/oom", remote: "origin", base: "main", environment: [:]))
        XCTAssertNoThrow(try PushScan.refuseSecrets(repo, branch: "exp/oom", remote: "origin", base: "main",
                                                    environment: [PushScan.overrideVariable: "1"]))
        try h.repo.git("rm", "-q", "notes/run.txt", in: wt)
        try h.repo.git("commit", "-qm", "token HF_TOKEN=\(Self.token) removed", "--no-verify", in: wt)
        XCTAssertThrowsError(try PushScan.refuseSecrets(repo, branch: "exp/oom", remote: "origin", base: "main", environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("the message of commit"), "\(error)")
        }
        // Removed in a later commit, the file is still in the history a push publishes.
        try h.repo.git("commit", "-q", "--amend", "-m", "notes removed", "--no-verify", in: wt)
        XCTAssertThrowsError(try PushScan.refuseSecrets(repo, branch: "exp/oom", remote: "origin", base: "main", environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("notes/run.txt:2 in commit"), "\(error)")
        }
    }
}
