import XCTest
import ExptTestSupport

/// The hooks `expt init` installs, run by real `git commit`, with expt on PATH.
final class DocHookEndToEndTests: XCTestCase {
    var expt: ExptBinary!
    var t: TempRepo!
    var wt: String { t.path + "/.worktrees/e1" }

    override func setUpWithError() throws {
        expt = try ExptBinary()
        t = try TempRepo()
        XCTAssertEqual(try expt.run(["init"], in: t.path).status, 0)
        XCTAssertEqual(try expt.run(["new", "e1"], in: t.path).status, 0)
    }

    /// `git commit` in the worktree with the built expt first on PATH.
    func commit(_ args: String...) throws -> (status: Int32, stderr: String) {
        let dir = (expt.path as NSString).deletingLastPathComponent
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["-C", wt, "-c", "user.name=T", "-c", "user.email=t@e.x", "commit", "-q"] + args
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = dir + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    let entry = "\n### Fix 1 — 2026-11-24 — oom_host\n- Failed run: r1 (job 42)\n- Diagnosis: oom_host\n- Change: profile highmem\n"

    func appendToDoc(_ text: String) throws {
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: wt + "/docs/e1.md"))
        h.seekToEndOfFile(); h.write(Data(text.utf8)); try h.close()
    }

    func testHookAcceptsAppendedEntryAndRefusesEditedOrDeletedOne() throws {
        try appendToDoc(entry)
        XCTAssertEqual(try commit("-am", "fix 1\n\nExpt-Fix: highmem").status, 0)
        let doc = wt + "/docs/e1.md"
        let text = try String(contentsOfFile: doc, encoding: .utf8)
        try text.replacingOccurrences(of: "profile highmem", with: "profile lowmem").write(toFile: doc, atomically: true, encoding: .utf8)
        let edited = try commit("-am", "rewrite history")
        XCTAssertNotEqual(edited.status, 0)
        XCTAssertTrue(edited.stderr.contains("Fixes entry 1 was edited"), edited.stderr)
        try text.replacingOccurrences(of: entry, with: "\n").write(toFile: doc, atomically: true, encoding: .utf8)
        let deleted = try commit("-am", "drop it")
        XCTAssertNotEqual(deleted.status, 0)
        XCTAssertTrue(deleted.stderr.contains("was deleted"), deleted.stderr)
        XCTAssertEqual(try t.git("log", "--format=%s", "-1", "e1"), "fix 1\n")
    }

    func testFixTrailerWithoutEntryAndMissingDocAreRefused() throws {
        try t.write("x.txt", "1\n", in: wt)
        try t.git("add", "x.txt", in: wt)
        let noEntry = try commit("-m", "sneaky\n\nExpt-Fix: batch 32 to 24")
        XCTAssertNotEqual(noEntry.status, 0)
        XCTAssertTrue(noEntry.stderr.contains("gains no Fixes entry"), noEntry.stderr)
        try t.git("rm", "-q", "docs/e1.md", in: wt)
        let missing = try commit("-m", "remove doc")
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("missing from this commit"), missing.stderr)
    }

    func testDocCheckByHandFindsEditInHistoryAndJSONListsProblems() throws {
        try appendToDoc(entry)
        XCTAssertEqual(try commit("-am", "fix 1").status, 0)
        let doc = wt + "/docs/e1.md"
        let text = try String(contentsOfFile: doc, encoding: .utf8)
        try text.replacingOccurrences(of: "job 42", with: "job 43").write(toFile: doc, atomically: true, encoding: .utf8)
        XCTAssertEqual(try commit("-am", "bypass", "--no-verify").status, 0)
        let r = try expt.run(["doc", "check", "e1", "--json"], in: t.path)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stdout.contains("Fixes entry 1 was edited"), r.stdout)
        XCTAssertTrue(r.stderr.contains("bypass"), r.stderr)
        XCTAssertEqual(try expt.run(["doc", "check", "main"], in: t.path).status, 0)
    }
}
