import Foundation
import XCTest
import ExptTestSupport
@testable import GitKit

/// The parallel checkout behind `expt new` (issue 16), cross-checked with the git CLI: the
/// files, modes and links git would write, an index whose stat data matches them (so git sees
/// a clean tree without re-hashing), and trees that would write outside the worktree refused.
final class ParallelCheckoutTests: XCTestCase {
    func testTheWorktreeIsWhatGitChecksOutAndItsIndexIsStatClean() throws {
        var files = ["README.md": "# test\n", "empty.txt": ""]
        for d in 0..<12 { for f in 0..<100 { files["src/d\(d)/sub/f\(f).py"] = "print(\(d * 100 + f))\n" } }
        let t = try TempRepo(files: files)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: t.path + "/src/d0/sub/f0.py")
        _ = FileManager.default.createFile(atPath: t.path + "/target.txt", contents: Data("t\n".utf8))
        try FileManager.default.createSymbolicLink(atPath: t.path + "/link", withDestinationPath: "target.txt")
        try t.git("add", "-A")
        // A submodule entry (a gitlink) is an empty directory until initialised.
        try t.git("update-index", "--add", "--cacheinfo", "160000,\(try t.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)),vendor/lib")
        try t.git("commit", "-qm", "tree", "--no-verify")
        try t.repo.createBranch("exp/p", at: "main")
        let path = t.path + "/.worktrees/exp/p"
        XCTAssertEqual(try t.repo.addWorktree(branch: "exp/p", at: path).branch, "exp/p")

        // Stat-clean: diff-files compares the index's stat data with the files, without hashing.
        let dirty = try t.git("diff-files", "--name-only", in: path)
        XCTAssertEqual(dirty, "", "stat data differs for: \(dirty.prefix(300))")
        XCTAssertEqual(try t.git("status", "--porcelain", in: path), "")
        XCTAssertEqual(try t.git("ls-files", "-s", in: path), try t.git("ls-files", "-s"), "the same index entries as main's")
        XCTAssertEqual(try String(contentsOfFile: path + "/src/d3/sub/f7.py", encoding: .utf8), "print(307)\n")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: path + "/link"), "target.txt")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: path + "/src/d0/sub/f0.py"))
        XCTAssertFalse(FileManager.default.isExecutableFile(atPath: path + "/src/d0/sub/f1.py"))
        var isDir: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: path + "/vendor/lib", isDirectory: &isDir) && isDir.boolValue)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path + "/vendor/lib"), [])
    }

    func testATreeWithAPathOutsideTheWorktreeIsRefusedBeforeAnythingIsWritten() throws {
        let t = try TempRepo()
        let blob = try t.git("hash-object", "-w", "--stdin", in: t.path).trimmingCharacters(in: .whitespacesAndNewlines)
        for bad in [".git", ".GIT", ".."] {
            // A tree git's own tools refuse to make, written byte by byte.
            var raw = Data("100644 \(bad)\0".utf8)
            raw.append(contentsOf: stride(from: 0, to: 40, by: 2).map { UInt8(blob[blob.index(blob.startIndex, offsetBy: $0)...].prefix(2), radix: 16)! })
            let treeFile = t.path + "/../tree-\(UUID().uuidString)"
            try raw.write(to: URL(fileURLWithPath: treeFile))
            let tree = try t.git("hash-object", "-t", "tree", "--literally", "-w", treeFile).trimmingCharacters(in: .whitespacesAndNewlines)
            let commit = try t.git("commit-tree", tree, "-p", "HEAD", "-m", "evil").trimmingCharacters(in: .whitespacesAndNewlines)
            let branch = "evil\(bad.count)\(bad == ".GIT" ? "u" : "")"
            try t.git("branch", branch, commit)
            let path = t.path + "/.worktrees/" + branch
            XCTAssertThrowsError(try t.repo.addWorktree(branch: branch, at: path)) { e in
                XCTAssertTrue("\(e)".contains("cannot be checked out safely"), "\(e)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: path + "/" + bad + "/HEAD.evil"))
            let gitDir = try Repository.open(at: path).gitDir
            XCTAssertFalse(FileManager.default.fileExists(atPath: gitDir + "/index"), "no index: the worktree reads as interrupted")
        }
    }
}
