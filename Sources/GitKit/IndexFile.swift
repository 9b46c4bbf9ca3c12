#if canImport(Glibc)
import Glibc
#endif
import CLibGit2
import Foundation

/// A worktree's index read and written by expt itself, for the common case only: version 2,
/// stage-0 entries without flags, no extension but the cache tree. libgit2 1.5 hashes the whole
/// file with its collision-detecting SHA-1 when it reads an index and again when it writes one
/// (for 20,000 entries, 128 million of a checkpoint's 409 million instructions), and validates
/// and copies every path; git does not verify the checksum when it reads, and neither does
/// this. Anything else (`load` answers nil) goes through libgit2 as before.
///
/// The cache tree (`TREE`) is dropped on write, as after any change git has not rebuilt it
/// for: it is an optional cache, and git rebuilds it when it next needs it.
final class IndexFile {
    /// Entries in index order (bytes of the path); each `path` is NUL-terminated memory owned
    /// by this object.
    private(set) var entries: [git_index_entry] = []
    let path: String
    private let storage: UnsafeMutableRawBufferPointer
    private var added: [UnsafeMutablePointer<CChar>] = []
    private var lockFD: Int32 = -1
    /// The file's identity when it was read (inode, size, mtime): `lock` checks it did not
    /// change before the lock was taken.
    private var stamp: [Int] = []

    private init(path: String, storage: UnsafeMutableRawBufferPointer) { self.path = path; self.storage = storage }
    deinit {
        if lockFD >= 0 { close(lockFD); unlink(path + ".lock") }
        storage.deallocate()
        for p in added { free(p) }
    }

