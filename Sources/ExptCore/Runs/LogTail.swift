import Foundation

/// Bounded reads of log files: the end of a file without reading the whole of it.
public enum LogTail {
    /// The last `lines` lines of `path`, reading at most `maxBytes` from its end. Invalid UTF-8
    /// is replaced, carriage-return progress bars keep their last frame.
    public static func lines(_ path: String, count lines: Int, maxBytes: Int = 4 << 20) throws -> [String] {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw ExptError(.notFound, "cannot open the log \(path)")
        }
        defer { try? h.close() }
        let size = try h.seekToEnd()
        let want = UInt64(min(maxBytes, Int(size)))
        try h.seek(toOffset: size - want)
        let data = try h.read(upToCount: Int(want)) ?? Data()
        var text = String(decoding: data, as: UTF8.self)
        if want < size, let nl = text.firstIndex(of: "\n") { text = String(text[text.index(after: nl)...]) }
        var result = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let frames = line.split(separator: "\r", omittingEmptySubsequences: true)
            return String(frames.last ?? "")
        }
        if result.last == "" { result.removeLast() }
        return Array(result.suffix(lines))
    }

    /// Bytes appended to `path` since `offset`; returns them and the new offset.
    public static func read(_ path: String, from offset: UInt64) -> (Data, UInt64) {
        guard let h = FileHandle(forReadingAtPath: path) else { return (Data(), offset) }
        defer { try? h.close() }
        guard let end = try? h.seekToEnd(), end > offset else { return (Data(), offset) }
        try? h.seek(toOffset: offset)
        let data = (try? h.read(upToCount: Int(min(end - offset, 16 << 20)))) ?? Data()
        return (data, offset + UInt64(data.count))
    }
}

/// Training progress read from the end of a run's output: the last epoch and step printed.
public enum RunProgress {
    static let epoch = try! NSRegularExpression(pattern: #"(?i)\bepoch[\s:=\[]*(\d+)(?:\s*/\s*(\d+))?"#)
    static let step = try! NSRegularExpression(pattern: #"(?i)\b(?:step|iter(?:ation)?|global_step)[\s:=\[]*(\d+)(?:\s*/\s*(\d+))?"#)

    /// "epoch 2/3, step 340" from the last 64 KiB of the run's stdout, nil when nothing matches.
    public static func read(_ run: RunRecord) -> String? {
        guard let dir = run.logDir, let lines = try? LogTail.lines(dir + "/stdout.log", count: 200, maxBytes: 64 << 10) else { return nil }
        return parse(lines)
    }

    public static func parse(_ lines: [String]) -> String? {
        var parts: [String] = []
        for (name, re) in [("epoch", epoch), ("step", step)] {
            for line in lines.reversed() {
                let ns = line as NSString
                if let m = re.matches(in: line, range: NSRange(location: 0, length: ns.length)).last {
                    var s = "\(name) \(ns.substring(with: m.range(at: 1)))"
                    if m.range(at: 2).location != NSNotFound { s += "/\(ns.substring(with: m.range(at: 2)))" }
                    parts.append(s)
                    break
                }
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}
