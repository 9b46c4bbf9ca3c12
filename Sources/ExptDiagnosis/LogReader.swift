import Foundation
import ExptModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How much of each log is read. Failures live at the end (the last exception, the scheduler's
/// kill message) and startup errors at the head, so the middle of a multi-GB log is never read.
public struct ReadLimits: Sendable, Equatable {
    public var headBytes: Int
    public var tailBytes: Int
    /// Logs up to this size get exact line numbers for their tail (newlines in the skipped middle
    /// are counted with memchr); bigger logs report tail lines counted from the end.
    public var exactLineCountBytes: Int

    public init(headBytes: Int = 64 << 10, tailBytes: Int = 1 << 20, exactLineCountBytes: Int = 32 << 20) {
        self.headBytes = headBytes; self.tailBytes = tailBytes; self.exactLineCountBytes = exactLineCountBytes
    }
    public static let `default` = ReadLimits()
}

/// One line of a window: a byte range of `LogWindow.bytes` (without its `\n`) and its number.
struct LogLine {
    /// 1-based, or negative counted from the end (see `Evidence.line`).
    var number: Int
    var start: Int
    var end: Int
}

/// The readable part of one log: head and tail windows, ANSI codes stripped, split into lines.
/// Lines are separated by `\n` only; `\r` (tqdm redraws) stays inside a line.
struct LogWindow {
    var label: String
    var bytes: [UInt8]
    var lines: [LogLine]
    var fileSize: Int
    /// True when the middle of the log was skipped.
    var skippedMiddle: Bool

    /// The text of a byte range, invalid UTF-8 replaced by U+FFFD.
    func text(_ start: Int, _ end: Int) -> String {
        bytes.withUnsafeBufferPointer { buf in
            String(decoding: UnsafeBufferPointer(rebasing: buf[start..<end]), as: UTF8.self)
        }
    }
}

/// Reads logs in bounded windows with pread, never the whole file.
enum LogReader {
    static func read(_ input: LogInput, limits: ReadLimits) -> Result<LogWindow, LogReadProblemError> {
        if let chunk = input.chunk { return .success(window(label: input.label, chunk: chunk, limits: limits)) }
        if let text = input.text {
            return .success(window(label: input.label, data: Array(text.utf8), limits: limits))
        }
        guard let path = input.path else {
            return .failure(LogReadProblemError(label: input.label, message: "no path or text given"))
        }
        do {
            let chunk = try LocalLogFile.read(path, .headAndTail(head: limits.headBytes, tail: limits.tailBytes),
                                             exactLineCountBytes: limits.exactLineCountBytes)
            return .success(window(label: input.label, chunk: chunk, limits: limits))
        } catch let e as ExptError {
            let prefix = "cannot read the log "
            return .failure(LogReadProblemError(label: input.label,
                                                message: e.message.hasPrefix(prefix) ? String(e.message.dropFirst(prefix.count)) : e.message))
        } catch {
            return .failure(LogReadProblemError(label: input.label, message: "\(path): \(error)"))
        }
    }

    /// Windows bytes read by `LocalLogFile`/`RemoteLogFile` (or a backend's own reader).
    static func window(label: String, chunk: LogChunk, limits: ReadLimits) -> LogWindow {
        guard let tail = chunk.tail else { return window(label: label, data: chunk.head, limits: limits) }
        return split(label: label, head: chunk.head, tail: tail, tailFirstLine: chunk.tailFirstLine, fileSize: Int(chunk.size))
    }

    /// Windows an in-memory buffer exactly as a file of the same bytes.
    static func window(label: String, data: [UInt8], limits: ReadLimits) -> LogWindow {
        if data.count <= limits.headBytes + limits.tailBytes {
            return split(label: label, head: [],
                         tail: data, tailFirstLine: 1, fileSize: data.count)
        }
        var head = Array(data[0..<limits.headBytes])
        if let lastNL = head.lastIndex(of: 10) { head.removeSubrange((lastNL + 1)...) }
        let tailStart = data.count - limits.tailBytes
        let tailFirst = data.count <= limits.exactLineCountBytes
            ? data[0..<tailStart].reduce(0) { $0 + ($1 == 10 ? 1 : 0) } + 1 : nil
        return split(label: label, head: head,
                     tail: Array(data[tailStart...]), tailFirstLine: tailFirst, fileSize: data.count)
    }

    /// Joins head and tail into one buffer (ANSI stripped) and numbers the lines.
    /// `tailFirstLine == nil` means line numbers of the tail are counted from the end.
    private static func split(label: String, head: [UInt8],
                              tail: [UInt8], tailFirstLine: Int?, fileSize: Int) -> LogWindow {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(head.count + tail.count + 1)
        var lines: [LogLine] = []
        if !head.isEmpty {
            appendStripped(head, to: &bytes)
            appendLines(&lines, bytes: bytes, from: 0, firstNumber: 1, fromEnd: false)
            if bytes.last != 10 { bytes.append(10) }
        }
        let tailStart = bytes.count
        appendStripped(tail, to: &bytes)
        appendLines(&lines, bytes: bytes, from: tailStart, firstNumber: tailFirstLine ?? 0,
                    fromEnd: tailFirstLine == nil)
        return LogWindow(label: label, bytes: bytes, lines: lines, fileSize: fileSize,
                         skippedMiddle: !head.isEmpty)
    }

    private static func appendLines(_ lines: inout [LogLine], bytes: [UInt8], from: Int, firstNumber: Int,
                                    fromEnd: Bool) {
        var newLines: [LogLine] = []
        var start = from
        var i = from
        let n = bytes.count
        bytes.withUnsafeBufferPointer { buf in
            while i < n {
                if buf[i] == 10 {
                    newLines.append(LogLine(number: 0, start: start, end: i))
                    start = i + 1
                }
                i += 1
            }
        }
        if start < n { newLines.append(LogLine(number: 0, start: start, end: n)) }
        let count = newLines.count
        for k in 0..<count {
            newLines[k].number = fromEnd ? -(count - k) : firstNumber + k
        }
        lines.append(contentsOf: newLines)
    }

    /// Copies `src` into `dst` without ANSI escape sequences (CSI `ESC [ ... final`, OSC
    /// `ESC ] ... BEL|ESC \`, and two-byte escapes), which colour codes split words with.
    static func appendStripped(_ src: [UInt8], to dst: inout [UInt8]) {
        let n = src.count
        var i = 0
        src.withUnsafeBufferPointer { s in
            while i < n {
                let b = s[i]
                if b != 0x1B { dst.append(b); i += 1; continue }
                guard i + 1 < n else { i += 1; continue }
                let next = s[i + 1]
                if next == UInt8(ascii: "[") {
                    var j = i + 2
                    while j < n, s[j] >= 0x20, s[j] <= 0x3F { j += 1 }
                    if j < n, s[j] >= 0x40, s[j] <= 0x7E { j += 1 }
                    i = j
                } else if next == UInt8(ascii: "]") {
                    var j = i + 2
                    while j < n, s[j] != 0x07, !(s[j] == 0x1B && j + 1 < n && s[j + 1] == UInt8(ascii: "\\")),
                          s[j] != 10 { j += 1 }
                    if j < n, s[j] == 0x07 { j += 1 } else if j < n, s[j] == 0x1B { j += 2 }
                    i = j
                } else {
                    i += 2
                }
            }
        }
    }
}

/// A log that could not be read (missing, a directory, unreadable); diagnosis goes on with the
/// others and says so.
struct LogReadProblemError: Error {
    var label: String
    var message: String
}
