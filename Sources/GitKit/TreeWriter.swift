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
        var stack = [Open(path: [], name: [])]
        for i in 0..<git_index_entrycount(index) {
            guard let e = git_index_get_byindex(index, i)?.pointee else { continue }
            let path = Array(UnsafeBufferPointer(start: UnsafeRawPointer(e.path).assumingMemoryBound(to: UInt8.self), count: strlen(e.path)))
            let slash = path.lastIndex(of: 0x2F)
            let dir = slash.map { Array(path[..<$0]) } ?? []
            let name = slash.map { Array(path[($0 + 1)...]) } ?? path
            // Close the directories this entry is not in.
            while stack.count > 1, !Self.isWithin(dir, stack[stack.count - 1].path) { try close(&stack) }
            // Open the ones it is in, down to its own.
            var top = stack[stack.count - 1].path
            while top != dir {
                let rest = top.isEmpty ? dir[...] : dir[(top.count + 1)...]
                let next = rest.firstIndex(of: 0x2F).map { Array(rest[..<$0]) } ?? Array(rest)
                top = top.isEmpty ? next : top + [0x2F] + next
                stack.append(Open(path: top, name: next))
            }
            var id = e.id
            Self.append(mode: e.mode, name: name, id: &id, to: &stack[stack.count - 1].bytes)
        }
        while stack.count > 1 { try close(&stack) }
        return try writeTree(stack[0].bytes)
    }

    /// True when `dir` is `parent` or inside it.
    private static func isWithin(_ dir: [UInt8], _ parent: [UInt8]) -> Bool {
        parent.isEmpty || dir == parent || (dir.count > parent.count && dir[parent.count] == 0x2F && dir.starts(with: parent))
    }

    private func close(_ stack: inout [Open]) throws {
        let done = stack.removeLast()
        var id = try writeTree(done.bytes)
        Self.append(mode: GIT_FILEMODE_TREE.rawValue, name: done.name, id: &id, to: &stack[stack.count - 1].bytes)
    }

    /// `<mode in octal, no leading zero> <name>\0<20-byte id>`, as git serializes a tree entry.
    private static func append(mode: UInt32, name: [UInt8], id: inout git_oid, to bytes: inout [UInt8]) {
        bytes += Array(String(mode, radix: 8).utf8)
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
