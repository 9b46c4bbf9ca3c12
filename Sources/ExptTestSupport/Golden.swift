import Foundation
#if canImport(XCTest)
import XCTest

/// Golden files for user-visible text: `Golden/<name>` beside the test file. A mismatch fails
/// with a line diff; `EXPT_RECORD=1 swift test --filter …` rewrites the files instead (then
/// review the diff with git before committing), the way argument-parser's `assertSnapshot` works.
public enum Golden {
    public static func assert(_ actual: String, matches name: String, file: StaticString = #filePath, line: UInt = #line) {
        let url = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Golden/" + name)
        if ProcessInfo.processInfo.environment["EXPT_RECORD"] == "1" {
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            XCTAssertNoThrow(try actual.write(to: url, atomically: true, encoding: .utf8), file: file, line: line)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            XCTFail("no golden file \(url.path); record it with EXPT_RECORD=1", file: file, line: line)
            return
        }
        guard expected != actual else { return }
        let e = expected.components(separatedBy: "\n"), a = actual.components(separatedBy: "\n")
        var diff: [String] = []
        for i in 0..<max(e.count, a.count) where (i < e.count ? e[i] : nil) != (i < a.count ? a[i] : nil) {
            if i < e.count { diff.append("-\(i + 1): \(e[i])") }
            if i < a.count { diff.append("+\(i + 1): \(a[i])") }
        }
        XCTFail("\(name) differs from its golden file (EXPT_RECORD=1 re-records):\n" + diff.prefix(40).joined(separator: "\n"),
                file: file, line: line)
    }

    /// Text with what changes from run to run replaced: the repository path, commit ids,
    /// ISO dates and times.
    public static func normalise(_ text: String, paths: [String: String] = [:]) -> String {
        var out = text
        for (path, name) in paths.sorted(by: { $0.key.count > $1.key.count }) { out = out.replacingOccurrences(of: path, with: name) }
        for (pattern, replacement) in [(#"\b[0-9a-f]{40}\b"#, "<sha>"), (#"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,12}\b"#, "<short-sha>"),
                                       (#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"#, "<time>"),
                                       (#"\b\d{4}-\d\d-\d\d\b"#, "<date>")] {
            out = out.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return out
    }
}
#endif
