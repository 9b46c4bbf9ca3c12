import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which part of a log to read. Logs can be many GB: no caller ever reads a whole file.
public enum LogRange: Sendable, Equatable {
    /// The first `head` and the last `tail` bytes, or the whole file when it is not bigger than
    /// both: where startup errors and the failure are (diagnosis).
    case headAndTail(head: Int, tail: Int)
    /// The last `bytes` bytes (`expt logs --tail`, status progress).
    case tail(bytes: Int)
    /// From byte `offset` on, at most `max` bytes (`expt logs --follow`).
    case from(offset: UInt64, max: Int)

    /// What diagnosis reads: 64 KiB of head, 1 MiB of tail.
    public static let diagnosis = LogRange.headAndTail(head: 64 << 10, tail: 1 << 20)
}

/// Bytes read from a log. For `.headAndTail` of a file bigger than both windows, `head` ends at
/// its last whole line and `tail` holds the end; otherwise `tail` is nil and `head` is all that
/// was read.
public struct LogChunk: Sendable, Equatable {
    public var head: [UInt8]
    public var tail: [UInt8]?
    /// The file's size when it was read.
    public var size: UInt64
    /// The offset just past the bytes read (for `.from` and `.tail`: where the next read starts).
    public var end: UInt64
    /// The line number of `tail`'s first line when it is known (counted on files up to 32 MiB).
    public var tailFirstLine: Int?

    public init(head: [UInt8], tail: [UInt8]? = nil, size: UInt64, end: UInt64, tailFirstLine: Int? = nil) {
        self.head = head; self.tail = tail; self.size = size; self.end = end; self.tailFirstLine = tailFirstLine
    }

    /// The bytes as text (invalid UTF-8 replaced), with a marker where the middle was skipped.
    public var text: String {
        guard let tail else { return String(decoding: head, as: UTF8.self) }
        let skipped = Int(size) - head.count - tail.count
        return String(decoding: head, as: UTF8.self) + "\n[… \(skipped) bytes not read …]\n" + String(decoding: tail, as: UTF8.self)
    }

    /// Complete lines, carriage-return progress bars reduced to their last frame. A `.tail`
    /// read that starts mid-file drops its first, partial line.
    public func lines(droppingPartialFirst: Bool) -> [String] {
        var text = self.text
        if droppingPartialFirst, let nl = text.firstIndex(of: "\n") { text = String(text[text.index(after: nl)...]) }
        var result = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            String(line.split(separator: "\r", omittingEmptySubsequences: true).last ?? "")
        }
        if result.last == "" { result.removeLast() }
        return result
    }
}

/// Reads logs of this machine with pread: bounded windows, never the whole file.
public enum LocalLogFile {
    /// Files up to this size get an exact line number for their tail.
    public static let exactLineCountBytes = 32 << 20

