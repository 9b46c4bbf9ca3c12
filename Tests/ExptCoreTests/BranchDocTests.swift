import XCTest
import ExptCore
import ExptModel

final class BranchDocTests: XCTestCase {
    let base = """
    # exp

    ## Purpose

    Test a thing.

    ## Results

    ## Fixes

    <!-- expt appends entries here -->

    """

    func entry(_ n: Int, change: String = "profile highmem") -> String {
        BranchDoc.renderFix(number: n, date: "2026-11-24", category: "oom_host",
                            fields: [("Failed run", "r\(n) (job 1)"), ("Diagnosis", "oom_host"), ("Change", change), ("Relaunched as", "r\(n + 1)")])
    }

    func testParsesSectionsAndAppendsEntriesInOrder() {
        var text = BranchDoc(base).appendingFix(entry(1))
        text = BranchDoc(text).appendingFix(entry(2))
        let doc = BranchDoc(text)
        XCTAssertEqual(doc.sections, ["Purpose", "Results", "Fixes"])
        XCTAssertEqual(doc.fixes.map(\.number), [1, 2])
        XCTAssertEqual(doc.fixes[1].fields["Relaunched as"], "r3")
        XCTAssertEqual(DocRules.check(doc, against: BranchDoc(base)), [])
    }

    func testAppendKeepsLaterSectionsAfterFixes() {
        let withAfter = base + "## Notes\n\nlater\n"
        let doc = BranchDoc(BranchDoc(withAfter).appendingFix(entry(1)))
        XCTAssertEqual(doc.sections, ["Purpose", "Results", "Fixes", "Notes"])
        XCTAssertEqual(doc.fixes.count, 1)
        XCTAssertTrue(doc.text.hasSuffix("## Notes\n\nlater\n"))
    }

    func testRulesCatchMissingSectionsEditsDeletionsAndMalformedEntries() {
        let one = BranchDoc(BranchDoc(base).appendingFix(entry(1)))
        let edited = BranchDoc(one.text.replacingOccurrences(of: "profile highmem", with: "nothing"))
        XCTAssertEqual(DocRules.check(edited, against: one).map(\.message), ["Fixes entry 1 was edited"])
        let deleted = BranchDoc(base)
        XCTAssertEqual(DocRules.check(deleted, against: one).map(\.message), ["Fixes entry 1 was deleted"])
        let noPurpose = BranchDoc(one.text.replacingOccurrences(of: "## Purpose", with: "## Aim"))
        XCTAssertTrue(DocRules.check(noPurpose, against: nil).contains { $0.message.contains("'## Purpose' is missing") })
        let badNumber = BranchDoc(BranchDoc(base).appendingFix(entry(2)))
        XCTAssertTrue(DocRules.check(badNumber, against: nil).contains { $0.message.contains("should be 'Fix 1'") })
        let noChange = BranchDoc(base + "### Fix 1 — 2026-11-24 — x\n- Failed run: r1\n- Diagnosis: x\n")
        XCTAssertTrue(DocRules.check(noChange, against: nil).contains { $0.message.contains("'- Change: …'") })
        let stray = BranchDoc(base + "some note\n")
        XCTAssertTrue(DocRules.check(stray, against: nil).contains { $0.message.contains("outside an entry") })
    }
}
