import Foundation
import XCTest
@testable import ExptDiagnosis

/// A rule regex with catastrophic backtracking (`(a+)+$` on a long run of `a`s) is stopped by its
/// time budget, named in `warnings`, and the other rules still decide (R11).
final class RegexBudgetTests: XCTestCase {
    static let redos = """
    [[rule]]
    id = "redos"
    category = "code_error"
    patterns = ['(a+)+$']
    """
    static let oomLine = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n"
    static let aLine = String(repeating: "a", count: 50_000) + "b\n"

    func diagnoser(_ rules: String, budget: RegexBudget = .default) throws -> Diagnoser {
        var d = Diagnoser(rules: try sharedDiagnoser.rules.merging(text: rules, file: ".expt/rules.toml"))
        d.regexBudget = budget
        return d
    }

    func testCatastrophicRuleIsSkippedAndReportedWhileOtherRulesDecide() throws {
        let d = try diagnoser(RegexBudgetTests.redos)
        let input = DiagnosisInput(logs: [LogInput(label: "stderr.log", text: RegexBudgetTests.aLine + RegexBudgetTests.oomLine)])
        let result = try diagnoseWithCeiling(d, input)
        XCTAssertEqual(result.category, .oomGPU, result.render(explain: true))
        XCTAssertEqual(result.evidence.first?.line, 2)
        let expected = "rule 'redos' exceeded its time limit on stderr.log:1; skipped"
        XCTAssertEqual(result.warnings.filter { $0.contains("'redos'") }, [expected])
        XCTAssertTrue(result.render(explain: false).contains("Warning: " + expected + "\n"), result.render(explain: false))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: try result.jsonData()) as? [String: Any])
        XCTAssertEqual(object["warnings"] as? [String], result.warnings)
    }

    /// Each evaluation stays under its own limit but the rule keeps failing: after its total the
    /// rule is skipped, so 200 such lines cost the per-rule budget, not 200 per-evaluation limits.
    func testRuleIsSkippedForTheRestOfTheDiagnosisOnceItsBudgetIsSpent() throws {
        let d = try diagnoser(RegexBudgetTests.redos, budget: RegexBudget(perEvaluation: 0.05, perRule: 0.2))
        let slow = String(repeating: String(repeating: "a", count: 2_000) + "b\n", count: 200)
        let input = DiagnosisInput(logs: [LogInput(label: "stderr.log", text: slow + RegexBudgetTests.oomLine)])
        let start = Date()
        let result = try diagnoseWithCeiling(d, input)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertLessThan(elapsed, 5, "200 lines × 50 ms would be 10 s without the per-rule budget")
        XCTAssertEqual(result.category, .oomGPU, result.render(explain: true))
        let mine = result.warnings.filter { $0.contains("'redos'") }
        XCTAssertEqual(mine.count, 2, "\(mine)")
        XCTAssertEqual(mine.first, "rule 'redos' exceeded its time limit on stderr.log:1; skipped")
        XCTAssertTrue(mine.last?.hasPrefix("rule 'redos' used up its time budget (0.2 s per diagnosis) at stderr.log:") == true, "\(mine)")
        XCTAssertTrue(mine.last?.hasSuffix("; skipped for the rest of this diagnosis") == true, "\(mine)")
    }

    /// Scheduler-fact rules run through the same budget; a verdict cut short is not remembered,
    /// so a second diagnosis with the same value warns again.
    func testSchedulerFactRuleHasTheSameBudget() throws {
        let rules = """
        [[rule]]
        id = "redos-reason"
        category = "stuck_scheduling"
        source = "pending_reason"
        patterns = ['(a+)+$']
        """
        let d = try diagnoser(rules, budget: RegexBudget(perEvaluation: 0.05, perRule: 1))
        let input = DiagnosisInput(scheduler: SchedulerFacts(state: "PENDING", pendingReason: String(repeating: "a", count: 50_000) + "b"))
        for _ in 0..<2 {
            let result = try diagnoseWithCeiling(d, input)
            XCTAssertEqual(result.warnings.filter { $0.contains("'redos-reason'") },
                           ["rule 'redos-reason' exceeded its time limit on the scheduler's pending reason; skipped"])
            XCTAssertFalse(result.hits.contains { $0.rule == "redos-reason" })
        }
    }

    func testBoundedMatchAnswersLikeFirstMatch() throws {
        let regex = try NSRegularExpression(pattern: "(a+)+$", options: [.anchorsMatchLines])
        func outcome(_ text: String, seconds: Double) -> MatchOutcome {
            let deadline = DispatchTime.now().uptimeNanoseconds + RuleClock.nanos(seconds)
            return RuleClock.firstMatch(regex, in: text, range: NSRange(location: 0, length: (text as NSString).length), deadline: deadline)
        }
        guard case .match(let m) = outcome("xx aaa", seconds: 1) else { return XCTFail("expected a match") }
        XCTAssertEqual(m.range, NSRange(location: 3, length: 3))
        guard case .noMatch = outcome("xyz", seconds: 1) else { return XCTFail("expected no match") }
        let start = Date()
        guard case .exceeded = outcome(String(repeating: "a", count: 5_000) + "b", seconds: 0.05) else {
            return XCTFail("expected the deadline to stop it")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testOrdinaryDiagnosesHaveNoWarnings() throws {
        XCTAssertEqual(try diagnose(fixture: "oom_gpu_traceback.log").warnings, [])
    }
}

private final class DiagnosisBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Result<Diagnosis, Error>?
    var value: Result<Diagnosis, Error>? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

private struct DiagnosisHung: Error, CustomStringConvertible {
    var seconds: TimeInterval
    var description: String { "the diagnosis did not finish within \(Int(seconds)) s (a regex without a time limit?)" }
}

/// `diagnoser.diagnose(input)` on another thread, throwing if it has not returned after `ceiling`
/// seconds: without a budget these inputs never finish, and a hang must fail the test rather than
/// stall the suite. The ceiling is generous; only a hang reaches it.
private func diagnoseWithCeiling(_ diagnoser: Diagnoser, _ input: DiagnosisInput, ceiling: TimeInterval = 20) throws -> Diagnosis {
    let box = DiagnosisBox()
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        box.value = Result { try diagnoser.diagnose(input) }
        done.signal()
    }
    guard done.wait(timeout: .now() + ceiling) == .success, let result = box.value else { throw DiagnosisHung(seconds: ceiling) }
    return try result.get()
}