    /// The index at `path`, or nil when it is missing or uses anything this does not model.
    static func load(_ path: String) -> IndexFile? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size >= 32, st.st_size < 1 << 31 else { return nil }
        let size = Int(st.st_size)
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: size + 1, alignment: 8)
        var got = 0
        while got < size {
            let n = read(fd, buf.baseAddress! + got, size - got)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { buf.deallocate(); return nil }
            got += n
        }
        buf[size] = 0
        let index = IndexFile(path: path, storage: buf)
        index.stamp = Self.stamp(st)
        return index.parse(size: size) ? index : nil
    }

    private func parse(size: Int) -> Bool {
        let base = UnsafeRawPointer(storage.baseAddress!)
        func u32(_ at: Int) -> UInt32 { UInt32(bigEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u16(_ at: Int) -> UInt16 { UInt16(bigEndian: base.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
        guard u32(0) == 0x4449_5243 /* DIRC */, u32(4) == 2 else { return false }
        let count = Int(u32(8))
        let end = size - 20   // the checksum
        var at = 12
        entries.reserveCapacity(count)
        for _ in 0..<count {
            guard at + 62 < end else { return false }
            let flags = u16(at + 60)
            // Assume-valid, extended (v3) or a stage other than 0: libgit2's path.
            guard flags & 0xF000 == 0 else { return false }
            let pathStart = at + 62
            let name = base + pathStart
            let length = strnlen(name.assumingMemoryBound(to: CChar.self), end - pathStart)
            guard length > 0, pathStart + length < end, Int(flags & 0xFFF) == min(length, 0xFFF) else { return false }
            var e = git_index_entry()
            e.ctime = git_index_time(seconds: Int32(bitPattern: u32(at)), nanoseconds: u32(at + 4))
            e.mtime = git_index_time(seconds: Int32(bitPattern: u32(at + 8)), nanoseconds: u32(at + 12))
            e.dev = u32(at + 16); e.ino = u32(at + 20); e.mode = u32(at + 24)
            e.uid = u32(at + 28); e.gid = u32(at + 32); e.file_size = u32(at + 36)
            withUnsafeMutableBytes(of: &e.id.id) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + at + 40, count: 20)) }
            e.flags = flags
            e.path = name.assumingMemoryBound(to: CChar.self)
            // Strictly increasing, as git keeps an index without conflicts.
            if let last = entries.last, Self.compare(last.path, e.path) >= 0 { return false }
            entries.append(e)
            at += (62 + length + 8) & ~7   // 1 to 8 NULs pad the entry to a multiple of 8 bytes
        }
        // Extensions: only the cache tree, which is dropped.
        while at + 8 <= end {
            guard u32(at) == 0x5452_4545 /* TREE */ else { return false }
            at += 8 + Int(u32(at + 4))
        }
        return at == end
    }

    /// Index order: the paths' bytes.
    static func compare(_ a: UnsafePointer<CChar>, _ b: UnsafePointer<CChar>) -> Int32 { strcmp(a, b) }

    /// Where `path` is, or where it would go.
    private func position(_ path: UnsafePointer<CChar>) -> (Int, found: Bool) {
        var (lo, hi) = (0, entries.count)
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = Self.compare(entries[mid].path, path)
            if c == 0 { return (mid, true) }
            if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        return (lo, false)
    }

    /// Adds or replaces the entry for `entry.path` (its path is copied).
    func upsert(_ entry: git_index_entry, path: String) {
        var e = entry
        e.flags = UInt16(min(path.utf8.count, 0xFFF))
        e.flags_extended = 0
        let (i, found) = path.withCString { position($0) }
        if found {
            e.path = entries[i].path
            entries[i] = e
        } else {
            let copy = strdup(path)!
            added.append(copy)
            e.path = UnsafePointer(copy)
            entries.insert(e, at: i)
        }
    }

    func remove(_ path: String) {
        let (i, found) = path.withCString { position($0) }
        if found { entries.remove(at: i) }
    }

    /// Fresh stat data for an unchanged file.
    func refresh(_ path: String, _ st: stat) {
        let (i, found) = path.withCString { position($0) }
        if found { entries[i].setStat(st) }
    }

    /// Takes `index.lock` as git does before it changes an index, so that nobody else writes
    /// it meanwhile; `save` renames it over the index, and it is removed if that never happens.
    func lock() throws {
        let lock = path + ".lock"
        lockFD = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard lockFD >= 0 else {
            let why = errno == EEXIST ? "\(lock) exists: another git process seems to be running in this worktree (remove the file if none is)"
                : String(cString: strerror(errno))
            throw GitError(operation: "lock index", subject: path, code: -1, message: why)
        }
        var st = stat()
        guard lstat(path, &st) == 0, Self.stamp(st) == stamp else {
            close(lockFD); lockFD = -1; unlink(lock)
            throw GitError(operation: "lock index", subject: path, code: -1,
                           message: "the index changed while it was being read (another git command?); run the command again")
        }
    }

    private static func stamp(_ st: stat) -> [Int] {
        [Int(st.st_ino), Int(st.st_size), st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec]
    }

    /// Writes the index as git does (version 2, the entries, a SHA-1 of it all) into the lock
    /// file, then renames it over the index.
    func save() throws {
        precondition(lockFD >= 0, "save() needs lock()")
        // One buffer of the exact size, written in place (appending field by field was a
        // quarter of the write).
        let lengths = entries.map { strlen($0.path) }
        let size = 12 + lengths.reduce(0) { $0 + ((62 + $1 + 8) & ~7) }
        var out = [UInt8](unsafeUninitializedCapacity: size + 20) { buf, count in
            let p = UnsafeMutableRawPointer(buf.baseAddress!)
            memset(p, 0, size + 20)
            func u32(_ v: UInt32, _ at: Int) { p.storeBytes(of: v.bigEndian, toByteOffset: at, as: UInt32.self) }
            memcpy(p, "DIRC", 4); u32(2, 4); u32(UInt32(entries.count), 8)
            var at = 12
            for (k, var e) in entries.enumerated() {
                u32(UInt32(bitPattern: e.ctime.seconds), at); u32(e.ctime.nanoseconds, at + 4)
                u32(UInt32(bitPattern: e.mtime.seconds), at + 8); u32(e.mtime.nanoseconds, at + 12)
                u32(e.dev, at + 16); u32(e.ino, at + 20); u32(e.mode, at + 24)
                u32(e.uid, at + 28); u32(e.gid, at + 32); u32(e.file_size, at + 36)
                withUnsafeBytes(of: &e.id.id) { _ = memcpy(p + at + 40, $0.baseAddress!, 20) }
                let length = lengths[k]
                p.storeBytes(of: UInt16(min(length, 0xFFF)).bigEndian, toByteOffset: at + 60, as: UInt16.self)
                memcpy(p + at + 62, e.path, length)   // the NUL padding is already there
                at += (62 + length + 8) & ~7
            }
            count = size
        }
        out += try SHA1.digest(out)
        var written = 0
        let ok: Bool = out.withUnsafeBytes { b in
            while written < b.count {
                let n = write(lockFD, b.baseAddress! + written, b.count - written)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                written += n
            }
            return true
        }
        var why = String(cString: strerror(errno))
        close(lockFD); lockFD = -1
        let lock = path + ".lock"
        guard ok, rename(lock, path) == 0 || { why = String(cString: strerror(errno)); return false }() else {
            unlink(lock)
            throw GitError(operation: "write index", subject: path, code: -1, message: why)
        }
    }
}
