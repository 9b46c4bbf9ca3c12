import Foundation
import XCTest
import ExptModel
import ExptTestSupport
@testable import ExptCLI

/// `expt checkpoint -m` commits its message redacted, as fix commits are: fix-and-relaunch
/// pushes the branch later, and with it every checkpoint message.
final class CheckpointRedactionTests: XCTestCase {
    func testCheckpointMessagesAreRedactedBeforeTheyAreCommitted() throws {
        let h = try CLIHarness()
        try h.initialize()
        try h.experiment("exp/p")
        let mark = Redactor.mark
        // Test secrets, assembled at run time so no scanner mistakes this file for a leak.
        let secret = String(String(repeating: "A1b2C3d4E5", count: 4).prefix(36))
        let hex40 = String(String(repeating: "0123456789abcdef", count: 3).prefix(40))
        let cases: [(message: String, committed: String, secret: String)] = [
            ("debug with ghp_\(secret)", "debug with ghp_\(mark)", secret),
            ("try lr 3e-4\n\nWANDB_API_KEY=\(hex40) DB_PASS=hunter2hunter2",
             "try lr 3e-4\n\nWANDB_API_KEY=\(mark) DB_PASS=\(mark)", hex40),
            ("retry: 13 password: correct horse battery staple", "retry: 13 password: \(mark)", "horse battery"),
        ]
        for (i, c) in cases.enumerated() {
            try h.repo.write("notes-\(i).txt", "note \(i)\n", in: h.worktree("exp/p"))
            let r = h.run(["checkpoint", "exp/p", "-m", c.message])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("committed"), r.stdout)
            let body = try h.repo.git("log", "-1", "--format=%B", in: h.worktree("exp/p"))
            XCTAssertEqual(body.trimmingCharacters(in: .whitespacesAndNewlines), c.committed)
            XCTAssertFalse(body.contains(c.secret), "the commit message holds the secret: \(body)")
            XCTAssertFalse(try h.repo.git("log", "-1", "--format=%s", in: h.worktree("exp/p")).contains(c.secret))
        }
    }
}
