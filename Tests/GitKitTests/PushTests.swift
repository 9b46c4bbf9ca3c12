import XCTest
import GitKit
import ExptTestSupport

final class PushTests: XCTestCase {
    func testPushToLocalBareRemoteAgreesWithGitAndRefusesNonFastForward() throws {
        let t = try TempRepo()
        let bare = t.root.appendingPathComponent("origin.git").path
        _ = try Git.run(["init", "-q", "--bare", bare], in: t.root.path)
        try t.git("remote", "add", "origin", bare)
        try t.repo.createBranch("exp", at: "main")
        try t.repo.push(branch: "exp")
        XCTAssertEqual(try Git.run(["rev-parse", "exp"], in: bare), try t.git("rev-parse", "exp"))
        // A rewritten local branch is not pushed over the remote one: history is never rewritten.
        try t.git("branch", "-f", "exp", "HEAD")
        try t.write("x", "1"); try t.git("add", "x"); try t.git("commit", "-qm", "x", "--no-verify")
        try t.repo.push(branch: "main")
        try Git.run(["update-ref", "refs/heads/exp", try t.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)], in: bare)
        try t.git("branch", "-f", "exp", "HEAD~1")
        XCTAssertThrowsError(try t.repo.push(branch: "exp"))
    }

    func testPushURLIsUsedAndRemoteURLIsTheConfiguredOne() throws {
        let t = try TempRepo()
        let bare = t.root.appendingPathComponent("push.git").path
        _ = try Git.run(["init", "-q", "--bare", bare], in: t.root.path)
        try t.git("remote", "add", "origin", "https://github.com/o/r.git")
        try t.git("config", "remote.origin.pushurl", bare)
        XCTAssertEqual(try t.repo.remoteURL("origin"), "https://github.com/o/r.git")
        try t.repo.push(branch: "main")
        XCTAssertEqual(try Git.run(["rev-parse", "main"], in: bare), try t.git("rev-parse", "main"))
    }

    func testMissingRemoteIsNil() throws {
        XCTAssertNil(try TempRepo().repo.remoteURL("origin"))
    }
}
