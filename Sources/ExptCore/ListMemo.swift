import Foundation
import GitKit

/// What `expt list` derives from objects, remembered by the object ids it was derived from:
/// ahead/behind of a head against its base's tip, the head's commit time, and whether the
/// head's tree has the branch doc. Each is fixed once its ids are (objects never change), so a
/// row is reused exactly when the branch, its head and its base's tip are the ones it was
/// computed for, and recomputed the moment any of them moves. Reading 500 rows from this file
/// replaces about 2,000 object reads (docs/benchmarks.md, benchmark 3).
///
/// The file is `<common-dir>/expt/list-memo`, one line a row:
/// `<head> <base tip or -> <ahead> <behind> <commit time> <doc 0|1> <branch>`. It is derived
/// data: a missing, unreadable or malformed file (or line) only means recomputing, and a file
/// that cannot be written is left as it was.
struct ListMemo {
    struct Key: Hashable {
        var branch: String
        var head: ObjectID
        var baseTip: ObjectID?
    }
    struct Row: Equatable {
        var ahead: Int?
        var behind: Int?
        var commitTime: Int64
        var doc: Bool
    }

    static let header = "expt-list-memo 1"
    let path: String
    private(set) var rows: [Key: Row] = [:]
    /// True when a row was added or the file held rows that were not asked for (branches
    /// deleted or moved): then `save` rewrites it.
    private(set) var changed = false
    private var used = 0

    init(stateDir: String) {
        path = stateDir + "/list-memo"
        guard let data = FileManager.default.contents(atPath: path) else { return }
        rows = Self.parse(data)
    }

    mutating func row(_ key: Key, compute: () throws -> Row) rethrows -> Row {
        if let r = rows[key] { used += 1; return r }
        let r = try compute()
        rows[key] = r; used += 1; changed = true
        return r
    }

    /// Rewrites the file with the rows used by this listing, when anything changed: written
    /// to a temporary file beside it and renamed, so a reader never sees half a file.
    mutating func save(keeping asked: Set<Key>) {
        if used == rows.count && !changed { return }
        rows = rows.filter { asked.contains($0.key) }
        var text = Self.header + "\n"
        for (k, r) in rows.sorted(by: { $0.key.branch < $1.key.branch }) {
            let counts = r.ahead.flatMap { a in r.behind.map { "\(a) \($0)" } } ?? "- -"
            text += "\(k.head.hex) \(k.baseTip?.hex ?? "-") \(counts) \(r.commitTime) \(r.doc ? 1 : 0) \(k.branch)\n"
        }
        let dir = (path as NSString).deletingLastPathComponent
        // expt's state directory inside the common dir, as launch makes it; not its parents.
        if !FileManager.default.fileExists(atPath: dir) { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false) }
        let tmp = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else { return }
        if rename(tmp, path) != 0 { unlink(tmp) }
    }

    /// The rows of a memo file; lines that do not parse are skipped. Byte by byte over one
    /// buffer: splitting `Data` generically cost more than the object reads the memo saves.
    static func parse(_ data: Data) -> [Key: Row] {
        [UInt8](data).withUnsafeBufferPointer { buf in
            var rows: [Key: Row] = [:]
            var lines = buf.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)[...]
            guard let first = lines.popFirst(), first.elementsEqual(header.utf8) else { return [:] }
            rows.reserveCapacity(lines.count)
            for line in lines {
                if let (key, row) = parseLine(line) { rows[key] = row }
            }
            return rows
        }
    }

    private static func parseLine(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> (Key, Row)? {
        // The branch is last and has no spaces (git refuses them in ref names).
        let f = line.split(separator: UInt8(ascii: " "), maxSplits: 6, omittingEmptySubsequences: false)
        guard f.count == 7, let head = objectID(f[0]), let time = number(f[4]), f[5].count == 1,
              let docByte = f[5].first, docByte == UInt8(ascii: "0") || docByte == UInt8(ascii: "1"),
              !f[6].isEmpty, !f[6].contains(UInt8(ascii: " ")) else { return nil }
        let isDash = { (s: Slice<UnsafeBufferPointer<UInt8>>) in s.count == 1 && s.first == UInt8(ascii: "-") }
        var baseTip: ObjectID?
        if !isDash(f[1]) {
            guard let b = objectID(f[1]) else { return nil }
            baseTip = b
        }
        var ahead: Int?, behind: Int?
        if !(isDash(f[2]) && isDash(f[3])) {
            guard let a = number(f[2]), let b = number(f[3]) else { return nil }
            ahead = Int(a); behind = Int(b)
        }
        return (Key(branch: String(decoding: f[6], as: UTF8.self), head: head, baseTip: baseTip),
                Row(ahead: ahead, behind: behind, commitTime: time, doc: docByte == UInt8(ascii: "1")))
    }
}

/// 40 lower-case hex digits, as the memo writes an object id.
private func objectID(_ s: Slice<UnsafeBufferPointer<UInt8>>) -> ObjectID? {
    guard s.count == 40, s.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
    return ObjectID(hex: String(decoding: s, as: UTF8.self))
}

/// A decimal number of at most 18 digits, with an optional leading '-'.
private func number(_ s: Slice<UnsafeBufferPointer<UInt8>>) -> Int64? {
    var digits = s[...]
    let negative = digits.first == UInt8(ascii: "-")
    if negative { digits = digits.dropFirst() }
    guard !digits.isEmpty, digits.count <= 18 else { return nil }
    var v: Int64 = 0
    for d in digits {
        guard d >= 0x30 && d <= 0x39 else { return nil }
        v = v * 10 + Int64(d - 0x30)
    }
    return negative ? -v : v
}
