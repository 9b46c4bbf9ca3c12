import Foundation
import XCTest
import ExptTestSupport
@testable import GitKit

/// The tree a checkpoint commits is the tree git would commit: TreeWriter's id equals
/// libgit2's git_index_write_tree (and git write-tree) on the same index, over random trees
/// with nested, empty-named-looking and sort-sensitive paths.
final class TreeWriterTests: XCTestCase {
    func testTheTreeIsLibgit2sOnRandomIndexes() throws {
        var generator = SystemRandomNumberGenerator()
        // Names whose order differs between "sorted as files" and "sorted as directories".
        let names = ["a", "a.txt", "a-1", "a0", "b", "x", "x.y", "z", "Z", "é", "sub"]
        for round in 0..<12 {
            var files: [String: String] = [:]
            for _ in 0..<60 {
                let depth = Int.random(in: 1...4, using: &generator)
                let parts = (0..<depth).map { _ in names.randomElement(using: &generator)! }
                files[parts.joined(separator: "/")] = "\(round) \(parts)\n"
            }
            // A path cannot be both a file and a directory: keep the deeper ones.
            let paths = files.keys.sorted()
            for p in paths where paths.contains(where: { $0.hasPrefix(p + "/") }) { files[p] = nil }
            let t = try TempRepo(files: files.merging(["README.md": "r\n"]) { a, _ in a })
            try t.git("add", "-A")
            let r = try t.reopen()
            let ours = try r.writeIndexTree(libgit2: false)
            XCTAssertEqual(ours, try r.writeIndexTree(libgit2: true), "round \(round): \(files.keys.sorted())")
            XCTAssertEqual(ours.hex, try t.git("write-tree").trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
