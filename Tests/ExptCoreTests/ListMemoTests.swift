import XCTest
import ExptCore
import ExptTestSupport

/// `expt list` remembers what it read from objects by the ids it read them for (ListMemo): a
/// remembered row must never outlive a moved head or base, and the memo file is derived data
/// that may be missing, broken or unwritable without changing a listing.
final class ListMemoTests: XCTestCase {
    func setUpExperiments() throws -> (TempRepo, Workspace) {
        let t = try TempRepo()
        let ws = try Workspace(at: t.path)
        _ = try RepoSetup.initialize(ws, commit: true)
        let e = Experiments(ws)
        _ = try e.create("exp/a", from: nil)
        _ = try e.create("exp/b", from: nil)
        return (t, ws)
    }

    struct Seen: Equatable { var branch: String; var head: String; var ahead: Int?; var behind: Int?; var doc: Bool; var date: Date }
    func seen(_ ws: Workspace) throws -> [Seen] {
        try Experiments(ws).list().map { Seen(branch: $0.branch, head: $0.head, ahead: $0.ahead, behind: $0.behind, doc: $0.doc, date: $0.lastCommitDate) }
    }
    func memoPath(_ ws: Workspace) -> String { ws.stateDir + "/list-memo" }

    func testASecondListingReadsTheMemoAndAgreesWithTheFirst() throws {
        let (t, ws) = try setUpExperiments()
        defer { withExtendedLifetime(t) {} }
        let first = try seen(ws)
        XCTAssertEqual(first.map(\.branch), ["exp/a", "exp/b"])
        XCTAssertEqual(first.map(\.ahead), [1, 1])
        XCTAssertEqual(first.map(\.doc), [true, true])
        let memo = try String(contentsOfFile: memoPath(ws), encoding: .utf8)
        XCTAssertTrue(memo.hasPrefix("expt-list-memo 1\n"), memo)
        XCTAssertEqual(memo.split(separator: "\n").count, 3, memo)
        // Rows read back from the file, not recomputed: a doctored row shows through.
        try memo.replacingOccurrences(of: " 1 0 ", with: " 7 0 ").write(toFile: memoPath(ws), atomically: true, encoding: .utf8)
        XCTAssertEqual(try seen(ws).map(\.ahead), [7, 7])
        try memo.write(toFile: memoPath(ws), atomically: true, encoding: .utf8)
        let inode = try FileManager.default.attributesOfItem(atPath: memoPath(ws))[.systemFileNumber] as? Int
        XCTAssertEqual(try seen(ws), first)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: memoPath(ws))[.systemFileNumber] as? Int, inode,
                       "a listing that found every row does not rewrite the file")
    }

    func testAMovedHeadOrBaseIsRecomputed() throws {
        let (t, ws) = try setUpExperiments()
        defer { withExtendedLifetime(t) {} }
        _ = try seen(ws)
        // exp/a gains a commit that removes its doc; main moves on by one.
        let wt = ws.worktreePath(for: "exp/a")
        _ = try t.git("rm", "-q", "docs/exp/a.md", in: wt)
        _ = try t.git("commit", "-q", "--no-verify", "-m", "drop the doc", in: wt)
        try t.write("NEWS", "moved on\n")
        _ = try t.git("add", "NEWS")
        _ = try t.git("commit", "-q", "--no-verify", "-m", "main moves on")
        let rows = try seen(ws)
        XCTAssertEqual(rows[0].head, try t.git("rev-parse", "exp/a").trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(rows.map(\.ahead), [2, 1])
        XCTAssertEqual(rows.map(\.behind), [1, 1])
        XCTAssertEqual(rows.map(\.doc), [false, true])
        // Cross-checked with git.
        XCTAssertEqual(try t.git("rev-list", "--left-right", "--count", "exp/a...main"), "2\t1\n")
        let memo = try String(contentsOfFile: memoPath(ws), encoding: .utf8)
        XCTAssertEqual(memo.split(separator: "\n").count, 3, "the rows of the old heads were dropped: \(memo)")
    }

    func testABrokenMemoOrAnUnwritableOneChangesNothing() throws {
        let (t, ws) = try setUpExperiments()
        defer { withExtendedLifetime(t) {} }
        let truth = try seen(ws)
        for broken in ["", "garbage\n", "expt-list-memo 1\nnot a row\n\u{0}\u{1}\n", "expt-list-memo 2\n"] {
            try broken.write(toFile: memoPath(ws), atomically: true, encoding: .utf8)
            XCTAssertEqual(try seen(ws), truth, "memo: \(broken.debugDescription)")
        }
        // A row whose ids are not ids is skipped, not trusted.
        let good = try String(contentsOfFile: memoPath(ws), encoding: .utf8)
        try good.replacingOccurrences(of: truth[0].head, with: String(repeating: "z", count: 40))
            .write(toFile: memoPath(ws), atomically: true, encoding: .utf8)
        XCTAssertEqual(try seen(ws), truth)
        // No memo can be written (the state directory is read-only): the listing is the same.
        try FileManager.default.removeItem(atPath: memoPath(ws))
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: ws.stateDir)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: ws.stateDir) }
        XCTAssertEqual(try seen(ws), truth)
        if getuid() != 0 { XCTAssertFalse(FileManager.default.fileExists(atPath: memoPath(ws))) }
    }
}
