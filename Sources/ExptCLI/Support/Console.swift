import Foundation
import ExptModel
#if canImport(Glibc)
import Glibc
#endif

/// Where output goes: data (tables, JSON) to stdout, narration to stderr.
public struct Console: Sendable {
    public var writeOut: @Sendable (String) -> Void
    public var writeErr: @Sendable (String) -> Void

    public init(writeOut: @escaping @Sendable (String) -> Void, writeErr: @escaping @Sendable (String) -> Void) {
        self.writeOut = writeOut; self.writeErr = writeErr
    }

    /// The process's stdout and stderr.
    public static let standard = Console(writeOut: { FileHandle.standardOutput.write(Data($0.utf8)) },
                                         writeErr: { FileHandle.standardError.write(Data($0.utf8)) })

    /// A console that keeps what is written, for tests.
    public static func capturing() -> (Console, CapturedOutput) {
        let box = CapturedOutput()
        return (Console(writeOut: { box.append(out: $0) }, writeErr: { box.append(err: $0) }), box)
    }

    func out(_ line: String) { writeOut(line.hasSuffix("\n") ? line : line + "\n") }
    func err(_ line: String) { writeErr(line.hasSuffix("\n") ? line : line + "\n") }

    /// A narration line on stderr ("✓ created exp/lr").
    func note(_ line: String) { err(line) }
}

/// What a capturing console received.
public final class CapturedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = "", errText = ""
    public var stdout: String { lock.withLock { outText } }
    public var stderr: String { lock.withLock { errText } }
    func append(out: String) { lock.withLock { outText += out } }
    func append(err: String) { lock.withLock { errText += err } }
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
        // Widths in Characters, as a terminal shows them; an ASCII cell's is its byte count
        // (Character counting of every cell twice was a tenth of `status --all`).
        func width(_ c: String) -> Int { c.utf8.allSatisfy { $0 < 0x80 } ? c.utf8.count : c.count }
        let all = [header] + rows
        let cellWidths = all.map { $0.map(width) }
        var widths = cellWidths[0]
        for r in cellWidths { for (i, w) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], w) } }
        // Bytes first, one String at the end: appending to a String cell by cell cost more
        // than laying the table out.
        var out: [UInt8] = []
        out.reserveCapacity(all.count * (widths.reduce(0, +) + 2 * widths.count + 1))
        for (k, cells) in all.enumerated() {
            if k > 0 { out.append(0x0A) }
            for (i, c) in cells.enumerated() {
                if i > 0 { out.append(0x20); out.append(0x20) }
                out.append(contentsOf: c.utf8)
                if i < cells.count - 1 && i < widths.count {
                    out.append(contentsOf: repeatElement(0x20, count: max(0, widths[i] - cellWidths[k][i])))
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
