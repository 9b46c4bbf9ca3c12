import Foundation
import XCTest
import ExptTestSupport
@testable import GitKit

/// The parallel worktree scan behind `commitAll` (issue 16) must find exactly what libgit2's
/// status finds, and a commit made from it must leave git seeing a clean, stat-clean tree.
final class WorktreeScanTests: XCTestCase {
    func repo() throws -> TempRepo {
        var files = [".gitignore": "*.log\nbuild/\n", "README.md": "# r\n", "run.sh": "echo hi\n"]
        for d in 0..<6 { for f in 0..<20 { files["src/m\(d)/f\(f).py"] = "x = \(d * 20 + f)\n" } }
        let t = try TempRepo(files: files)
        try "secret.txt\n".write(toFile: t.path + "/.git/info/exclude", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: t.path + "/link", withDestinationPath: "README.md")
        try t.git("add", "-A"); try t.git("commit", "-qm", "more", "--no-verify")
        return t
    }

    /// What the scan says, in the terms of libgit2's status (untracked, modified, deleted).
    func compare(_ t: TempRepo, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try t.reopen()
        let scanned = try XCTUnwrap(try r.scanWorktree(), "the scan applies", file: file, line: line)
        // Nested repositories (`dir/`) are never staged; the scan leaves them out.
        let expected = try r.status(includeUntracked: true, workdirOnly: true).filter { !$0.path.hasSuffix("/") }
            .map { "\($0.change.rawValue) \($0.path)" }.sorted()
        XCTAssertEqual(scanned.entries.map { "\($0.change.rawValue) \($0.path)" }.sorted(), expected, file: file, line: line)
    }

