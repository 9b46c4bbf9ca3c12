import XCTest
import ExptTestSupport

/// `expt diagnose` with a catastrophic-backtracking rule finishes, names the rule in `warnings`
/// and still answers from the other rules (R11: it used to hang).
final class RegexBudgetEndToEndTests: XCTestCase {
    var expt: ExptBinary!
    var dir: String!

    override func setUpWithError() throws {
        expt = try ExptBinary()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("expt-redos-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func testDiagnoseSkipsACatastrophicRuleAndSaysSo() throws {
        let log = dir + "/stderr.log"
        let text = String(repeating: "a", count: 50_000) + "b\n"
            + "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n"
        try text.write(toFile: log, atomically: true, encoding: .utf8)
        let rules = dir + "/rules.toml"
        try "[[rule]]\nid = \"redos\"\ncategory = \"code_error\"\npatterns = ['(a+)+$']\n"
            .write(toFile: rules, atomically: true, encoding: .utf8)
        let expected = "rule 'redos' exceeded its time limit on \(log):1; skipped"

        // 20 s: a generous ceiling only a hang reaches (the run takes about 0.1 s of regex time).
        let r = try expt.run(["diagnose", "--log", log, "--rules", rules, "--json"], in: dir, timeout: 20)
        XCTAssertEqual(r.status, 0, r.stderr)
        let d = try XCTUnwrap(try r.json() as? [String: Any])
        XCTAssertEqual(d["category"] as? String, "oom_gpu")
        XCTAssertEqual((d["warnings"] as? [String])?.filter { $0.contains("'redos'") }, [expected], "\(d["warnings"] ?? "none")")

        let human = try expt.run(["diagnose", "--log", log, "--rules", rules], in: dir, timeout: 20)
        XCTAssertEqual(human.status, 0, human.stderr)
        XCTAssertTrue(human.stdout.contains("Warning: " + expected), human.stdout)
    }
}
