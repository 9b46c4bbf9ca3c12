import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where output goes: data (tables, JSON) to stdout, narration to stderr. Colour only when
/// stderr is a TTY, TERM is not dumb and NO_COLOR is unset.
struct Console {
    var writeOut: (String) -> Void = { s in FileHandle.standardOutput.write(Data(s.utf8)) }
    var writeErr: (String) -> Void = { s in FileHandle.standardError.write(Data(s.utf8)) }

    static var stdoutIsTTY: Bool { isatty(1) == 1 }
    static var stdinIsTTY: Bool { isatty(0) == 1 }
    static var useColor: Bool {
        let env = ProcessInfo.processInfo.environment
        return isatty(2) == 1 && env["NO_COLOR"] == nil && env["TERM"] != "dumb"
    }

    func out(_ line: String) { writeOut(line.hasSuffix("\n") ? line : line + "\n") }
    func err(_ line: String) { writeErr(line.hasSuffix("\n") ? line : line + "\n") }

    /// A narration line on stderr ("✓ created exp/lr").
    func note(_ line: String) { err(line) }

    static func green(_ s: String) -> String { useColor ? "\u{1B}[32m\(s)\u{1B}[0m" : s }
    static func red(_ s: String) -> String { useColor ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
    static func yellow(_ s: String) -> String { useColor ? "\u{1B}[33m\(s)\u{1B}[0m" : s }
    static func bold(_ s: String) -> String { useColor ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
}

/// JSON as expt prints it: snake_case keys, sorted, ISO-8601 dates, pretty.
enum JSONOutput {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}

extension Console {
    /// Prints `value` as JSON when asked, else the human rendering.
    func emit<T: Encodable>(_ value: T, json: Bool, human: () -> String) throws {
        if json { out(try JSONOutput.encode(value)) } else {
            let text = human()
            if !text.isEmpty { out(text) }
        }
    }
}

/// Fixed-width text tables for human output.
enum Table {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
