import CLibGit2
import Foundation

/// Writes the tree of an index in one pass over its entries, the subtrees bottom-up, each
/// serialized, hashed and written once (an existing one is only looked up). libgit2 1.5's
/// git_index_write_tree builds every tree of the index through a tree builder when the root
/// changed, which was a third of a checkpoint's time; the result is the same tree, byte for
/// byte (`TreeWriterTests` checks it against libgit2's on random trees).
///
/// Only for an index without conflicts (stage 0 entries only), as `WorktreeScan` guarantees.
struct TreeWriter {
    let odb: OpaquePointer

    private struct Open {
        var path: [UInt8]          // the directory's path, no trailing '/'; [] is the root
        var name: [UInt8]          // its own name in its parent
        var bytes: [UInt8] = []    // the serialized entries so far
    }

    func write(_ index: OpaquePointer) throws -> git_oid {
        try write((0..<git_index_entrycount(index)).compactMap { git_index_get_byindex(index, $0)?.pointee })
    }

    /// The same over entries in index order (IndexFile's).
    func write(_ entries: [git_index_entry]) throws -> git_oid {
        var stack = [Open(path: [], name: [])]
        for e in entries {
            // The entry's path is read in place: no copy per entry (20,000 of them in a checkpoint).
            let path = UnsafeBufferPointer(start: UnsafeRawPointer(e.path).assumingMemoryBound(to: UInt8.self), count: strlen(e.path))
            let slash = path.lastIndex(of: 0x2F)
            let dir = UnsafeBufferPointer(rebasing: path[..<(slash ?? 0)])
            let name = UnsafeBufferPointer(rebasing: path[(slash.map { $0 + 1 } ?? 0)...])
            // Close the directories this entry is not in.
            while stack.count > 1, !Self.isWithin(dir, stack[stack.count - 1].path) { try close(&stack) }
            // Open the ones it is in, down to its own.
            if !Self.equal(dir, stack[stack.count - 1].path) {
                var top = stack[stack.count - 1].path
                repeat {
                    let rest = dir[(top.isEmpty ? 0 : top.count + 1)...]
                    let next = Array(rest[..<(rest.firstIndex(of: 0x2F) ?? rest.endIndex)])
                    top = top.isEmpty ? next : top + [0x2F] + next
                    stack.append(Open(path: top, name: next))
                } while top.count != dir.count
            }
            var id = e.id
            Self.append(mode: e.mode, name: name, id: &id, to: &stack[stack.count - 1].bytes)
        }
        while stack.count > 1 { try close(&stack) }
        return try writeTree(stack[0].bytes)
    }

    private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Bool {
        a.count == b.count && (a.isEmpty || b.withUnsafeBufferPointer { memcmp(a.baseAddress!, $0.baseAddress!, a.count) == 0 })
    }

    /// True when `dir` is `parent` or inside it.
    private static func isWithin(_ dir: UnsafeBufferPointer<UInt8>, _ parent: [UInt8]) -> Bool {
        parent.isEmpty || equal(dir, parent) || (dir.count > parent.count && dir[parent.count] == 0x2F
            && equal(UnsafeBufferPointer(rebasing: dir[..<parent.count]), parent))
    }

    private func close(_ stack: inout [Open]) throws {
        let done = stack.removeLast()
        var id = try writeTree(done.bytes)
        done.name.withUnsafeBufferPointer { Self.append(mode: GIT_FILEMODE_TREE.rawValue, name: $0, id: &id, to: &stack[stack.count - 1].bytes) }
    }

    private static let octalModes: [UInt32: [UInt8]] = Dictionary(uniqueKeysWithValues:
        [GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE, GIT_FILEMODE_LINK, GIT_FILEMODE_TREE, GIT_FILEMODE_COMMIT].map {
            ($0.rawValue, Array(String($0.rawValue, radix: 8).utf8))
        })

    /// `<mode in octal, no leading zero> <name>\0<20-byte id>`, as git serializes a tree entry.
    private static func append(mode: UInt32, name: UnsafeBufferPointer<UInt8>, id: inout git_oid, to bytes: inout [UInt8]) {
        bytes += octalModes[mode] ?? Array(String(mode, radix: 8).utf8)
        bytes.append(0x20)
        bytes += name
        bytes.append(0)
        withUnsafeBytes(of: &id.id) { bytes += $0 }
    }

    private func writeTree(_ bytes: [UInt8]) throws -> git_oid {
        var id = git_oid()
        try bytes.withUnsafeBytes { buffer in
            _ = try check(git_odb_write(&id, odb, buffer.baseAddress, buffer.count, GIT_OBJECT_TREE), "write tree")
        }
        return id
    }
}

extension Repository {
    /// The tree of this worktree's index as TreeWriter writes it, or (`libgit2`) as
    /// git_index_write_tree does: the two must agree (tests).
    func writeIndexTree(libgit2: Bool) throws -> ObjectID {
        var index: OpaquePointer?, odb: OpaquePointer?
        try check(git_repository_index(&index, pointer), "open index", workdir)
        defer { git_index_free(index) }
        try check(git_repository_odb(&odb, pointer), "open object database", workdir)
        defer { git_odb_free(odb) }
        if libgit2 {
            var id = git_oid()
            try check(git_index_write_tree(&id, index), "write tree", workdir)
            return ObjectID(id)
        }
        return ObjectID(try TreeWriter(odb: odb!).write(index!))
    }
}
