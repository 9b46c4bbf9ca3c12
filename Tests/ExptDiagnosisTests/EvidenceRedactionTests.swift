import Foundation
import XCTest
import ExptModel
@testable import ExptDiagnosis

/// Evidence is clipped to about 300 characters around the match. A long line is redacted whole
/// before it is clipped, so no clip position can cut a secret off the prefix or name that lets
/// redaction recognise it, and the matched text stays visible.
final class EvidenceRedactionTests: XCTestCase {
    /// Secrets whose telling part comes first, and the part that must never appear.
    static var secrets: [(token: String, secret: String)] {
        // Assembled at run time so no scanner mistakes this file for a leak.
        let c = String(repeating: "A1b2C3d4E5f6G7h8I9j0", count: 3)
        let c36 = String(c.prefix(36)), c30 = String(c.prefix(30))
        let h34 = String(String(repeating: "QwErTyUiOp", count: 4).prefix(34))
        var list: [(token: String, secret: String)] = []
        list.append((token: "ghp_" + c36, secret: c36))
        list.append((token: "AKIA" + "IOSFODNN7EXAMPLE", secret: "IOSFODNN7EXAMPLE"))
        list.append((token: "hf_" + h34, secret: h34))
        list.append((token: "xoxb-1234567890-" + "abcdefghij", secret: "1234567890-abcdefghij"))
        list.append((token: "API_KEY=" + c30, secret: c30))
        list.append((token: "--hub-token " + c30, secret: c30))
        return list
    }

    /// The R4 reproduction: 50 characters, a token, a CUDA OOM message, 150 more characters.
    func testTheReportedLineDoesNotLeakItsToken() throws {
        let token = EvidenceRedactionTests.secrets[0]
        let xs = String(repeating: "x", count: 50), ys = String(repeating: "y", count: 46)
        let zs = String(repeating: "z", count: 150)
        let line = "\(xs) \(token.token) \(ys) RuntimeError: CUDA out of memory. \(zs)"
        let d = try diagnose(text: "step 1/10\n" + line + "\n")
        XCTAssertEqual(d.category, .oomGPU)
        XCTAssertFalse(d.evidence.isEmpty)
        for e in d.evidence {
            XCTAssertFalse(e.text.contains(token.secret), "leaked: \(e.text)")
            XCTAssertFalse(e.text.contains(String(token.secret.suffix(20))), "leaked: \(e.text)")
        }
        XCTAssertTrue(d.evidence.contains { $0.text.contains("CUDA out of memory") }, "\(d.evidence)")
    }

    /// Every clip position across every secret shape, through the whole diagnosis. (The lines
    /// are always longer than the clip: a shorter one is kept whole, and redacted whole where
    /// it is published.)
    func testNoClipPositionLeaksASecret() throws {
        for s in EvidenceRedactionTests.secrets {
            for gap in stride(from: 0, through: 150, by: 3) {
                let xs = String(repeating: "x", count: 50), ys = String(repeating: "y", count: gap)
                let zs = String(repeating: "z", count: 300)
                let line = "\(xs) \(s.token) \(ys) RuntimeError: CUDA out of memory. \(zs)"
                let d = try diagnose(text: "step 1/10\n" + line + "\n")
                for e in d.evidence {
                    XCTAssertFalse(e.text.contains(s.secret), "gap \(gap): leaked in \(e.text)")
                }
                XCTAssertTrue(d.evidence.contains { $0.text.contains("CUDA out of memory") }, "gap \(gap): \(d.evidence)")
            }
        }
    }

    /// The snippet itself, at every offset: the match stays whole and visible, no mark is cut.
    func testSnippetRedactsBeforeClipping() {
        let message = "CUDA out of memory"
        for s in EvidenceRedactionTests.secrets {
            for gap in 0...160 {
                let xs = String(repeating: "x", count: 50), ys = String(repeating: "y", count: gap)
                let zs = String(repeating: "z", count: 400)
                let line = "\(xs) \(s.token) \(ys) RuntimeError: \(message). \(zs)"
                let ns = line as NSString
                let text = CompiledRules.snippet(ns, around: ns.range(of: message))
                XCTAssertFalse(text.contains(s.secret), "gap \(gap): \(text)")
                XCTAssertTrue(text.contains(message), "gap \(gap): \(text)")
                XCTAssertLessThanOrEqual(text.utf16.count, CompiledRules.maxEvidenceChars + 2 * Redactor.mark.utf16.count)
                // A mark is whole or absent: never `ACTED]` or `[REDAC` at the clip's ends (the
                // line has no other brackets).
                let rest = text.replacingOccurrences(of: Redactor.mark, with: "")
                XCTAssertFalse(rest.contains("[") || rest.contains("]"), "gap \(gap): \(text)")
            }
        }
    }

    /// A short line is kept whole (redaction happens where it is published).
    func testShortLinesAreKeptWhole() {
        let line = "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"
        let ns = line as NSString
        XCTAssertEqual(CompiledRules.snippet(ns, around: ns.range(of: "CUDA out of memory")), line)
    }
}