    func write(_ t: TempRepo, _ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: t.path + "/" + path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: false, encoding: .utf8)
    }

    func testEveryKindOfChangeIsFoundAsLibgit2FindsIt() throws {
        let t = try repo()
        try compare(t)                                                          // clean
        try write(t, "src/m0/f0.py", "x = 99\n")                                  // same size, same second: racy
        try write(t, "src/m1/f3.py", "changed and longer\n")
        try FileManager.default.removeItem(atPath: t.path + "/src/m2/f4.py")       // deleted
        try FileManager.default.removeItem(atPath: t.path + "/src/m5")             // a whole directory
        try write(t, "src/m0/new.py", "new\n")                                    // untracked in a tracked dir
        try write(t, "notes/a/b.md", "b\n")                                       // untracked in new dirs
        try write(t, "notes/a/c.log", "ignored\n")                                // ignored inside it
        try write(t, "build/out.bin", "ignored dir\n")
        try write(t, "secret.txt", "excluded\n")
        try write(t, "debug.log", "ignored\n")
        try FileManager.default.createDirectory(atPath: t.path + "/vendor/dep", withIntermediateDirectories: true)
        _ = try Git.run(["init", "-q"], in: t.path + "/vendor/dep")             // a nested repository
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: t.path + "/run.sh")
        try FileManager.default.removeItem(atPath: t.path + "/link")
        try FileManager.default.createSymbolicLink(atPath: t.path + "/link", withDestinationPath: "run.sh")
        try compare(t)
        // A touch changes stat data, not content: not a change, and refreshed in the index.
        let t2 = try repo()
        sleep(1)
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: t2.path + "/src/m3/f1.py")
        try compare(t2)
    }

    func testRandomEditsAgreeWithLibgit2() throws {
        let t = try repo()
        var generator = SystemRandomNumberGenerator()
        for round in 0..<25 {
            for _ in 0..<5 {
                let d = Int.random(in: 0..<6, using: &generator), f = Int.random(in: 0..<22, using: &generator)
                let path = "src/m\(d)/f\(f).py"
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: try write(t, path, "x = \(round)\n")
                case 1: try? FileManager.default.removeItem(atPath: t.path + "/" + path)
                case 2: try write(t, "src/m\(d)/tmp\(f).log", "log\n")
                default: try write(t, "extra/r\(round)/n\(f).txt", "\(round)\n")
                }
            }
            try compare(t)
            if round % 5 == 4 { try t.git("add", "-A"); try t.git("commit", "-qm", "round \(round)", "--no-verify") }
        }
    }

    func testACommitFromTheScanLeavesGitSeeingACleanStatCleanTree() throws {
        let t = try repo()
        try write(t, "src/m1/f1.py", "edited\n")
        try write(t, "src/m4/added.py", "added\n")
        try FileManager.default.removeItem(atPath: t.path + "/src/m2/f2.py")
        let r = try t.reopen()
        func count(_ key: String) throws -> String { try t.git("count-objects", "-v").split(separator: "\n").first { $0.hasPrefix(key + ":") }.map(String.init) ?? "" }
        let looseBefore = try count("count")
        guard case .committed(let id, let n) = try r.commitAll(message: "scan\n") else { return XCTFail("nothing committed") }
        XCTAssertEqual(n, 3)
        // The new objects (2 blobs; the trees of /, src, m1, m2, m4; the commit) went into one pack, read-only, with
        // no temporary file left behind, and nothing loose; git verifies the pack and its index.
        XCTAssertEqual(try count("count"), looseBefore)
        XCTAssertEqual(try count("in-pack"), "in-pack: 8")
        let packDir = t.path + "/.git/objects/pack"
        let files = try FileManager.default.contentsOfDirectory(atPath: packDir).sorted()
        XCTAssertEqual(files.count, 2, "\(files)")
        XCTAssertTrue(files[0].hasPrefix("pack-") && files[0].hasSuffix(".idx") && files[1] == files[0].dropLast(4) + ".pack", "\(files)")
        for file in files {
            let attributes = try FileManager.default.attributesOfItem(atPath: packDir + "/" + file)
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o444)
        }
        let verified = try t.git("verify-pack", "-v", packDir + "/" + files[1])
        XCTAssertTrue(verified.contains(id.hex + " commit"), verified)
        XCTAssertTrue(verified.contains("ok"), verified)
        XCTAssertEqual(verified.split(separator: "\n").filter { $0.contains(" blob ") || $0.contains(" tree ") || $0.contains(" commit ") }.count, 8)
        // The pack's name is its checksum (its last 20 bytes), as git names its own.
        let pack = try XCTUnwrap(FileManager.default.contents(atPath: packDir + "/" + files[1]))
        XCTAssertEqual("pack-" + pack.suffix(20).map { String(format: "%02x", $0) }.joined() + ".pack", files[1])
        XCTAssertEqual(try t.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines), id.hex)
        _ = try t.git("fsck", "--strict", "--no-dangling")
        let reflog = try t.git("reflog", "-1", "--format=%gs")
        XCTAssertTrue(reflog.hasPrefix("commit: scan"), reflog)
        XCTAssertEqual(try t.git("status", "--porcelain"), "")
        XCTAssertEqual(try t.git("diff-files", "--name-only"), "", "the index's stat data matches the files")
        XCTAssertEqual(try t.git("show", "--name-status", "--format=", "HEAD").split(separator: "\n").sorted(),
                       ["A\tsrc/m4/added.py", "D\tsrc/m2/f2.py", "M\tsrc/m1/f1.py"])
    }

    func testWhatTheScanDoesNotModelGoesToLibgit2() throws {
        let t = try repo()
        try t.git("config", "core.filemode", "false")
        XCTAssertNil(try t.reopen().scanWorktree())
        try t.git("config", "core.filemode", "true")
        try write(t, ".gitattributes", "*.py text\n")
        try t.git("add", "-A"); try t.git("commit", "-qm", "attributes", "--no-verify")
        XCTAssertNil(try t.reopen().scanWorktree(), "attributes can change content: libgit2 applies them")
        // A file that became a directory is a type change, which libgit2 handles.
        try FileManager.default.removeItem(atPath: t.path + "/README.md")
        try write(t, "README.md/inner.txt", "now a dir\n")
        let after = try t.reopen()
        guard case .committed = try after.commitAll(message: "typechange\n") else { return XCTFail("nothing committed") }
        XCTAssertEqual(try t.git("status", "--porcelain"), "")
    }
}
