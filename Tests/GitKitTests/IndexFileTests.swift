import Foundation
import XCTest
import ExptTestSupport
@testable import GitKit

/// expt reads and writes the common index itself (IndexFile, issue 16). What it writes must be
/// what git reads as the same index (checksum, entries, stat data), anything it does not model
/// must go to libgit2 untouched, and a lock held by someone else must stop it.
final class IndexFileTests: XCTestCase {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func testSHA1MatchesTheStandardsVectorsAndSha1sum() throws {
        XCTAssertEqual(hex(try SHA1.digest([])), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(hex(try SHA1.digest(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(hex(try SHA1.digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(hex(try SHA1.digest([UInt8](repeating: 0x61, count: 1_000_000))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        // Every padding case around a block boundary, against the sha1sum CLI.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sha1-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SystemRandomNumberGenerator()
        for n in [1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000] {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let file = dir.appendingPathComponent("\(n)")
            try Data(bytes).write(to: file)
            let p = Process(), pipe = Pipe()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/sha1sum")
            p.arguments = [file.path]
            p.standardOutput = pipe
            try p.run()
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(hex(try SHA1.digest(bytes)), String(out.prefix(40)), "\(n) bytes")
        }
    }

    func repo() throws -> TempRepo {
        var files = ["README.md": "# r\n", "run.sh": "echo hi\n"]
        for d in 0..<4 { for f in 0..<12 { files["src/m\(d)/f\(f).py"] = "x = \(d * 12 + f)\n" } }
        files["src/a-long-directory-name/" + String(repeating: "n", count: 120) + ".txt"] = "long\n"
        let t = try TempRepo(files: files)
        // A commit by git, so the index is git's own, with a cache tree.
        try t.write("git.txt", "by git\n")
        _ = try t.git("add", "-A"); _ = try t.git("commit", "-qm", "more", "--no-verify")
        return t
    }

    func index(_ t: TempRepo) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: t.path + "/.git/index")) }

    func testACommitThroughItsIndexLeavesTheIndexGitWouldHave() throws {
        let t = try repo()
        XCTAssertNotNil(try index(t).range(of: Data("TREE".utf8)), "git wrote a cache tree")
        XCTAssertNotNil(IndexFile.load(t.path + "/.git/index"), "git's index is one it models")
        try t.write("src/m0/f0.py", "x = 99\n")
        try t.write("src/m1/new.py", "new\n")
        try t.write("src/m9/deeper/new.py", "new dir\n")
        try t.write("a.txt", "sorts before README\n")
        try FileManager.default.removeItem(atPath: t.path + "/src/m2/f3.py")
        let r = try t.reopen()
        guard case .committed(let id, let changed) = try r.commitAll(message: "c\n") else { return XCTFail("nothing committed") }
        XCTAssertEqual(changed, 5)
        XCTAssertNil(try index(t).range(of: Data("TREE".utf8)), "expt wrote this index (and dropped the cache tree)")
        // git reads it: checksum (fsck verifies it), entries, and stat data that needs no refresh.
        XCTAssertNoThrow(try t.git("fsck", "--no-progress"))
        XCTAssertEqual(try t.git("status", "--porcelain"), "")
        XCTAssertEqual(try t.git("diff-files", "--name-only"), "", "stat data matches the files")
        XCTAssertEqual(try t.git("write-tree"), try t.git("rev-parse", "\(id.hex)^{tree}"))
        XCTAssertEqual(try t.git("ls-files", "--stage"), try t.git("ls-tree", "-r", "--format=%(objectmode) %(objectname) 0\t%(path)", "HEAD"))
        // libgit2 reads it too (it does verify the checksum) and finds it clean.
        XCTAssertEqual(try t.reopen().status(includeUntracked: true), [])
        // And a second commit reads what the first wrote.
        try t.write("src/m3/f1.py", "again\n")
        guard case .committed(_, 1) = try t.reopen().commitAll(message: "d\n") else { return XCTFail("second commit") }
        XCTAssertEqual(try t.git("status", "--porcelain"), "")
        XCTAssertEqual(try t.git("show", "--name-status", "--format=", "HEAD"), "M\tsrc/m3/f1.py\n")
    }

    func testAnIndexItDoesNotModelGoesToLibgit2() throws {
        // Intent-to-add (a version 3 index), version 4 (compressed paths), a split index and an
        // untracked cache: each is read and written by libgit2, and the commit is still right.
        let setups: [(String, (TempRepo) throws -> Void)] = [
            ("intent-to-add", { t in try t.write("later.txt", "x\n"); _ = try t.git("add", "-N", "later.txt") }),
            ("version 4", { t in _ = try t.git("update-index", "--index-version", "4") }),
            ("untracked cache", { t in _ = try t.git("update-index", "--untracked-cache"); _ = try t.git("status", "--porcelain") }),
        ]
        for (name, setup) in setups {
            let t = try repo()
            try setup(t)
            XCTAssertNil(IndexFile.load(t.path + "/.git/index"), name)
            try t.write("src/m0/f0.py", "x = 99\n")
            _ = try t.reopen().commitAll(message: "c\n")
            XCTAssertTrue(try t.git("show", "--name-only", "--format=", "HEAD").contains("src/m0/f0.py"), name)
            XCTAssertNoThrow(try t.git("fsck", "--no-progress"), name)
        }
        for bad in [Data(), Data("DIRC".utf8), Data(repeating: 0, count: 64)] {
            let t = try TempRepo()
            try bad.write(to: URL(fileURLWithPath: t.path + "/.git/index"))
            XCTAssertNil(IndexFile.load(t.path + "/.git/index"), "\(bad.count) bytes")
        }
    }

    func testALockHeldByAnotherProcessStopsTheCommitAndChangesNothing() throws {
        let t = try repo()
        try t.write("src/m0/f0.py", "x = 99\n")
        let head = try t.git("rev-parse", "HEAD"), before = try index(t)
        XCTAssertTrue(FileManager.default.createFile(atPath: t.path + "/.git/index.lock", contents: Data()))
        XCTAssertThrowsError(try t.reopen().commitAll(message: "c\n")) { error in
            XCTAssertTrue("\(error)".contains("index.lock exists"), "\(error)")
        }
        XCTAssertEqual(try t.git("rev-parse", "HEAD"), head, "no commit")
        XCTAssertEqual(try index(t), before, "the index as it was")
        XCTAssertTrue(FileManager.default.fileExists(atPath: t.path + "/.git/index.lock"), "someone else's lock is left alone")
        try FileManager.default.removeItem(atPath: t.path + "/.git/index.lock")
        guard case .committed = try t.reopen().commitAll(message: "c\n") else { return XCTFail("commit after the lock went") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.path + "/.git/index.lock"), "its own lock is gone")
    }
}
