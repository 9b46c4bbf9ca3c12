import Foundation
import XCTest
import ExptTestSupport
@testable import GitKit

/// A commit's new objects leave as one pack (packwriter.h, issue 16): git reads and verifies
/// it, HEAD moves only once it is written, and the packs never pile up past git gc's limit.
final class ObjectBatchTests: XCTestCase {
    func repo() throws -> TempRepo {
        var files = ["README.md": "# r\n"]
        for d in 0..<3 { for f in 0..<5 { files["src/m\(d)/f\(f).py"] = "x = \(d * 5 + f)\n" } }
        return try TempRepo(files: files)
    }

    func edit(_ t: TempRepo, _ round: Int) throws {
        try "round \(round)\n".write(toFile: t.path + "/src/m\(round % 3)/f\(round % 5).py", atomically: false, encoding: .utf8)
    }

    func packs(_ t: TempRepo) throws -> [String] {
        let dir = t.path + "/.git/objects/pack"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".pack") }.sorted()
    }

    func looseCount(_ t: TempRepo) throws -> Int {
        let line = try t.git("count-objects", "-v").split(separator: "\n").first { $0.hasPrefix("count:") } ?? ""
        return Int(line.split(separator: " ").last ?? "") ?? -1
    }

    func testCommitsPackTheirObjectsUpToALimitThenWriteThemLoose() throws {
        let t = try repo()
        let loose = try looseCount(t)
        var ids: [ObjectID] = []
        for round in 1...41 {
            try edit(t, round)
            guard case .committed(let id, _) = try t.reopen().commitAll(message: "round \(round)\n") else { return XCTFail("round \(round)") }
            ids.append(id)
        }
        // 40 packs, one per commit; the 41st commit's objects are loose (git gc's business now).
        XCTAssertEqual(try packs(t).count, 40)
        XCTAssertEqual(try looseCount(t), loose + 5, "the blob, three trees and the commit of round 41")
        XCTAssertEqual(try t.git("rev-list", "--count", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines), "42")
        XCTAssertEqual(try t.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines), ids.last!.hex)
        _ = try t.git("fsck", "--strict", "--no-dangling")
        XCTAssertEqual(try t.git("show", "HEAD~20:src/m0/f1.py"), "round 21\n")
        let reflog = try t.git("reflog", "-3", "--format=%gs").split(separator: "\n")
        XCTAssertEqual(reflog, ["commit: round 41", "commit: round 40", "commit: round 39"])
        // git folds them together, and expt packs again afterwards.
        _ = try t.git("gc", "-q")
        XCTAssertEqual(try packs(t).count, 1)
        try edit(t, 42)
        guard case .committed = try t.reopen().commitAll(message: "after gc\n") else { return XCTFail("after gc") }
        XCTAssertEqual(try packs(t).count, 2)
        _ = try t.git("fsck", "--strict", "--no-dangling")
    }

    func testAPackThatCannotBeWrittenLeavesHeadAndTheObjectStoreAsTheyWere() throws {
        let t = try repo()
        let head = try t.git("rev-parse", "HEAD")
        let loose = try looseCount(t)
        // objects/pack is a file: no pack can be written there.
        try FileManager.default.removeItem(atPath: t.path + "/.git/objects/pack")
        try "in the way\n".write(toFile: t.path + "/.git/objects/pack", atomically: false, encoding: .utf8)
        try edit(t, 1)
        XCTAssertThrowsError(try t.reopen().commitAll(message: "fails\n")) { error in
            XCTAssertTrue("\(error)".contains("pack"), "\(error)")
        }
        XCTAssertEqual(try t.git("rev-parse", "HEAD"), head)
        XCTAssertEqual(try looseCount(t), loose, "no object was written loose instead")
        XCTAssertEqual(try t.git("status", "--porcelain"), " M src/m1/f1.py\n", "the change is still there, unstaged")
        XCTAssertEqual(try t.git("reflog", "-1", "--format=%gs").trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("commit: fails"), false)
    }

    /// What the batch keeps in memory is bounded: an object of 64 MiB or more is written loose
    /// at once, and a batch that holds 64 MiB is written out as a pack before it grows further.
    func testLargeObjectsGoLooseAndABatchIsFlushedAt64MiB() throws {
        let t = try repo()
        let loose = try looseCount(t)
        let random = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? random.close() }
        try FileManager.default.createDirectory(atPath: t.path + "/big", withIntermediateDirectories: true)
        // Staged in path order: a and b (40 MiB each, incompressible) fill the batch past 64 MiB,
        // so it is written as a pack after b; c (65 MiB) goes loose; the trees and the commit
        // leave as a second pack.
        for (name, mib) in [("a.bin", 40), ("b.bin", 40), ("c.bin", 65)] {
            try random.readData(ofLength: mib << 20).write(to: URL(fileURLWithPath: t.path + "/big/" + name))
        }
        guard case .committed = try t.reopen().commitAll(message: "large\n") else { return XCTFail("no commit") }
        XCTAssertEqual(try packs(t).count, 2)
        XCTAssertEqual(try looseCount(t), loose + 1, "only c.bin's blob is loose")
        let c = try t.git("rev-parse", "HEAD:big/c.bin").trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(FileManager.default.fileExists(atPath: t.path + "/.git/objects/\(c.prefix(2))/\(c.dropFirst(2))"))
        XCTAssertEqual(try t.git("cat-file", "-s", "HEAD:big/a.bin").trimmingCharacters(in: .whitespacesAndNewlines), "\(40 << 20)")
        _ = try t.git("fsck", "--strict", "--no-dangling")
    }

    func testNothingToCommitWritesNoPack() throws {
        let t = try repo()
        XCTAssertEqual(try t.reopen().commitAll(message: "nothing\n"), .nothingToCommit)
        XCTAssertEqual(try packs(t), [])
    }

    func testADetachedHeadMovesItselfAsGitCommitWould() throws {
        let t = try repo()
        _ = try t.git("checkout", "-q", "--detach")
        try edit(t, 2)
        guard case .committed(let id, _) = try t.reopen().commitAll(message: "detached\n") else { return XCTFail("no commit") }
        XCTAssertEqual(try t.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines), id.hex)
        XCTAssertNotEqual(try t.git("rev-parse", "main").trimmingCharacters(in: .whitespacesAndNewlines), id.hex)
        XCTAssertEqual(try t.git("reflog", "-1", "--format=%gs").trimmingCharacters(in: .whitespacesAndNewlines), "commit: detached")
        _ = try t.git("fsck", "--strict", "--no-dangling")
    }
}
