import XCTest
@testable import ExptCore
import ExptModel

/// The runner of recorded flows against a real ledger in a temporary directory.
final class JournaledRunnerTests: XCTestCase {
    var dir: String!
    var ledger: Ledger!
    /// Which step bodies ran, in order.
    var ran: [String] = []

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "runner-tests-\(UUID().uuidString)/expt"
        ledger = try Ledger(dir: dir)
        ran = []
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent)
    }

    func runner(dryRun: Bool = false) -> JournaledRunner {
        JournaledRunner(ledger: ledger, flow: "fix:r1", dryRun: dryRun)
    }

    /// A step that records that it ran and journals `value`.
    func step(_ name: String, value: String? = nil) -> JournaledStep {
        .result(name, would: "would \(name)") { [self] () -> String in
            ran.append(name)
            return value ?? "\(name) done"
        }
    }

    func testStepsRunInOrderAndAreJournaled() throws {
        let r = runner()
        try r.run([step("doc"), step("commit"), step("launch")])
        XCTAssertEqual(ran, ["doc", "commit", "launch"])
        XCTAssertEqual(r.reports.map(\.step), ["doc", "commit", "launch"])
        XCTAssertEqual(r.reports.map(\.status), [.done, .done, .done])
        XCTAssertEqual(r.reports.map(\.detail), ["doc done", "commit done", "launch done"])
        XCTAssertEqual(try ledger.journal(flow: "fix:r1").map(\.step), ["doc", "commit", "launch"])
        XCTAssertEqual(try ledger.journalStep(flow: "fix:r1", step: "commit")?.data, "\"commit done\"", "the value, as JSON")
    }

    func testAJournaledStepIsResumedNotRerunAndHandsOnItsValue() throws {
        try runner().run([step("doc"), step("commit", value: "abc123")])
        ran = []
        var kept: String?
        let again = runner()
        let commit = JournaledStep.result("commit", would: "", keep: { (c: String) in kept = c }) { [self] () -> String in
            ran.append("commit")
            return "never"
        }
        try again.run([step("doc"), commit, step("push")])
        XCTAssertEqual(ran, ["push"], "only the step not journaled yet runs")
        XCTAssertEqual(again.reports.map(\.status), [.resumed, .resumed, .done])
        XCTAssertEqual(again.reports[1].detail, "abc123")
        XCTAssertEqual(kept, "abc123", "a resumed step's value reaches the steps after it")
    }

    func testUnreadableJournalDataRedoesTheStep() throws {
        try ledger.recordJournal(flow: "fix:r1", step: "commit", data: "not json")
        let r = runner()
        try r.run([step("commit")])
        XCTAssertEqual(ran, ["commit"])
        XCTAssertEqual(r.reports.first?.status, .done)
    }

    func testDryRunRunsNothingAndSaysWhatItWould() throws {
        let r = runner(dryRun: true)
        try r.run([step("doc"), step("commit"), step("launch")])
        XCTAssertEqual(ran, [])
        XCTAssertEqual(r.reports.map(\.status), [.would, .would, .would])
        XCTAssertEqual(r.reports.map(\.detail), ["would doc", "would commit", "would launch"])
        XCTAssertEqual(try ledger.journal(flow: "fix:r1"), [], "nothing journaled")
    }

    func testDryRunShowsWhatAnInterruptedRunAlreadyDid() throws {
        try runner().run([step("doc")])
        ran = []
        let r = runner(dryRun: true)
        try r.run([step("doc"), step("commit")])
        XCTAssertEqual(ran, [])
        XCTAssertEqual(r.reports.map(\.status), [.resumed, .would])
    }

    func testAReportedOnlyStepIsNotJournaledSoItRunsAgain() throws {
        let skipped = JournaledStep("push", would: "", resume: { _ in "done earlier" }) { [self] in
            ran.append("push")
            return .reported(.skipped, "--no-push")
        }
        let first = runner()
        try first.run([skipped])
        XCTAssertEqual(first.reports, [FixStep(step: "push", status: .skipped, detail: "--no-push")])
        XCTAssertNil(try ledger.journalStep(flow: "fix:r1", step: "push"))
        try runner().run([skipped])
        XCTAssertEqual(ran, ["push", "push"])
    }

    func testAFailedStepIsReportedThenStopsTheFlow() throws {
        let verify = JournaledStep("verify", would: "", resume: { _ in nil }) {
            throw StepFailed(status: .timedOut, detail: "r2 is still pending after 30 s",
                             error: ExptError(.conflict, "the relaunched run r2 did not start within 30 s"))
        }
        let r = runner()
        XCTAssertThrowsError(try r.run([step("launch"), verify, step("after")])) {
            XCTAssertEqual(($0 as? ExptError)?.kind, .conflict, "the step's own error reaches the caller")
        }
        XCTAssertEqual(ran, ["launch"])
        XCTAssertEqual(r.reports.map(\.status), [.done, .timedOut])
        XCTAssertNil(try ledger.journalStep(flow: "fix:r1", step: "verify"))
    }

    func testAValueStepIsMadeOncePreviewedInADryRunAndResumedAfter() throws {
        var made = 0, previewed = 0
        func plan(_ r: JournaledRunner) throws -> String {
            try r.value("plan", detail: { (p: String) in "plan \(p)" },
                        preview: { previewed += 1; return "(next run)" },
                        make: { made += 1; return "r2" })
        }
        let dry = runner(dryRun: true)
        XCTAssertEqual(try plan(dry), "(next run)")
        XCTAssertEqual(dry.reports, [FixStep(step: "plan", status: .would, detail: "plan (next run)")])
        XCTAssertEqual(try ledger.journal(flow: "fix:r1"), [])

        XCTAssertEqual(try plan(runner()), "r2")
        let again = runner()
        XCTAssertEqual(try plan(again), "r2")
        XCTAssertEqual(again.reports.first?.status, .resumed)
        XCTAssertEqual([made, previewed], [1, 1])
    }

    func testStepStatusEncodesAsSnakeCaseStrings() throws {
        let json = String(decoding: try JSONEncoder().encode([StepStatus.timedOut, .would]), as: UTF8.self)
        XCTAssertEqual(json, #"["timed_out","would"]"#)
        let step = try JSONSerialization.jsonObject(with: JSONEncoder().encode(FixStep(step: "push", status: .queued, detail: "x")))
        XCTAssertEqual(step as? [String: String], ["step": "push", "status": "queued", "detail": "x"])
    }
}