    public static func read(_ path: String, _ range: LogRange, exactLineCountBytes: Int = exactLineCountBytes) throws -> LogChunk {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            throw ExptError(e == ENOENT ? .notFound : .failure,
                            "cannot read the log \(path): \(e == ENOENT ? "not found" : String(cString: strerror(e)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ExptError(.failure, "cannot read the log \(path): stat failed") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw ExptError(.invalidInput, "\(path) is a directory, not a log file") }
        let size = Int(st.st_size)
        func pread(_ offset: Int, _ count: Int) throws -> [UInt8] {
            guard let b = preadFully(fd, offset: offset, count: count) else {
                throw ExptError(.failure, "cannot read the log \(path): \(String(cString: strerror(errno)))")
            }
            return b
        }
        switch range {
        case .headAndTail(let headBytes, let tailBytes):
            if size <= headBytes + tailBytes {
                let all = try pread(0, size)
                return LogChunk(head: all, size: UInt64(size), end: UInt64(all.count))
            }
            var head = try pread(0, headBytes)
            // The head's last partial line continues into the skipped middle: drop it.
            if let lastNL = head.lastIndex(of: 10) { head.removeSubrange((lastNL + 1)...) }
            let tail = try pread(size - tailBytes, tailBytes)
            let first = size <= exactLineCountBytes ? countNewlines(fd, from: 0, to: size - tailBytes) + 1 : nil
            return LogChunk(head: head, tail: tail, size: UInt64(size), end: UInt64(size), tailFirstLine: first)
        case .tail(let bytes):
            let start = max(0, size - bytes)
            let data = try pread(start, size - start)
            return LogChunk(head: data, size: UInt64(size), end: UInt64(start + data.count))
        case .from(let offset, let max):
            guard Int(offset) < size else { return LogChunk(head: [], size: UInt64(size), end: offset) }
            let data = try pread(Int(offset), min(max, size - Int(offset)))
            return LogChunk(head: data, size: UInt64(size), end: offset + UInt64(data.count))
        }
    }

    public static func preadFully(_ fd: Int32, offset: Int, count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        let ok = out.withUnsafeMutableBytes { raw -> Bool in
            while done < count {
                let r = Glibc.pread(fd, raw.baseAddress! + done, count - done, off_t(offset + done))
                if r < 0 { if errno == EINTR { continue }; return false }
                if r == 0 { break }
                done += r
            }
            return true
        }
        guard ok else { return nil }
        if done < count { out.removeSubrange(done...) }
        return out
    }

    /// Newlines in [from, to) of the file, read in 1 MiB chunks with memchr.
    static func countNewlines(_ fd: Int32, from: Int, to: Int) -> Int {
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var offset = from
        var total = 0
        buffer.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            while offset < to {
                let r = Glibc.pread(fd, base, min(chunk, to - offset), off_t(offset))
                if r <= 0 { if r < 0 && errno == EINTR { continue }; break }
                var p = base
                let end = base + r
                while p < end, let hit = memchr(p, 10, end - p) {
                    total += 1
                    p = UnsafeMutableRawPointer(hit) + 1
                }
                offset += r
            }
        }
        return total
    }
}

/// Reads logs on another host through a runner that reaches it (an exec prefix such as ssh):
/// `stat` for the size, then `head`/`tail` for the windows, every argument quoted by the runner.
public struct RemoteLogFile: Sendable {
    public let runner: ProcessRunner
    /// How the host is named in errors ("the host reached by exec_prefix ssh login1").
    public let hostDescription: String

    public init(runner: ProcessRunner, hostDescription: String) {
        self.runner = runner; self.hostDescription = hostDescription
    }

    public func read(_ path: String, _ range: LogRange) throws -> LogChunk {
        let stat = try runner.run(["stat", "-L", "-c", "%s", "--", path])
        guard stat.status == 0, let size = Int(stat.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            let missing = stat.stderr.contains("No such file")
            throw ExptError(missing ? .notFound : .external,
                            "cannot read \(path) on \(hostDescription): \(stat.stderrTail.isEmpty ? "stat exited \(stat.status)" : stat.stderrTail)")
        }
        switch range {
        case .headAndTail(let head, let tail):
            if size <= head + tail {
                let all = try bytes(["cat", "--", path])
                return LogChunk(head: all, size: UInt64(size), end: UInt64(all.count))
            }
            var h = try bytes(["head", "-c", "\(head)", "--", path])
            if let lastNL = h.lastIndex(of: 10) { h.removeSubrange((lastNL + 1)...) }
            let t = try bytes(["tail", "-c", "\(tail)", "--", path])
            return LogChunk(head: h, tail: t, size: UInt64(size), end: UInt64(size))
        case .tail(let n):
            let data = try bytes(["tail", "-c", "\(n)", "--", path])
            return LogChunk(head: data, size: UInt64(size), end: UInt64(size))
        case .from(let offset, let max):
            guard Int(offset) < size else { return LogChunk(head: [], size: UInt64(size), end: offset) }
            // `tail -c +N` starts at byte N (1-based); head bounds what one read brings back.
            let data = try bytes(["sh", "-c", "tail -c +\"$1\" -- \"$2\" | head -c \"$3\"", "sh",
                                  "\(offset + 1)", path, "\(max)"])
            return LogChunk(head: data, size: UInt64(size), end: offset + UInt64(data.count))
        }
    }

    private func bytes(_ argv: [String]) throws -> [UInt8] {
        let r = try runner.run(argv)
        guard r.status == 0 else {
            throw ExptError(.external, "`\(argv[0])` failed on \(hostDescription): \(r.stderrTail)")
        }
        return Array(r.stdout.utf8)
    }
}
