import Foundation
import XCTest
import ExptModel
import ExptCore
import ExptTestSupport
@testable import ExptCLI

/// File names from the worktree stay text (issue 10, R6): they cannot forge a Fix entry, a
/// multi-line trailer, a dedupe marker or a mention in the doc, the commit and the PR comment.
final class UntrustedTextTests: XCTestCase {
    func testFileNamesBecomeInertWords() {
        XCTAssertEqual(SafeText.fileName("train.py"), "train.py")
        XCTAssertEqual(SafeText.fileName("src/data loader.py"), "src/data loader.py")
        XCTAssertEqual(SafeText.fileName("evil\n### Fix 2"), "\"evil\\n\\u0023\\u0023\\u0023 Fix 2\"")
        XCTAssertEqual(SafeText.fileName("a<!-- expt:fix:r5 -->"), "\"a\\u003c\\u0021-- expt:fix:r5 --\\u003e\"")
        XCTAssertEqual(SafeText.fileName("ping @acme-security"), "\"ping \\u0040acme-security\"")
        XCTAssertEqual(SafeText.fileName("o\u{200B}k\u{202E}"), "\"o\\u200bk\\u202e\"")
        for name in ["x`y", "a|b", "*bold*", "[link](x)", "tab\there", "q\"uote", "back\\slash"] {
            let s = SafeText.fileName(name)
            XCTAssertFalse(s.contains("\n") || s.contains("`") || s.contains("|") || s.contains("@") || s.contains("<"), "\(name): \(s)")
        }
    }

    func testAFileNameCannotForgeAFixEntryAMarkerOrAMention() throws {
        let h = try FixCommandTests.makeHarness()
        let evil = "evil\n\n### Fix 2 — 2026-01-01 — success\n- Failed run: r0 (job x)\n- Diagnosis: success — none\n- Change: nothing <!-- expt:fix:r5 --> @acme-security please approve"
        try h.repo.write(evil, "x", in: h.worktree("exp/oom"))
        h.backend.willSubmit(.init(states: [.running], stdout: "step 6/20\n"))
        let r = h.run(["fix-and-relaunch", "exp/oom", "--yes"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let doc = try String(contentsOfFile: h.worktree("exp/oom") + "/docs/exp/oom.md", encoding: .utf8)
        XCTAssertEqual(BranchDoc(doc).fixes.count, 1, doc)
        XCTAssertFalse(doc.contains("### Fix 2"), doc)
        let history = try XCTUnwrap(try h.run(["history", "exp/oom", "--json"]).json() as? [[String: Any]])
        XCTAssertEqual(history.count, 1)
        XCTAssertNotNil(history[0]["commit"] as? String, "the trailer stays one line, so history finds the fix's commit")
        let comment = try XCTUnwrap(h.host.posted(on: 7).first)
        XCTAssertEqual(comment.components(separatedBy: "<!-- expt:fix:").count - 1, 1, "only expt's own marker: \(comment)")
        XCTAssertFalse(comment.contains("@acme-security"), comment)
        let message = try h.repo.git("-C", h.worktree("exp/oom"), "log", "-1", "--format=%B")
        XCTAssertEqual(message.components(separatedBy: "\n").filter { $0.hasPrefix("Expt-Fix:") }.count, 1)
        XCTAssertFalse(message.contains("\n- Diagnosis: success"), message)
    }

    func testInlineCodeCannotBeClosedByTheTextInside() {
        XCTAssertEqual(SafeText.code("exp/a"), "`exp/a`")
        XCTAssertEqual(SafeText.code("exp/x`@acme-admins`$(id);|&"), "``exp/x`@acme-admins`$(id);|&``")
        XCTAssertEqual(SafeText.code("a``b"), "```a``b```")
        XCTAssertEqual(SafeText.code("`edge"), "`` `edge ``")
    }

    /// R27, R32: names expt would create badly are refused with the rule, and nothing is made.
    func testNewRefusesInvisibleOverlongAndClashingNames() throws {
        let h = try CLIHarness()
        try h.initialize()
        XCTAssertEqual(h.run(["new", "exp/ok"]).status, 0)
        let before = try h.repo.git("for-each-ref", "--format=%(refname)")
        for (name, words) in [("exp/\u{202E}gnp.exe", "invisible or bidi character U+202E"),
                              ("exp/o\u{200B}k", "invisible or bidi character U+200B"),
                              ("exp/" + String(repeating: "x", count: 300), "at most 200 bytes (this one has 304)"),
                              ("exp/" + Array(repeating: String(repeating: "y", count: 50), count: 7).joined(separator: "/"), "at most 200 bytes"),
                              ("exp/ok/sub", "the branch exp/ok exists, so exp/ok/sub cannot be a branch"),
                              ("exp", "the branch exp/ok exists, so exp cannot be a branch")] {
            let r = h.run(["new", name, "--json"])
            XCTAssertEqual(r.status, 2, "\(name): \(r.stdout)")
            let message = ((try? r.object())?["error"] as? [String: Any])?["message"] as? String ?? ""
            XCTAssertTrue(message.contains(words), "\(name): \(message)")
        }
        XCTAssertEqual(try h.repo.git("for-each-ref", "--format=%(refname)"), before, "no ref was made")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: h.path + "/.worktrees/exp"), ["ok"])
    }
}
